"""Every API kind the plugin touches, declared once: group, version, plural and scope."""

from dataclasses import dataclass
from typing import Dict


@dataclass(frozen=True)
class Kind:
    kind: str
    group: str
    version: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """kubectl's `plural.group` spelling, e.g. `virtualmachines.kubevirt.io`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace=None, name=None, subresource=None, group_override=None) -> str:
        group = self.group if group_override is None else group_override
        base = f"/apis/{group}/{self.version}" if group else f"/api/{self.version}"
        parts = [base]
        if self.namespaced and namespace:
            parts.append(f"/namespaces/{namespace}")
        parts.append(f"/{self.plural}")
        if name:
            parts.append(f"/{name}")
        if subresource:
            parts.append(f"/{subresource}")
        return "".join(parts)


_ALL: Dict[str, Kind] = {}


def _k(kind, group, version, plural, namespaced=True) -> Kind:
    k = Kind(kind, group, version, plural, namespaced)
    _ALL[kind] = k
    return k


NAMESPACE = _k("Namespace", "", "v1", "namespaces", False)
POD = _k("Pod", "", "v1", "pods")
SERVICE = _k("Service", "", "v1", "services")
CONFIGMAP = _k("ConfigMap", "", "v1", "configmaps")
SECRET = _k("Secret", "", "v1", "secrets")
SERVICEACCOUNT = _k("ServiceAccount", "", "v1", "serviceaccounts")
PVC = _k("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims")
PV = _k("PersistentVolume", "", "v1", "persistentvolumes", False)
NODE = _k("Node", "", "v1", "nodes", False)
EVENT = _k("Event", "", "v1", "events")
RESOURCEQUOTA = _k("ResourceQuota", "", "v1", "resourcequotas")
CONTROLLER_REVISION = _k("ControllerRevision", "apps", "v1", "controllerrevisions")
STORAGECLASS = _k("StorageClass", "storage.k8s.io", "v1", "storageclasses", False)
CSIDRIVER = _k("CSIDriver", "storage.k8s.io", "v1", "csidrivers", False)
NETWORKPOLICY = _k("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies")
ROLE = _k("Role", "rbac.authorization.k8s.io", "v1", "roles")
ROLEBINDING = _k("RoleBinding", "rbac.authorization.k8s.io", "v1", "rolebindings")
CLUSTERROLE = _k("ClusterRole", "rbac.authorization.k8s.io", "v1", "clusterroles", False)
CLUSTERROLEBINDING = _k("ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", "clusterrolebindings", False)
SELFSUBJECTACCESSREVIEW = _k("SelfSubjectAccessReview", "authorization.k8s.io", "v1", "selfsubjectaccessreviews",
                             False)
VOLUMESNAPSHOT = _k("VolumeSnapshot", "snapshot.storage.k8s.io", "v1", "volumesnapshots")
VOLUMESNAPSHOTCLASS = _k("VolumeSnapshotClass", "snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", False)
VM = _k("VirtualMachine", "kubevirt.io", "v1", "virtualmachines")
VMI = _k("VirtualMachineInstance", "kubevirt.io", "v1", "virtualmachineinstances")
VMIM = _k("VirtualMachineInstanceMigration", "kubevirt.io", "v1", "virtualmachineinstancemigrations")
KUBEVIRT = _k("KubeVirt", "kubevirt.io", "v1", "kubevirts")
VM_SNAPSHOT = _k("VirtualMachineSnapshot", "snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshots")
VM_RESTORE = _k("VirtualMachineRestore", "snapshot.kubevirt.io", "v1beta1", "virtualmachinerestores")
VM_EXPORT = _k("VirtualMachineExport", "export.kubevirt.io", "v1beta1", "virtualmachineexports")
INSTANCETYPE = _k("VirtualMachineInstancetype", "instancetype.kubevirt.io", "v1beta1", "virtualmachineinstancetypes")
PREFERENCE = _k("VirtualMachinePreference", "instancetype.kubevirt.io", "v1beta1", "virtualmachinepreferences")
CLUSTER_INSTANCETYPE = _k("VirtualMachineClusterInstancetype", "instancetype.kubevirt.io", "v1beta1",
                          "virtualmachineclusterinstancetypes", False)
CLUSTER_PREFERENCE = _k("VirtualMachineClusterPreference", "instancetype.kubevirt.io", "v1beta1",
                        "virtualmachineclusterpreferences", False)
DATAVOLUME = _k("DataVolume", "cdi.kubevirt.io", "v1beta1", "datavolumes")
DATASOURCE = _k("DataSource", "cdi.kubevirt.io", "v1beta1", "datasources")
STORAGEPROFILE = _k("StorageProfile", "cdi.kubevirt.io", "v1beta1", "storageprofiles", False)
OBJECTTRANSFER = _k("ObjectTransfer", "cdi.kubevirt.io", "v1beta1", "objecttransfers", False)
CDI = _k("CDI", "cdi.kubevirt.io", "v1beta1", "cdis", False)
NAD = _k("NetworkAttachmentDefinition", "k8s.cni.cncf.io", "v1", "network-attachment-definitions")

# The VM lifecycle verbs live in their own API group (PUT .../virtualmachines/{name}/start|stop|restart).
SUBRESOURCES_GROUP = "subresources.kubevirt.io"


def by_kind(kind: str) -> Kind:
    return _ALL[kind]


def for_object(obj: dict) -> Kind:
    """The declared Kind of an object, checked against its apiVersion group."""
    kind = _ALL.get(obj.get("kind", ""))
    if kind is None:
        raise KeyError(f"kind {obj.get('kind')!r} is not one kubectl-vmmove handles")
    return kind


def all_kinds():
    return list(_ALL.values())


# spec.runStrategy values KubeVirt accepts (kubevirt.io/v1 VirtualMachineRunStrategy).
RUN_STRATEGIES = ("Always", "Halted", "Manual", "RerunOnFailure", "Once")

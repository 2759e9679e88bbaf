"""The kinds kubesim serves, declared once: group, versions, plural, scope, short names, status subresource,
printer columns, CRD schema.  Discovery documents are built from these declarations."""

import dataclasses
import functools

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)

AGE = ("Age", "date", ".metadata.creationTimestamp", 0)


@dataclasses.dataclass(frozen=True)
class ResourceType:
    group: str
    versions: tuple          # served versions; the first is the storage version
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple = ()
    categories: tuple = ()
    status: bool = False     # has a status subresource (status only changes through it)
    custom: bool = False     # a CustomResourceDefinition: pruned and validated against ``schema``
    schema: str = None       # path under tests/kubesim/schemas/, None = no schema (anything goes)
    columns: tuple = ()      # CRD additionalPrinterColumns: (name, type, jsonPath, priority)
    verbs: tuple = ALL_VERBS
    generation: bool = None  # maintains metadata.generation; defaults to ``custom``
    virtual: bool = False    # no storage (reviews): the server answers creates itself
    scale: bool = False      # has a scale subresource (discovery only)

    @property
    def version(self):
        return self.versions[0]

    @property
    def key(self):
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular(self):
        return self.kind.lower()

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    def api_version_for(self, version):
        return f"{self.group}/{version}" if self.group else version

    @property
    def tracks_generation(self):
        return self.custom if self.generation is None else self.generation


def _t(group, versions, plural, kind, namespaced=True, **kw):
    if isinstance(versions, str):
        versions = (versions,)
    return ResourceType(group, tuple(versions), plural, kind, namespaced, **kw)


def _crd(group, versions, plural, kind, namespaced=True, **kw):
    kw.setdefault("status", True)
    return _t(group, versions, plural, kind, namespaced, custom=True, **kw)


_KV = ("v1", "v1alpha3")
_READY = ".status.conditions[?(@.type=='Ready')].status"

TYPES = (
    # core/v1
    _t("", "v1", "namespaces", "Namespace", False, short_names=("ns",), status=True),
    _t("", "v1", "pods", "Pod", short_names=("po",), categories=("all",), status=True),
    _t("", "v1", "services", "Service", short_names=("svc",), categories=("all",), status=True),
    _t("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    _t("", "v1", "secrets", "Secret"),
    _t("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    _t("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",), status=True),
    _t("", "v1", "persistentvolumes", "PersistentVolume", False, short_names=("pv",), status=True),
    _t("", "v1", "nodes", "Node", False, short_names=("no",), status=True),
    _t("", "v1", "events", "Event", short_names=("ev",)),
    _t("", "v1", "resourcequotas", "ResourceQuota", short_names=("quota",), status=True),
    _t("", "v1", "endpoints", "Endpoints", short_names=("ep",)),
    _t("apps", "v1", "controllerrevisions", "ControllerRevision"),
    # Workload kinds are stored (manifests that mix them with VMs apply) but no controller runs them.
    _t("apps", "v1", "deployments", "Deployment", short_names=("deploy",), categories=("all",), status=True,
       generation=True),
    _t("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",), categories=("all",), status=True,
       generation=True),
    _t("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",), categories=("all",), status=True,
       generation=True),
    _t("apps", "v1", "daemonsets", "DaemonSet", short_names=("ds",), categories=("all",), status=True,
       generation=True),
    _t("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, short_names=("sc",)),
    _t("storage.k8s.io", "v1", "csidrivers", "CSIDriver", False),
    _t("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short_names=("netpol",), generation=True),
    _t("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _t("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _t("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _t("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _t("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False,
       verbs=CREATE_ONLY, virtual=True),
    _t("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", False,
       verbs=CREATE_ONLY, virtual=True),
    _t("authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview",
       verbs=CREATE_ONLY, virtual=True),
    _t("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False,
       verbs=CREATE_ONLY, virtual=True),
    _t("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False, verbs=CREATE_ONLY,
       virtual=True),
    _t("events.k8s.io", "v1", "events", "Event", short_names=("ev",)),
    # KubeVirt
    _crd("kubevirt.io", _KV, "virtualmachines", "VirtualMachine", short_names=("vm", "vms"), categories=("all",),
         schema="kubevirt.io/virtualmachine_v1.json",
         columns=(AGE, ("Status", "string", ".status.printableStatus", 0), ("Ready", "string", _READY, 0))),
    _crd("kubevirt.io", _KV, "virtualmachineinstances", "VirtualMachineInstance", short_names=("vmi", "vmis"),
         categories=("all",), status=False, schema="kubevirt.io/virtualmachineinstance_v1.json",
         columns=(AGE, ("Phase", "string", ".status.phase", 0),
                  ("IP", "string", ".status.interfaces[0].ipAddress", 0),
                  ("NodeName", "string", ".status.nodeName", 0), ("Ready", "string", _READY, 0),
                  ("Live-Migratable", "string", ".status.conditions[?(@.type=='LiveMigratable')].status", 1),
                  ("Paused", "string", ".status.conditions[?(@.type=='Paused')].status", 1))),
    _crd("kubevirt.io", _KV, "virtualmachineinstancemigrations", "VirtualMachineInstanceMigration",
         short_names=("vmim", "vmims"), categories=("all",),
         columns=(("Phase", "string", ".status.phase", 0), ("VMI", "string", ".spec.vmiName", 0))),
    _crd("kubevirt.io", _KV, "virtualmachineinstancereplicasets", "VirtualMachineInstanceReplicaSet",
         short_names=("vmirs", "vmirss"), categories=("all",), scale=True),
    _crd("kubevirt.io", _KV, "virtualmachineinstancepresets", "VirtualMachineInstancePreset",
         short_names=("vmipreset", "vmipresets"), categories=("all",), status=False),
    _crd("kubevirt.io", _KV, "kubevirts", "KubeVirt", short_names=("kv", "kvs"), categories=("all",),
         columns=(AGE, ("Phase", "string", ".status.phase", 0))),
    _t("subresources.kubevirt.io", ("v1", "v1alpha3"), "virtualmachines", "VirtualMachine", verbs=(), virtual=True),
    _crd("pool.kubevirt.io", ("v1beta1", "v1alpha1"), "virtualmachinepools", "VirtualMachinePool",
         short_names=("vmpool", "vmpools"), categories=("all",)),
    _crd("instancetype.kubevirt.io", "v1beta1", "virtualmachineinstancetypes", "VirtualMachineInstancetype",
         short_names=("vminstancetype", "vminstancetypes", "vmf", "vmfs"), status=False,
         schema="instancetype.kubevirt.io/virtualmachineinstancetype_v1beta1.json"),
    _crd("instancetype.kubevirt.io", "v1beta1", "virtualmachinepreferences", "VirtualMachinePreference",
         short_names=("vmpref", "vmprefs", "vmp", "vmps"), status=False),
    _crd("instancetype.kubevirt.io", "v1beta1", "virtualmachineclusterinstancetypes",
         "VirtualMachineClusterInstancetype", False,
         short_names=("vmclusterinstancetype", "vmclusterinstancetypes", "vmcf", "vmcfs"), status=False,
         schema="instancetype.kubevirt.io/virtualmachineclusterinstancetype_v1beta1.json"),
    _crd("instancetype.kubevirt.io", "v1beta1", "virtualmachineclusterpreferences", "VirtualMachineClusterPreference",
         False, short_names=("vmcp", "vmcps"), status=False),
    _crd("snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshots", "VirtualMachineSnapshot",
         short_names=("vmsnapshot", "vmsnapshots"), categories=("all",),
         columns=(("SourceKind", "string", ".spec.source.kind", 0), ("SourceName", "string", ".spec.source.name", 0),
                  ("Phase", "string", ".status.phase", 0), ("ReadyToUse", "boolean", ".status.readyToUse", 0),
                  ("CreationTime", "date", ".status.creationTime", 0), ("Error", "string", ".status.error.message", 0))),
    _crd("snapshot.kubevirt.io", "v1beta1", "virtualmachinerestores", "VirtualMachineRestore",
         short_names=("vmrestore", "vmrestores"), categories=("all",),
         columns=(("TargetKind", "string", ".spec.target.kind", 0), ("TargetName", "string", ".spec.target.name", 0),
                  ("Complete", "boolean", ".status.complete", 0), ("RestoreTime", "date", ".status.restoreTime", 0),
                  ("Error", "string", ".status.error.message", 0))),
    _crd("export.kubevirt.io", "v1beta1", "virtualmachineexports", "VirtualMachineExport",
         short_names=("vmexport", "vmexports"), categories=("all",),
         columns=(("SourceKind", "string", ".spec.source.kind", 0), ("SourceName", "string", ".spec.source.name", 0),
                  ("Phase", "string", ".status.phase", 0))),
    # CDI
    _crd("cdi.kubevirt.io", "v1beta1", "datavolumes", "DataVolume", short_names=("dv", "dvs"), categories=("all",),
         schema="cdi.kubevirt.io/datavolume_v1beta1.json",
         columns=(("Phase", "string", ".status.phase", 0), ("Progress", "string", ".status.progress", 0),
                  ("Restarts", "integer", ".status.restartCount", 0), AGE)),
    # CDI's CRDs declare no status subresource for storageprofiles, cdis, cdiconfigs and datasources.
    _crd("cdi.kubevirt.io", "v1beta1", "storageprofiles", "StorageProfile", False, status=False),
    _crd("cdi.kubevirt.io", "v1beta1", "objecttransfers", "ObjectTransfer", False, short_names=("ot", "ots"),
         columns=(("Phase", "string", ".status.phase", 0),)),
    _crd("cdi.kubevirt.io", "v1beta1", "cdis", "CDI", False, short_names=("cdi", "cdis"), status=False,
         columns=(AGE, ("Phase", "string", ".status.phase", 0))),
    _crd("cdi.kubevirt.io", "v1beta1", "cdiconfigs", "CDIConfig", False, status=False),
    _crd("cdi.kubevirt.io", "v1beta1", "datasources", "DataSource", short_names=("das",), categories=("all",),
         status=False),
    _crd("cdi.kubevirt.io", "v1beta1", "dataimportcrons", "DataImportCron", short_names=("dic", "dics"),
         categories=("all",)),
    _crd("cdi.kubevirt.io", "v1beta1", "volumeimportsources", "VolumeImportSource", status=False),
    _crd("cdi.kubevirt.io", "v1beta1", "volumeuploadsources", "VolumeUploadSource", status=False),
    _crd("cdi.kubevirt.io", "v1beta1", "volumeclonesources", "VolumeCloneSource", status=False),
    # Multus
    _crd("k8s.cni.cncf.io", "v1", "network-attachment-definitions", "NetworkAttachmentDefinition",
         short_names=("net-attach-def",), status=False,
         schema="k8s.cni.cncf.io/networkattachmentdefinition_v1.json"),
    # CSI snapshots
    _crd("snapshot.storage.k8s.io", "v1", "volumesnapshots", "VolumeSnapshot", short_names=("vs",),
         columns=(("ReadyToUse", "boolean", ".status.readyToUse", 0),
                  ("SourcePVC", "string", ".spec.source.persistentVolumeClaimName", 0),
                  ("SnapshotClass", "string", ".spec.volumeSnapshotClassName", 0), AGE)),
    _crd("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "VolumeSnapshotClass", False,
         short_names=("vsclass", "vsclasses"), status=False,
         columns=(("Driver", "string", ".driver", 0), ("DeletionPolicy", "string", ".deletionPolicy", 0), AGE)),
    _crd("snapshot.storage.k8s.io", "v1", "volumesnapshotcontents", "VolumeSnapshotContent", False,
         short_names=("vsc", "vscs")),
)

# Subresources a served resource has besides status (served by handlers the controllers register).
KUBEVIRT_VM_SUBRESOURCES = ("start", "stop", "restart", "migrate", "expand-spec")

GROUP_ORDER = ("", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "rbac.authorization.k8s.io", "storage.k8s.io",
               "networking.k8s.io")


class Registry:
    """The kinds served by one KubeSim; ``served_groups`` (a set of group names, "" = core) narrows it."""

    def __init__(self, served_groups=None, unserved_resources=()):
        """``unserved_resources``: ``plural.group`` keys left out of groups that are otherwise served, as on a cluster
        where one CRD of an operator is absent (CDI without ``objecttransfers``: its group version still serves the
        other resources, and the discovery list of that version simply lacks the missing one)."""
        if served_groups is not None:
            served_groups = set(served_groups) | {""}
            # A cluster always has the built-in groups the apiserver serves itself.
            served_groups |= {"authorization.k8s.io", "authentication.k8s.io"}
        self.types = tuple(t for t in TYPES if (served_groups is None or t.group in served_groups)
                           and t.key not in set(unserved_resources))
        self._by_key = {t.key: t for t in self.types if not t.virtual or t.verbs}
        self._by_gvr = {}
        for t in self.types:
            for v in t.versions:
                self._by_gvr[(t.group, v, t.plural)] = t
        self._by_kind = {}
        for t in self.types:
            if t.group == "subresources.kubevirt.io":
                continue
            self._by_kind.setdefault(t.kind, t)
            self._by_kind.setdefault(t.kind.lower(), t)
        self._aliases = {}
        for t in self.types:
            if t.group == "subresources.kubevirt.io":
                continue
            for alias in (t.plural, t.singular, *t.short_names, t.key):
                self._aliases.setdefault(alias.lower(), t)

    def groups(self):
        """Served groups in discovery order, each with its versions (preferred first)."""
        seen = {}
        for t in self.types:
            if t.group:
                vs = seen.setdefault(t.group, [])
                for v in t.versions:
                    if v not in vs:
                        vs.append(v)
        order = {g: i for i, g in enumerate(GROUP_ORDER)}
        return sorted(seen.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))

    def serves_group(self, group):
        return group == "" or any(t.group == group for t in self.types)

    def by_gvr(self, group, version, plural):
        return self._by_gvr.get((group, version, plural))

    def by_api_version_kind(self, api_version, kind):
        group, _, version = api_version.rpartition("/")
        for t in self.types:
            if t.kind == kind and t.group == group and version in t.versions and t.group != "subresources.kubevirt.io":
                return t
        return None

    def resolve(self, name):
        """A resource from ``plural.group``, a Kind name, a plural, a singular or a short name."""
        if isinstance(name, ResourceType):
            return name
        t = self._by_key.get(name) or self._by_kind.get(name) or self._aliases.get(name.lower())
        if t is None:
            raise KeyError(f"kubesim does not serve {name!r}")
        return t

    def for_group_version(self, group, version):
        return [t for t in self.types if t.group == group and version in t.versions]


@functools.lru_cache(maxsize=None)
def default_registry():
    return Registry(None)

"""What kube-controller-manager's PV binder, the CSI external-provisioner and the storage admission plugins do:
dynamic provisioning of ``pvc-<uid>`` volumes, binding (immediate or at first consumer), reclaim on release
(Delete or Retain), the manual ``claimRef`` rebind, expansion, and the pvc/pv-protection finalizers.

PVCs whose ``dataSourceRef`` names a populator kind (CDI's VolumeCloneSource and friends) are left to the
populator, as the external-provisioner leaves them: they only bind to a PV that is pre-bound to them.
"""

import copy

from .. import quantity
from ..clock import parse_rfc3339
from .base import Reconciler, annotations, is_deleting, meta

PVC = "persistentvolumeclaims"
PV = "persistentvolumes"
POD = "pods"
SC = "storageclasses.storage.k8s.io"
CSIDRIVER = "csidrivers.storage.k8s.io"
VSC = "volumesnapshotclasses.snapshot.storage.k8s.io"

PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
DEFAULT_CLASS_ANN = "storageclass.kubernetes.io/is-default-class"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
BIND_IMMEDIATE = "cdi.kubevirt.io/storage.bind.immediate.requested"
CORE_DATA_SOURCE_KINDS = ("PersistentVolumeClaim", "VolumeSnapshot")

NODES = ("node01", "node02", "node03")

# Delays of a real control plane that a volume handed from one claim to another goes through (measured on
# kube-apiserver/kube-controller-manager v1.28.7, issue 15): the pvc-protection controller drops the finalizer of a
# deleted claim about 6 s after the delete (it re-checks the pods with a live list before it lets the claim go,
# pkg/controller/volume/pvcprotection), and the PV binder, whose informer cache still holds the volume's old
# claimRef when a claim pre-bound to it appears, binds that claim only at a later periodic sync
# (--pvclaimbinder-sync-period, pkg/controller/volume/persistentvolume/pv_controller_base.go): about 9 s.
PVC_PROTECTION_DELAY = 6.0
REBIND_RESYNC_DELAY = 9.0


def node_objects():
    """The cluster's worker nodes (NODES), schedulable for VMs: the label virt-handler puts on a node it runs on."""
    return [{"apiVersion": "v1", "kind": "Node",
             "metadata": {"name": n, "labels": {"kubernetes.io/hostname": n, "kubernetes.io/os": "linux",
                                                "kubevirt.io/schedulable": "true"}},
             "spec": {},
             "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                        "message": "kubelet is posting ready status"}]}}
            for n in NODES]


def default_storage_objects():
    """StorageClasses, CSIDrivers and a VolumeSnapshotClass a small KubeVirt cluster typically has.

    ``standard`` (default): the hostpath-provisioner CSI driver, expandable, no snapshot class, so CDI clones by
    host copy.
    ``ceph-rbd``: Ceph RBD CSI with a snapshot class; CDI advises csi-clone for it.
    ``local-hostpath``: the legacy (non-CSI) hostpath provisioner, WaitForFirstConsumer, not expandable.
    """
    def sc(name, provisioner, binding="Immediate", expand=None, default=False, params=None):
        obj = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
               "metadata": {"name": name}, "provisioner": provisioner, "reclaimPolicy": "Delete",
               "volumeBindingMode": binding}
        if default:
            obj["metadata"]["annotations"] = {DEFAULT_CLASS_ANN: "true"}
        if expand is not None:
            obj["allowVolumeExpansion"] = expand
        if params:
            obj["parameters"] = params
        return obj

    def driver(name):
        return {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": name},
                "spec": {"attachRequired": True, "podInfoOnMount": False, "volumeLifecycleModes": ["Persistent"],
                         "fsGroupPolicy": "ReadWriteOnceWithFSType", "requiresRepublish": False,
                         "storageCapacity": False, "seLinuxMount": False}}

    return [
        sc("standard", "kubevirt.io.hostpath-provisioner", expand=True, default=True,
           params={"storagePool": "local"}),
        sc("ceph-rbd", "rbd.csi.ceph.com", expand=True,
           params={"clusterID": "rook-ceph", "pool": "replicapool", "imageFeatures": "layering",
                   "csi.storage.k8s.io/fstype": "ext4"}),
        sc("local-hostpath", "kubevirt.io/hostpath-provisioner", binding="WaitForFirstConsumer"),
        driver("kubevirt.io.hostpath-provisioner"),
        driver("rbd.csi.ceph.com"),
        {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
         "metadata": {"name": "ceph-rbd-snapclass"}, "driver": "rbd.csi.ceph.com", "deletionPolicy": "Delete",
         "parameters": {"clusterID": "rook-ceph"}},
    ]


def claim_names_of_pod(pod):
    return [v["persistentVolumeClaim"]["claimName"] for v in (pod.get("spec") or {}).get("volumes") or ()
            if (v.get("persistentVolumeClaim") or {}).get("claimName")]


def pod_is_active(pod):
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def request_bytes(pvc):
    q = (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    return int(quantity.parse(q)) if q is not None else 0


def capacity_bytes(obj):
    """PVC status.capacity or PV spec.capacity in bytes (0 when unknown)."""
    cap = (obj.get("status") or {}).get("capacity") or (obj.get("spec") or {}).get("capacity") or {}
    q = cap.get("storage")
    return int(quantity.parse(q)) if q is not None else 0


def is_populator_claim(pvc):
    ref = (pvc.get("spec") or {}).get("dataSourceRef") or {}
    return bool(ref) and ref.get("kind") not in CORE_DATA_SOURCE_KINDS


class StorageController(Reconciler):
    name = "storage"
    watches = (PVC, PV, POD, SC)

    def __init__(self, sim):
        super().__init__(sim)
        self._pv_for_claim = {}     # (ns, claim name) -> PV name whose claimRef points at it
        self._claim_of_pv = {}      # the reverse
        self._pods_for_claim = {}   # (ns, claim name) -> set of pod names mounting it
        self._pv_seq = 0
        self._told_wffc = set()

    # ---------------------------------------------------------------- indexes
    def observe(self, etype, rkey, obj):
        m = obj.get("metadata") or {}
        if rkey == PV:
            ref = (obj.get("spec") or {}).get("claimRef") or {}
            old = self._claim_of_pv.pop(m.get("name"), None)
            if old is not None and self._pv_for_claim.get(old) == m.get("name"):
                del self._pv_for_claim[old]
            if etype != "DELETED" and ref.get("name"):
                claim = (ref.get("namespace", ""), ref["name"])
                self._pv_for_claim[claim] = m.get("name")
                self._claim_of_pv[m.get("name")] = claim
        elif rkey == POD:
            ns, name = m.get("namespace", ""), m.get("name")
            for claim in claim_names_of_pod(obj):
                pods = self._pods_for_claim.setdefault((ns, claim), set())
                if etype == "DELETED":
                    pods.discard(name)
                else:
                    pods.add(name)

    def keys_for(self, etype, rkey, obj):
        m = obj.get("metadata") or {}
        ns, name = m.get("namespace", ""), m.get("name")
        if rkey == PVC:
            keys = [(PVC, ns, name)]
            vol = (obj.get("spec") or {}).get("volumeName")
            if vol:
                keys.append((PV, "", vol))
            pv = self._pv_for_claim.get((ns, name))
            if pv:
                keys.append((PV, "", pv))
            return keys
        if rkey == PV:
            ref = (obj.get("spec") or {}).get("claimRef") or {}
            keys = [(PV, "", name)]
            if ref.get("name"):
                keys.append((PVC, ref.get("namespace", ""), ref["name"]))
            return keys
        if rkey == POD:
            return [(PVC, ns, c) for c in claim_names_of_pod(obj)]
        if rkey == SC:
            # A new default class or a class appearing lets pending claims proceed.
            return [(PVC, r.obj["metadata"].get("namespace", ""), r.obj["metadata"]["name"])
                    for r in self.store.all_records(PVC) if (r.obj.get("status") or {}).get("phase") != "Bound"] \
                if etype == "ADDED" else []
        return []

    # ---------------------------------------------------------------- admission
    def admit(self, op, resource, obj, old, user):
        rkey = getattr(resource, "key", resource)
        if op != "CREATE":
            return obj
        if rkey == PVC:
            spec = obj.setdefault("spec", {})
            if "storageClassName" not in spec or spec.get("storageClassName") is None:
                # The DefaultStorageClass admission plugin; "" explicitly asks for no class.
                default = self.default_class()
                if default:
                    spec["storageClassName"] = default["metadata"]["name"]
            spec.setdefault("volumeMode", "Filesystem")
            _add_finalizer(obj, PVC_PROTECTION)
            obj.setdefault("status", {}).setdefault("phase", "Pending")
        elif rkey == PV:
            _add_finalizer(obj, PV_PROTECTION)
            spec = obj.setdefault("spec", {})
            spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
            spec.setdefault("volumeMode", "Filesystem")
            obj.setdefault("status", {}).setdefault("phase", "Pending")
        return obj

    # ---------------------------------------------------------------- classes
    def default_class(self):
        defaults = [sc for sc in self.records(SC) if annotations(sc).get(DEFAULT_CLASS_ANN) == "true"]
        # With several defaults the newest wins (Kubernetes >= 1.26).
        defaults.sort(key=lambda s: (s["metadata"].get("creationTimestamp", ""), s["metadata"]["name"]))
        return defaults[-1] if defaults else None

    def storage_class(self, name):
        return self.peek(SC, "", name) if name else None

    def is_csi(self, sc):
        return bool(sc) and self.peek(CSIDRIVER, "", sc.get("provisioner")) is not None

    def pods_using(self, namespace, claim, active_only=True):
        out = []
        for pod_name in sorted(self._pods_for_claim.get((namespace, claim), ())):
            pod = self.peek(POD, namespace, pod_name)
            if pod and (not active_only or pod_is_active(pod)):
                out.append(pod)
        return out

    # ---------------------------------------------------------------- sync
    def sync(self, key, now):
        rkey, ns, name = key
        if rkey == PVC:
            return self._sync_claim(ns, name, now)
        if rkey == PV:
            return self._sync_volume(name, now)
        return False

    def _sync_claim(self, ns, name, now):
        pvc = self.peek(PVC, ns, name)
        if pvc is None:
            return False
        if is_deleting(pvc):
            if PVC_PROTECTION in (pvc["metadata"].get("finalizers") or ()) and not self.pods_using(ns, name):
                if self._not_yet(key_of(pvc), pvc["metadata"]["deletionTimestamp"], PVC_PROTECTION_DELAY, now):
                    return False
                self.store.remove_finalizer(PVC, ns, name, PVC_PROTECTION)
                return True
            return False
        phase = (pvc.get("status") or {}).get("phase")
        if phase == "Bound":
            return self._check_bound_claim(pvc, now)
        # Pending (or Lost claims whose volume came back).
        pv = self._prebound_volume(pvc)
        if pv is not None:
            if not ((pv.get("spec") or {}).get("claimRef") or {}).get("uid") and \
                    self._not_yet(key_of(pvc), pvc["metadata"].get("creationTimestamp"), REBIND_RESYNC_DELAY, now):
                return self._set_claim_phase(pvc, "Pending")    # the binder's cache still has the old claimRef
            return self._bind(pv, pvc, now)
        spec = pvc.get("spec") or {}
        sc = self.storage_class(spec.get("storageClassName"))
        if sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer" and \
                not annotations(pvc).get(SELECTED_NODE):
            users = self.pods_using(ns, name)
            if users or annotations(pvc).get(BIND_IMMEDIATE) == "true":
                # The scheduler picks a node for the first consumer and records it on the claim.
                node = ((users[0].get("spec") or {}).get("nodeName") if users else None) or NODES[0]
                new = copy.deepcopy(pvc)
                meta(new).setdefault("annotations", {})[SELECTED_NODE] = node
                self.store.update(new)
                return True
            changed = self._set_claim_phase(pvc, "Pending")
            if m_uid(pvc) not in self._told_wffc and not is_populator_claim(pvc):
                self._told_wffc.add(m_uid(pvc))
                self.event(pvc, "Normal", "WaitForFirstConsumer",
                           "waiting for first consumer to be created before binding", now,
                           "persistentvolume-controller")
                changed = True
            return changed
        if spec.get("volumeName") or is_populator_claim(pvc) or sc is None:
            return self._set_claim_phase(pvc, "Pending")
        return self._provision(pvc, sc, now)

    def _not_yet(self, key, since, delay, now):
        """True (and a timer set) while less than `delay` seconds passed since the timestamp `since`."""
        if not since:
            return False
        due = parse_rfc3339(since).timestamp() + delay
        if now.timestamp() >= due:
            return False
        self.requeue_after(key, due - now.timestamp(), now)
        return True

    def _prebound_volume(self, pvc):
        m = pvc["metadata"]
        spec = pvc.get("spec") or {}
        candidates = []
        if spec.get("volumeName"):
            candidates.append(spec["volumeName"])
        pv_name = self._pv_for_claim.get((m.get("namespace", ""), m["name"]))
        if pv_name:
            candidates.append(pv_name)
        for pv_name in candidates:
            pv = self.peek(PV, "", pv_name)
            if pv is None or is_deleting(pv):
                continue
            ref = (pv.get("spec") or {}).get("claimRef")
            if ref:
                if ref.get("namespace") != m.get("namespace") or ref.get("name") != m["name"]:
                    continue
                if ref.get("uid") and ref["uid"] != m.get("uid"):
                    continue
            elif not spec.get("volumeName"):
                continue
            if not self._volume_matches(pv, pvc):
                continue
            return pv
        return None

    def _volume_matches(self, pv, pvc):
        ps, cs = pv.get("spec") or {}, pvc.get("spec") or {}
        if (ps.get("storageClassName") or "") != (cs.get("storageClassName") or ""):
            return False
        if (ps.get("volumeMode") or "Filesystem") != (cs.get("volumeMode") or "Filesystem"):
            return False
        if not set(cs.get("accessModes") or ()) <= set(ps.get("accessModes") or ()):
            return False
        return capacity_bytes(pv) >= request_bytes(pvc)

    def _provision(self, pvc, sc, now):
        m = pvc["metadata"]
        spec = pvc.get("spec") or {}
        pv_name = f"pvc-{m['uid']}"
        if self.peek(PV, "", pv_name) is not None:
            return False
        csi = self.is_csi(sc)
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        pv_spec = {
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "capacity": {"storage": storage},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": m["namespace"],
                         "name": m["name"], "uid": m["uid"], "resourceVersion": m.get("resourceVersion")},
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
            "storageClassName": sc["metadata"]["name"],
            "volumeMode": spec.get("volumeMode") or "Filesystem",
        }
        node = annotations(pvc).get(SELECTED_NODE)
        if csi:
            self._pv_seq += 1
            pv_spec["csi"] = {"driver": sc["provisioner"], "fsType": "ext4",
                              "volumeHandle": f"{sc['provisioner']}/{pv_name}",
                              "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity":
                                                   f"kubesim-{sc['provisioner']}"}}
        else:
            pv_spec["hostPath"] = {"path": f"/var/hpvolumes/{pv_name}", "type": ""}
            if node:
                pv_spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}
        if sc.get("mountOptions"):
            pv_spec["mountOptions"] = list(sc["mountOptions"])
        pv = {"apiVersion": "v1", "kind": "PersistentVolume",
              "metadata": {"name": pv_name,
                           "annotations": {"pv.kubernetes.io/provisioned-by": sc["provisioner"]},
                           "finalizers": [PV_PROTECTION] + (["external-provisioner.volume.kubernetes.io/finalizer"]
                                                            if csi else [])},
              "spec": pv_spec}
        created = self.store.create(pv)
        self.store.update({**created, "status": {"phase": "Bound"}}, subresource="status")
        self._pv_for_claim[(m["namespace"], m["name"])] = pv_name
        new = copy.deepcopy(pvc)
        ann = meta(new).setdefault("annotations", {})
        ann["volume.beta.kubernetes.io/storage-provisioner"] = sc["provisioner"]
        ann["volume.kubernetes.io/storage-provisioner"] = sc["provisioner"]
        self.event(pvc, "Normal", "ProvisioningSucceeded", f"Successfully provisioned volume {pv_name}",
                              now, f"{sc['provisioner']}_kubesim" if csi else "persistentvolume-controller")
        self._bind(self.peek(PV, "", pv_name), new, now, claim_is_copy=True)
        return True

    def _bind(self, pv, pvc, now, claim_is_copy=False):
        m = pvc["metadata"]
        pv_new = copy.deepcopy(pv)
        ref = pv_new["spec"].get("claimRef") or {}
        want_ref = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": m["namespace"],
                    "name": m["name"], "uid": m["uid"], "resourceVersion": m.get("resourceVersion")}
        if ref.get("uid") != m["uid"]:
            pv_new["spec"]["claimRef"] = want_ref
            if not ref:
                meta(pv_new).setdefault("annotations", {})["pv.kubernetes.io/bound-by-controller"] = "yes"
            pv_new = self.store.update(pv_new)
        if (pv_new.get("status") or {}).get("phase") != "Bound":
            pv_new["status"] = {"phase": "Bound"}
            pv_new = self.store.update(pv_new, subresource="status")
        self._pv_for_claim[(m["namespace"], m["name"])] = pv["metadata"]["name"]
        claim = pvc if claim_is_copy else copy.deepcopy(pvc)
        claim["metadata"].pop("resourceVersion", None)
        spec = claim.setdefault("spec", {})
        ann = meta(claim).setdefault("annotations", {})
        if not spec.get("volumeName"):
            spec["volumeName"] = pv["metadata"]["name"]
            ann["pv.kubernetes.io/bound-by-controller"] = "yes"
        ann["pv.kubernetes.io/bind-completed"] = "yes"
        stored = self.store.update(claim)
        status = {"phase": "Bound", "accessModes": list(pv_new["spec"].get("accessModes") or ()),
                  "capacity": dict(pv_new["spec"].get("capacity") or {})}
        self.store.update({**stored, "status": status}, subresource="status")
        return True

    def _set_claim_phase(self, pvc, phase):
        status = dict(pvc.get("status") or {})
        if status.get("phase") == phase:
            return False
        status["phase"] = phase
        if phase != "Bound":
            status.pop("capacity", None)
        self.store.update({**pvc, "status": status}, subresource="status")
        return True

    def _check_bound_claim(self, pvc, now):
        m = pvc["metadata"]
        vol = (pvc.get("spec") or {}).get("volumeName")
        pv = self.peek(PV, "", vol) if vol else None
        ref = ((pv or {}).get("spec") or {}).get("claimRef") or {}
        if pv is None or ref.get("uid") != m.get("uid"):
            # The PV went away or now belongs to another claim.
            self.event(pvc, "Warning", "ClaimLost",
                                  "Bound claim has lost its PersistentVolume. Data on the volume is lost!", now,
                                  "persistentvolume-controller")
            return self._set_claim_phase(pvc, "Lost")
        # Expansion: grow the volume when the request exceeds it and the class allows it.
        want, have = request_bytes(pvc), capacity_bytes(pv)
        if want > have:
            sc = self.storage_class((pvc.get("spec") or {}).get("storageClassName"))
            if sc and sc.get("allowVolumeExpansion"):
                storage = pvc["spec"]["resources"]["requests"]["storage"]
                pv_new = copy.deepcopy(pv)
                pv_new["spec"]["capacity"]["storage"] = storage
                self.store.update(pv_new)
                status = copy.deepcopy(pvc.get("status") or {})
                status["capacity"] = {"storage": storage}
                self.store.update({**pvc, "status": status}, subresource="status")
                self.event(pvc, "Normal", "FileSystemResizeSuccessful",
                                      f"MountVolume.NodeExpandVolume succeeded for volume \"{vol}\"", now, "kubelet")
                return True
        return False

    def _sync_volume(self, name, now):
        pv = self.peek(PV, "", name)
        if pv is None:
            return False
        spec = pv.get("spec") or {}
        ref = spec.get("claimRef")
        phase = (pv.get("status") or {}).get("phase")
        if is_deleting(pv):
            if phase != "Bound":
                changed = False
                for fin in (PV_PROTECTION, "external-provisioner.volume.kubernetes.io/finalizer"):
                    if self.store.remove_finalizer(PV, "", name, fin) is not None:
                        changed = True
                return changed
        if not ref:
            return self._set_volume_phase(pv, "Available")
        claim = self.peek(PVC, ref.get("namespace", ""), ref.get("name"))
        if not ref.get("uid"):
            # Reserved for a claim that may not exist yet (pre-binding / the manual rebind flow).
            if claim is not None and not is_deleting(claim) and (claim.get("status") or {}).get("phase") != "Bound":
                self.enqueue((PVC, ref.get("namespace", ""), ref["name"]))
            return self._set_volume_phase(pv, "Available")
        if claim is not None and claim["metadata"].get("uid") == ref["uid"]:
            if (claim.get("status") or {}).get("phase") != "Bound":
                self.enqueue((PVC, ref.get("namespace", ""), ref["name"]))
            return self._set_volume_phase(pv, "Bound")
        # The claim is gone: reclaim.
        policy = spec.get("persistentVolumeReclaimPolicy") or "Retain"
        changed = self._set_volume_phase(pv, "Released")
        if policy == "Delete" and not is_deleting(pv):
            self.store.delete(PV, "", name)
            return True
        return changed

    def _set_volume_phase(self, pv, phase):
        status = dict(pv.get("status") or {})
        if status.get("phase") == phase:
            return False
        status["phase"] = phase
        self.store.update({**pv, "status": status}, subresource="status")
        return True


def key_of(pvc):
    return (PVC, pvc["metadata"].get("namespace", ""), pvc["metadata"]["name"])


def m_uid(obj):
    return (obj.get("metadata") or {}).get("uid")


def _add_finalizer(obj, fin):
    fins = meta(obj).setdefault("finalizers", [])
    if fin not in fins:
        fins.append(fin)



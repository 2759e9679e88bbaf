"""CDI's ObjectTransfer controller (pkg/controller/transfer): moves a PVC (or a DataVolume and its PVC) to another
namespace by rebinding its PersistentVolume.  Zero copy: the time it takes does not depend on the size."""

import copy
import json

from .base import Reconciler, annotations, is_deleting, set_condition
from .cdi_admission import POPULATED_FOR, PRE_POPULATED
from .storage import PV, PVC

OT = "objecttransfers.cdi.kubevirt.io"
DV = "datavolumes.cdi.kubevirt.io"
POD = "pods"
TAKEN_BY = "cdi.kubevirt.io/objectTransferName"
BLOCKING_FINALIZERS = ("provisioner.storage.kubernetes.io/cloning-protection",
                       "snapshot.storage.kubernetes.io/pvc-as-source-protection")


class ObjectTransferController(Reconciler):
    name = "cdi-transfer"
    component = "transfer-controller"
    watches = (OT, PVC, PV, POD, DV)
    retry_seconds = 2.0

    def __init__(self, sim, storage):
        super().__init__(sim)
        self.storage = storage

    def keys_for(self, etype, rkey, obj):
        if rkey == OT:
            return [(OT, "", obj["metadata"]["name"])]
        # Any PVC, PV, pod or DV change may unblock a transfer; there are few of them.
        return [(OT, "", r.obj["metadata"]["name"]) for r in self.store.all_records(OT)
                if (r.obj.get("status") or {}).get("phase") not in ("Complete", "Error")]

    def sync(self, key, now):
        ot = self.peek(OT, "", key[2])
        if ot is None or is_deleting(ot):
            return False
        status = copy.deepcopy(ot.get("status") or {})
        phase = status.get("phase") or ""
        if phase in ("Complete", "Error"):
            return False
        if (ot["spec"].get("source") or {}).get("kind") == "DataVolume":
            return self._sync_dv(ot, status, now)
        return self._sync_pvc(ot, status, now)

    def _target(self, ot):
        src, tgt = ot["spec"]["source"], ot["spec"].get("target") or {}
        return tgt.get("namespace") or src["namespace"], tgt.get("name") or src["name"]

    def _write(self, ot, status, now, phase, complete, reason="", message=""):
        status["phase"] = phase
        set_condition(status, "Complete", "True" if complete else "False", reason, message, now, probe=True)
        return self.update_status(ot, status)

    def _blocked(self, ot, status, now, reason):
        self.requeue_after((OT, "", ot["metadata"]["name"]), self.retry_seconds, now)
        return self._write(ot, status, now, "Running" if status.get("phase") == "Running" else "Pending", False,
                           reason)

    # ---------------------------------------------------------------- PVC transfer (pvc.go)
    def _sync_pvc(self, ot, status, now):
        src = ot["spec"]["source"]
        sns, sname = src["namespace"], src["name"]
        tns, tname = self._target(ot)
        data = status.setdefault("data", {})
        source = self.peek(PVC, sns, sname)
        if "pvName" not in data:
            if source is None:
                return self._blocked(ot, status, now, "Source does not exist")
            if (source.get("status") or {}).get("phase") != "Bound":
                return self._blocked(ot, status, now, "PVC not bound")
            taken = annotations(source).get(TAKEN_BY)
            if taken and taken != ot["metadata"]["name"]:
                return self._blocked(ot, status, now, "Source in use by another transfer")
            if set(BLOCKING_FINALIZERS) & set(source["metadata"].get("finalizers") or ()):
                return self._blocked(ot, status, now, "PVC has finalizer")
            for ann in src.get("requiredAnnotations") or {}:
                if annotations(source).get(ann) != src["requiredAnnotations"][ann]:
                    return self._blocked(ot, status, now, "Missing required annotation")
            if self.storage.pods_using(sns, sname):
                return self._blocked(ot, status, now, "Pods using PVC")
            pv = self.peek(PV, "", source["spec"].get("volumeName"))
            if pv is None or ((pv.get("spec") or {}).get("claimRef") or {}).get("uid") != source["metadata"]["uid"]:
                return self._blocked(ot, status, now, "PV not bound to PVC")
            if not taken:
                new = copy.deepcopy(source)
                new["metadata"].setdefault("annotations", {})[TAKEN_BY] = ot["metadata"]["name"]
                self.store.update(new)
            data["pvName"] = pv["metadata"]["name"]
            data["pvReclaim"] = pv["spec"].get("persistentVolumeReclaimPolicy") or "Delete"
            data["pvcObject"] = json.dumps(self.store.get(PVC, sns, sname), sort_keys=True)
            self._write(ot, status, now, "Running", False, "Running")
            return True
        pv = self.peek(PV, "", data["pvName"])
        if pv is None:
            return self._write(ot, status, now, "Error", False, "PV gone")
        if pv["spec"].get("persistentVolumeReclaimPolicy") != "Retain" and "restored" not in data:
            new = copy.deepcopy(pv)
            new["spec"]["persistentVolumeReclaimPolicy"] = "Retain"
            self.store.update(new)
            return True
        if source is not None and not is_deleting(source) and \
                source["metadata"]["uid"] == json.loads(data["pvcObject"])["metadata"]["uid"]:
            self.store.delete(PVC, sns, sname)
            return True
        if source is not None and source["metadata"]["uid"] == json.loads(data["pvcObject"])["metadata"]["uid"]:
            # CDI only deletes the source and waits while it still exists (pkg/controller/transfer/pvc.go,
            # ReconcileRunning): its kubernetes.io/pvc-protection finalizer is the controller-manager's to drop
            # (storage.py models when).
            return self._blocked(ot, status, now, "Waiting for source PVC deletion")
        ref = pv["spec"].get("claimRef") or {}
        target = self.peek(PVC, tns, tname)
        if target is None:
            if ref.get("namespace") != tns or ref.get("name") != tname:
                new = copy.deepcopy(pv)
                new["spec"]["claimRef"] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": tns,
                                           "name": tname}
                self.store.update(new)
                return True
            self.store.create(self._target_claim(json.loads(data["pvcObject"]), tns, tname))
            return True
        if (target.get("status") or {}).get("phase") != "Bound":
            return self._blocked(ot, status, now, "Waiting for target to be bound")
        if pv["spec"].get("persistentVolumeReclaimPolicy") != data["pvReclaim"]:
            new = copy.deepcopy(pv)
            new["spec"]["persistentVolumeReclaimPolicy"] = data["pvReclaim"]
            self.store.update(new)
            data["restored"] = "true"
            self.update_status(ot, status)
            return True
        return self._write(ot, status, now, "Complete", True, "Transfer complete")

    def _target_claim(self, source, tns, tname):
        obj = copy.deepcopy(source)
        m = obj["metadata"]
        same_ns = m.get("namespace") == tns
        for field in ("uid", "resourceVersion", "creationTimestamp", "managedFields", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "selfLink", "generation"):
            m.pop(field, None)
        m["namespace"], m["name"] = tns, tname
        if not same_ns:
            m.pop("ownerReferences", None)
        ann = m.get("annotations") or {}
        for k in ("pv.kubernetes.io/bind-completed", TAKEN_BY):
            ann.pop(k, None)
        obj.pop("status", None)
        return self.storage.admit("CREATE", PVC, obj, None, None)

    # ---------------------------------------------------------------- DataVolume transfer (dv.go)
    def _sync_dv(self, ot, status, now):
        src = ot["spec"]["source"]
        sns, sname = src["namespace"], src["name"]
        tns, tname = self._target(ot)
        data = status.setdefault("data", {})
        child = f"pvc-transfer-{ot['metadata']['uid']}"
        if "dvObject" not in data:
            dv = self.peek(DV, sns, sname)
            if dv is None:
                return self._blocked(ot, status, now, "Source does not exist")
            if (dv.get("status") or {}).get("phase") != "Succeeded":
                return self._blocked(ot, status, now, "DataVolume not succeeded")
            if self.storage.pods_using(sns, sname):
                return self._blocked(ot, status, now, "Pods using DataVolume PVC")
            data["dvObject"] = json.dumps(self.store.get(DV, sns, sname), sort_keys=True)
            self._write(ot, status, now, "Running", False, "Running")
            return True
        dv = self.peek(DV, sns, sname)
        pvc = self.peek(PVC, sns, sname)
        if dv is not None:
            if pvc is not None and any(r.get("kind") == "DataVolume" for r in pvc["metadata"].get("ownerReferences")
                                       or ()):
                new = copy.deepcopy(pvc)
                new["metadata"]["ownerReferences"] = [r for r in new["metadata"]["ownerReferences"]
                                                      if r.get("kind") != "DataVolume"] or None
                (new["metadata"].get("annotations") or {}).pop(POPULATED_FOR, None)
                self.store.update(new)
                return True
            if not is_deleting(dv):
                self.store.delete(DV, sns, sname)
                return True
            return self._blocked(ot, status, now, "Waiting for source DataVolume deletion")
        if self.peek(OT, "", child) is None and self.peek(PVC, tns, tname) is None:
            self.store.create({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "ObjectTransfer",
                               "metadata": {"name": child},
                               "spec": {"source": {"kind": "PersistentVolumeClaim", "namespace": sns, "name": sname},
                                        "target": {"namespace": tns, "name": tname},
                                        "parentName": ot["metadata"]["name"]}})
            return True
        child_ot = self.peek(OT, "", child)
        if child_ot is not None and ((child_ot.get("status") or {}).get("phase")) != "Complete":
            return self._blocked(ot, status, now, "Waiting for PVC transfer")
        target_pvc = self.peek(PVC, tns, tname)
        if target_pvc is not None and annotations(target_pvc).get(POPULATED_FOR) != tname:
            new = copy.deepcopy(target_pvc)
            new["metadata"].setdefault("annotations", {})[POPULATED_FOR] = tname
            self.store.update(new)
            return True
        if self.peek(DV, tns, tname) is None:
            old = json.loads(data["dvObject"])
            dv_new = {"apiVersion": old["apiVersion"], "kind": "DataVolume",
                      "metadata": {"name": tname, "namespace": tns,
                                   "labels": old["metadata"].get("labels") or {},
                                   "annotations": {k: v for k, v in (old["metadata"].get("annotations") or {}).items()
                                                   if not k.startswith("cdi.kubevirt.io/storage.clone.token")
                                                   and k != "cdi.kubevirt.io/storage.extended.clone.token"}},
                      "spec": old["spec"]}
            dv_new["metadata"]["annotations"][PRE_POPULATED] = tname
            self.store.create(dv_new)
            return True
        return self._write(ot, status, now, "Complete", True, "Transfer complete")

"""CDI's controllers: the CDI and CDIConfig objects, StorageProfiles, and DataVolumes (imports, blank disks, clones
through the VolumeCloneSource populator or the legacy host-assisted path, claim adoption, pre-populated claims).

A clone runs the way CDI's planner runs it (pkg/controller/clone): pick a strategy (CDI override, StorageProfile,
snapshot) and fall back to host copy with a Warning event and ``cdi.kubevirt.io/cloneFallbackReason``; build a
temporary claim ``tmp-pvc-<target uid>`` in the source namespace; wait while the source is mounted by a running
pod (``CloneSourceInUse``); fill it (CSI clone, snapshot + restore, or host copy with progress); then rebind its
PV to the target claim.  Durations are simulated seconds from ``CloneRates``; failures injected with
``sim.faults.fail_clone`` show up as CDI shows them in the populator flow (phase kept, Running=False/Error,
``cdi.kubevirt.io/cloneError``, a Warning event).
"""

import copy
import dataclasses

from ..errors import ApiError
from . import cdi_admission
from .base import (
    Reconciler,
    annotations,
    controller_of,
    get_condition,
    is_controlled_by,
    is_deleting,
    is_quota_exceeded,
    owner_ref,
    set_condition,
)
from .storage import BIND_IMMEDIATE, PVC, SC, SELECTED_NODE, VSC, request_bytes

DV = "datavolumes.cdi.kubevirt.io"
POD = "pods"
PROFILE = "storageprofiles.cdi.kubevirt.io"
CDI_CR = "cdis.cdi.kubevirt.io"
CDI_CONFIG = "cdiconfigs.cdi.kubevirt.io"
# CDI pkg/common/common.go DefaultGlobalOverhead
DEFAULT_FILESYSTEM_OVERHEAD = "0.06"
CLONE_SOURCE = "volumeclonesources.cdi.kubevirt.io"
SNAPSHOT = "volumesnapshots.snapshot.storage.k8s.io"

CDI_VERSION = "v1.61.0"
DV_FINALIZER = "cdi.kubevirt.io/dataVolumeFinalizer"

ANN_CLONE_PHASE = "cdi.kubevirt.io/clonePhase"
ANN_CLONE_ERROR = "cdi.kubevirt.io/cloneError"
ANN_FALLBACK = "cdi.kubevirt.io/cloneFallbackReason"
ANN_DS_NAMESPACE = "cdi.kubevirt.io/dataSourceNamespace"
ANN_PROGRESS = "cdi.kubevirt.io/storage.populator.progress"
ANN_RUNNING = "cdi.kubevirt.io/storage.condition.running"
ANN_RUNNING_REASON = "cdi.kubevirt.io/storage.condition.running.reason"
ANN_RUNNING_MESSAGE = "cdi.kubevirt.io/storage.condition.running.message"
ANN_USE_POPULATOR = "cdi.kubevirt.io/storage.usePopulator"
ANN_POD_PHASE = "cdi.kubevirt.io/storage.pod.phase"
ANN_CLONE_REQUEST = "k8s.io/CloneRequest"
ANN_CONTENT_TYPE = "cdi.kubevirt.io/storage.contentType"
ANN_PRIME = "cdi.kubevirt.io/storage.populator.pvcPrime"
ANN_CLONE_STRATEGY_SC = "cdi.kubevirt.io/clone-strategy"
ANN_PERMISSIVE = "cdi.kubevirt.io/permissiveClone"
ANN_OWNED_BY_DV = "cdi.kubevirt.io/storage.ownedByDataVolume"
# The label the clone populator's planner puts on what it creates for a target claim, and cleans up by.
LABEL_OWNED_BY_UID = "cdi.kubevirt.io/OwnedByUID"
# pkg/controller/common: the event reason for a create the ResourceQuota refused.
ERR_EXCEEDED_QUOTA = "ErrExceededQuota"

# pkg/storagecapabilities: access mode / volume mode pairs and advised clone strategies per provisioner.
RWO, RWX = "ReadWriteOnce", "ReadWriteMany"
CAPABILITIES = {
    "kubevirt.io/hostpath-provisioner": [(RWO, "Filesystem")],
    "kubevirt.io.hostpath-provisioner": [(RWO, "Filesystem")],
    "rbd.csi.ceph.com": [(RWX, "Block"), (RWO, "Block"), (RWO, "Filesystem")],
    "pd.csi.storage.gke.io": [(RWO, "Block"), (RWO, "Filesystem")],
    "ebs.csi.aws.com": [(RWO, "Block")],
    "nfs.csi.k8s.io": [(RWX, "Filesystem")],
    "cephfs.csi.ceph.com": [(RWX, "Filesystem"), (RWO, "Filesystem")],
    "csi.trident.netapp.io/ontap-nas": [(RWX, "Filesystem"), (RWO, "Filesystem")],
}
ADVISED_STRATEGY = {
    "rbd.csi.ceph.com": "csi-clone", "cephfs.csi.ceph.com": "csi-clone", "pd.csi.storage.gke.io": "snapshot",
    "csi.trident.netapp.io/ontap-nas": "snapshot", "topolvm.io": "copy",
}

PHASE_FOR_CLONE_STEP = {"": "CloneScheduled", "Pending": "CloneScheduled", "CSIClone": "CSICloneInProgress",
                        "Snapshot": "SnapshotForSmartCloneInProgress",
                        "SnapshotClone": "CloneFromSnapshotSourceInProgress", "HostClone": "CloneInProgress",
                        "PrepClaim": "PrepClaimInProgress", "Rebind": "RebindInProgress", "Succeeded": "Succeeded"}

FALLBACK_MESSAGES = {
    "NoVolumeSnapshotClass": "No compatible volumesnapshotclass found",
    "IncompatibleProvisioners": "Provisioners are incompatible",
    "IncompatibleVolumeModes": "The volume modes of source and target are incompatible",
    "NoVolumeExpansion": "No volume expansion is possible",
    "NoProvisionerMatch": "The storageclass provisioner does not match the volumesnapshotcontent driver",
}

IMPORT_SOURCES = ("http", "s3", "gcs", "registry", "imageio", "vddk")


@dataclasses.dataclass
class CloneRates:
    """Simulated durations: CSI clones and snapshots take seconds whatever the size; host copy and imports run at
    a byte rate (100 GiB at 100 MiB/s is about 17 simulated minutes)."""
    csi_clone_seconds: float = 6.0
    snapshot_seconds: float = 5.0
    snapshot_restore_seconds: float = 5.0
    prep_claim_seconds: float = 2.0
    rebind_seconds: float = 1.0
    host_copy_bytes_per_second: float = 100 * 2 ** 20
    import_bytes_per_second: float = 50 * 2 ** 20
    blank_seconds: float = 2.0
    source_in_use_retry_seconds: float = 5.0
    progress_interval_seconds: float = 5.0
    # CDI does not watch ResourceQuotas: a create they refused is retried on the work queue's backoff.
    quota_retry_seconds: float = 10.0


def cdi_objects():
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cdi", "labels": {"cdi.kubevirt.io": ""}}},
        {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "CDI", "metadata": {"name": "cdi"},
         "spec": {"config": {"featureGates": ["HonorWaitForFirstConsumer"]}, "imagePullPolicy": "IfNotPresent",
                  "infra": {}, "workload": {}}},
        {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "CDIConfig", "metadata": {"name": "config"},
         "spec": {"featureGates": ["HonorWaitForFirstConsumer"]}},
    ]


def cdi_status():
    return {"phase": "Deployed", "observedVersion": CDI_VERSION, "operatorVersion": CDI_VERSION,
            "targetVersion": CDI_VERSION,
            "conditions": [{"type": "Available", "status": "True", "reason": "DeployCompleted",
                            "message": "Deployment Completed"},
                           {"type": "Progressing", "status": "False", "reason": "DeployCompleted"},
                           {"type": "Degraded", "status": "False"}]}


def percent(fraction):
    return f"{min(100.0, max(0.0, fraction * 100)):.2f}%"


@dataclasses.dataclass
class Clone:
    """What CDI keeps in the target claim's annotations, plus the simulated start time of the current step."""
    strategy: str = ""
    step: str = "Pending"
    step_started: float = 0.0
    tmp_claim: str = ""
    tmp_snapshot: str = ""
    source_ns: str = ""
    source_name: str = ""
    source_kind: str = "pvc"
    size: int = 0
    failed: bool = False
    legacy: bool = False


class CDIController(Reconciler):
    name = "cdi"
    component = "datavolume-controller"
    watches = (DV, PVC, POD, SC, PROFILE, CDI_CR, VSC, "datasources.cdi.kubevirt.io")

    def __init__(self, sim, rng, storage, rates=None):
        super().__init__(sim)
        self.rng = rng
        self.storage = storage
        self.rates = rates or CloneRates()
        self._clones = {}              # DV uid -> Clone
        self._dvs_for_source = {}      # (ns, source name) -> {(ns, dv name)}
        self._dv_for_tmp = {}          # (ns, tmp claim) -> (ns, dv name)
        self._warned = set()

    # ---------------------------------------------------------------- queueing
    def observe(self, etype, rkey, obj):
        if rkey != DV:
            return
        m = obj["metadata"]
        src = ((obj.get("spec") or {}).get("source") or {})
        for kind in ("pvc", "snapshot"):
            if src.get(kind):
                key = (src[kind].get("namespace") or m.get("namespace", ""), src[kind].get("name"))
                s = self._dvs_for_source.setdefault(key, set())
                (s.discard if etype == "DELETED" else s.add)((m.get("namespace", ""), m["name"]))

    def keys_for(self, etype, rkey, obj):
        m = obj.get("metadata") or {}
        ns, name = m.get("namespace", ""), m.get("name")
        if rkey == DV:
            return [(DV, ns, name)]
        if rkey == PVC:
            keys = [(DV, ns, name)]
            keys += [(DV, n, d) for n, d in sorted(self._dvs_for_source.get((ns, name), ()))]
            if (ns, name) in self._dv_for_tmp:
                keys.append((DV,) + self._dv_for_tmp[(ns, name)])
            ref = controller_of(obj)
            if ref and ref.get("kind") == "DataVolume":
                keys.append((DV, ns, ref["name"]))
            return keys
        if rkey == POD:
            keys = []
            for v in (obj.get("spec") or {}).get("volumes") or ():
                claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
                if claim:
                    keys += [(DV, n, d) for n, d in sorted(self._dvs_for_source.get((ns, claim), ()))]
                    keys.append((DV, ns, claim))
            return keys
        if rkey in (SC, VSC):
            return [(PROFILE, "", "*")] + self._unfinished()
        if rkey == PROFILE:
            return [(PROFILE, "", "*")] + self._unfinished()
        if rkey == CDI_CR:
            return [(CDI_CR, "", name)] + self._unfinished()
        return self._unfinished()

    def _unfinished(self):
        return [(DV, r.obj["metadata"]["namespace"], r.obj["metadata"]["name"]) for r in self.store.all_records(DV)
                if (r.obj.get("status") or {}).get("phase") != "Succeeded"]

    # ---------------------------------------------------------------- sync
    def sync(self, key, now):
        rkey, ns, name = key
        if rkey == PROFILE:
            return self.sync_profiles()
        if rkey == CDI_CR:
            return False
        dv = self.peek(DV, ns, name)
        if dv is None:
            return False
        return self._sync_dv(dv, now)

    # ---------------------------------------------------------------- storage profiles
    def sync_profiles(self):
        changed = False
        snap_classes = self.records(VSC)
        for sc in self.records(SC):
            name = sc["metadata"]["name"]
            prof = self.peek(PROFILE, "", name)
            if prof is None:
                prof = self.store.create({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "StorageProfile",
                                          "metadata": {"name": name, "labels": {
                                              "app": "containerized-data-importer",
                                              "app.kubernetes.io/component": "storage",
                                              "app.kubernetes.io/managed-by": "cdi-controller",
                                              "cdi.kubevirt.io": ""},
                                              "ownerReferences": [owner_ref(sc, block=True)]},
                                          "spec": {}})
                changed = True
            spec = prof.get("spec") or {}
            provisioner = sc.get("provisioner")
            snap = next((c["metadata"]["name"] for c in sorted(snap_classes, key=lambda c: c["metadata"]["name"])
                         if c.get("driver") == provisioner), "")
            if spec.get("claimPropertySets"):
                sets = copy.deepcopy(spec["claimPropertySets"])
            else:
                sets = [{"accessModes": [am], "volumeMode": vm} for am, vm in CAPABILITIES.get(provisioner, ())]
            status = {"storageClass": name, "provisioner": provisioner, "claimPropertySets": sets,
                      "cloneStrategy": self._profile_strategy(sc, spec.get("cloneStrategy"), snap),
                      "dataImportCronSourceFormat": "pvc"}
            if snap:
                status["snapshotClass"] = snap
            if not sets:
                status.pop("claimPropertySets")
            changed |= self.update_status(prof, status)
        return changed

    @staticmethod
    def _profile_strategy(sc, desired, snap_class):
        if desired:
            return desired
        ann = annotations(sc).get(ANN_CLONE_STRATEGY_SC)
        if ann in ("copy", "snapshot", "csi-clone"):
            return ann
        strategy = "snapshot" if snap_class else "copy"
        strategy = ADVISED_STRATEGY.get(sc.get("provisioner"), strategy)
        if strategy == "snapshot" and not snap_class:
            return "copy"
        return strategy

    # ---------------------------------------------------------------- claim spec rendering
    def _claim_spec(self, dv):
        """The target PVC spec: ``spec.pvc`` verbatim, or ``spec.storage`` completed from the StorageProfile."""
        spec = dv.get("spec") or {}
        if spec.get("pvc"):
            out = copy.deepcopy(spec["pvc"])
            if "storageClassName" not in out:
                default = self.storage.default_class()
                if default:
                    out["storageClassName"] = default["metadata"]["name"]
            out.setdefault("volumeMode", "Filesystem")
            return out, None
        storage = copy.deepcopy(spec.get("storage") or {})
        sc_name = storage.get("storageClassName")
        if sc_name is None:
            default = self.storage.default_class()
            if default is None:
                return None, "no default storage class"
            sc_name = storage["storageClassName"] = default["metadata"]["name"]
        prof = self.peek(PROFILE, "", sc_name)
        sets = ((prof or {}).get("status") or {}).get("claimPropertySets") or []
        if not storage.get("accessModes"):
            match = next((s for s in sets if not storage.get("volumeMode")
                          or s.get("volumeMode") == storage["volumeMode"]), None)
            if match is None:
                return None, (f"DataVolume.storage spec is missing accessMode and volumeMode, cannot get access "
                              f"mode from StorageProfile {sc_name}")
            storage["accessModes"] = list(match["accessModes"])
            storage.setdefault("volumeMode", match.get("volumeMode") or "Filesystem")
        elif not storage.get("volumeMode"):
            match = next((s for s in sets if set(storage["accessModes"]) <= set(s.get("accessModes") or ())), None)
            storage["volumeMode"] = (match or {}).get("volumeMode") or "Filesystem"
        if not ((storage.get("resources") or {}).get("requests") or {}).get("storage"):
            src = cdi_admission.clone_source(self.store, dv)
            size = None
            if src and src[0] == "pvc":
                source = self.peek(PVC, src[1], src[2])
                size = ((source or {}).get("status") or {}).get("capacity", {}).get("storage") or \
                    (((source or {}).get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")
            if size is None:
                return None, "waiting for the clone source to determine the size"
            storage.setdefault("resources", {}).setdefault("requests", {})["storage"] = size
        elif storage.get("volumeMode", "Filesystem") == "Filesystem":
            # renderPvcSpecVolumeSize: a size given in the `storage` API is inflated by the filesystem overhead on
            # Filesystem claims, clones included (CDI pkg/controller/datavolume/util.go; InflateSizeWithOverhead and
            # util.GetRequiredSpace: round up to 1 MiB, then * (1 + overhead), rounded up).
            requests = storage["resources"]["requests"]
            requests["storage"] = str(self._with_filesystem_overhead(requests["storage"], sc_name))
        return storage, None

    def _with_filesystem_overhead(self, size, sc_name):
        import math

        from .. import quantity

        status = (self.peek(CDI_CONFIG, "", "config") or {}).get("status") or {}
        overheads = status.get("filesystemOverhead") or {}
        overhead = (overheads.get("storageClass") or {}).get(sc_name) or overheads.get("global") or \
            DEFAULT_FILESYSTEM_OVERHEAD
        block = 1 << 20
        aligned = -(-math.ceil(quantity.parse(size)) // block) * block
        return math.ceil(aligned * (1 + quantity.parse(overhead)))

    # ---------------------------------------------------------------- DataVolume sync
    def _sync_dv(self, dv, now):
        ns, name = dv["metadata"]["namespace"], dv["metadata"]["name"]
        if is_deleting(dv):
            return self._finalize_dv(dv)
        status = copy.deepcopy(dv.get("status") or {})
        status.setdefault("progress", "N/A")
        status.setdefault("phase", "Pending")
        pvc = self.peek(PVC, ns, name)
        src = cdi_admission.clone_source(self.store, dv)
        prepopulated = cdi_admission.PRE_POPULATED in annotations(dv)

        if pvc is not None and not is_controlled_by(pvc, dv):
            if is_deleting(pvc):
                self._warn_once(dv, "ErrResourceMarkedForDeletion", f'Resource "{name}" marked for deletion', now)
                return False
            if prepopulated or cdi_admission.claim_may_exist(pvc, dv):
                new = copy.deepcopy(pvc)
                refs = [r for r in new["metadata"].get("ownerReferences") or () if not r.get("controller")]
                new["metadata"]["ownerReferences"] = refs + [owner_ref(dv)]
                self.store.update(new)
                self._clones.pop(dv["metadata"]["uid"], None)
                return True
            self._warn_once(dv, "ErrResourceExists",
                            f'Resource "{name}" already exists and is not managed by DataVolume', now)
            return self._write_dv(dv, status)
        if pvc is None:
            if prepopulated:
                status["phase"] = "Pending"
                return self._write_dv(dv, status, pvc=None, now=now)
            return self._create_claim(dv, status, src, now)
        # The claim is ours.
        adopted = dv["metadata"]["uid"] not in self._clones and \
            (annotations(pvc).get(cdi_admission.CREATED_FOR_DV) != dv["metadata"]["uid"])
        if adopted or prepopulated or annotations(pvc).get(cdi_admission.POPULATED_FOR) == name:
            status["phase"] = "Succeeded"
            status["progress"] = "100.0%"
            status["claimName"] = name
            return self._write_dv(dv, status, pvc=pvc, now=now)
        if src is not None:
            return self._sync_clone(dv, status, pvc, now)
        return self._sync_import(dv, status, pvc, now)

    def _finalize_dv(self, dv):
        uid = dv["metadata"]["uid"]
        clone = self._clones.pop(uid, None)
        changed = False
        if clone:
            from .clone_flow import delete_tmp_snapshot
            changed |= delete_tmp_snapshot(self, clone)
        if clone and clone.tmp_claim:
            if self.peek(PVC, clone.source_ns, clone.tmp_claim) is not None:
                self.store.delete(PVC, clone.source_ns, clone.tmp_claim)
                changed = True
            if self.served(CLONE_SOURCE) and \
                    self.peek(CLONE_SOURCE, clone.source_ns, f"volume-clone-source-{uid}") is not None:
                self.store.delete(CLONE_SOURCE, clone.source_ns, f"volume-clone-source-{uid}")
                changed = True
        if DV_FINALIZER in (dv["metadata"].get("finalizers") or ()):
            self.store.remove_finalizer(DV, dv["metadata"]["namespace"], dv["metadata"]["name"], DV_FINALIZER)
            changed = True
        return changed

    def _warn_once(self, obj, reason, message, now, etype="Warning"):
        key = (obj["metadata"].get("uid"), reason, message)
        if key in self._warned:
            return
        self._warned.add(key)
        self.event(obj, etype, reason, message, now)

    def _uses_populator(self, dv, claim_spec):
        ann = annotations(dv).get(ANN_USE_POPULATOR)
        if ann is not None:
            return ann == "true"
        sc = self.storage.storage_class(claim_spec.get("storageClassName"))
        return self.storage.is_csi(sc)

    def _create_claim(self, dv, status, src, now):
        ns, name, uid = dv["metadata"]["namespace"], dv["metadata"]["name"], dv["metadata"]["uid"]
        claim_spec, err = self._claim_spec(dv)
        if claim_spec is None:
            self._warn_once(dv, "ErrClaimNotValid", err, now)
            return self._write_dv(dv, status)
        ann = {ANN_CONTENT_TYPE: (dv.get("spec") or {}).get("contentType", "kubevirt"),
               cdi_admission.CREATED_FOR_DV: uid}
        for k, v in annotations(dv).items():
            if k in (BIND_IMMEDIATE, ANN_PERMISSIVE, "cdi.kubevirt.io/storage.deleteAfterCompletion") or \
                    k.startswith("v1.multus-cni.io"):
                ann[k] = v
        pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": name, "namespace": ns,
                            "labels": {"app": "containerized-data-importer",
                                       "app.kubernetes.io/component": "storage",
                                       "app.kubernetes.io/managed-by": "cdi-controller"},
                            "annotations": ann, "ownerReferences": [owner_ref(dv)]},
               "spec": claim_spec}
        for k, v in ((dv.get("metadata") or {}).get("labels") or {}).items():
            pvc["metadata"]["labels"].setdefault(k, v)
        clone = None
        if src is not None:
            populator = self._uses_populator(dv, claim_spec)
            ann[ANN_USE_POPULATOR] = "true" if populator else "false"
            clone = Clone(source_kind=src[0], source_ns=src[1], source_name=src[2], legacy=not populator,
                          step_started=now.timestamp())
            if populator:
                vcs = f"volume-clone-source-{uid}"
                pvc["spec"]["dataSourceRef"] = {"apiGroup": "cdi.kubevirt.io", "kind": "VolumeCloneSource",
                                                "name": vcs}
                pvc["spec"]["dataSource"] = dict(pvc["spec"]["dataSourceRef"])
                if src[1] != ns:
                    ann[ANN_DS_NAMESPACE] = src[1]
                if self.served(CLONE_SOURCE) and self.peek(CLONE_SOURCE, src[1], vcs) is None:
                    vcs_obj = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "VolumeCloneSource",
                               "metadata": {"name": vcs, "namespace": src[1]},
                               "spec": {"source": {"kind": "PersistentVolumeClaim" if src[0] == "pvc"
                                                   else "VolumeSnapshot", "name": src[2]}}}
                    if src[1] == ns:
                        vcs_obj["metadata"]["ownerReferences"] = [owner_ref(dv)]
                    else:
                        vcs_obj["metadata"]["annotations"] = {ANN_OWNED_BY_DV: f"{ns}/{name}"}
                    self.store.create(vcs_obj)
                if src[1] != ns and DV_FINALIZER not in (dv["metadata"].get("finalizers") or ()):
                    fresh = copy.deepcopy(dv)
                    fresh["metadata"].setdefault("finalizers", []).append(DV_FINALIZER)
                    dv = self.store.update(fresh)
            else:
                ann[ANN_CLONE_REQUEST] = f"{src[1]}/{src[2]}"
            status["phase"] = "CloneScheduled"
        else:
            source = (dv.get("spec") or {}).get("source") or {}
            kind = next(iter(source), "blank")
            if kind in IMPORT_SOURCES:
                ann["cdi.kubevirt.io/storage.import.source"] = kind
                endpoint = (source.get(kind) or {}).get("url")
                if endpoint:
                    ann["cdi.kubevirt.io/storage.import.endpoint"] = endpoint
            elif kind == "blank":
                ann["cdi.kubevirt.io/storage.import.source"] = "none"
            elif kind == "upload":
                ann["cdi.kubevirt.io/storage.upload.target"] = ""
            status["phase"] = "Pending"
        pvc = self.storage.admit("CREATE", PVC, pvc, None, None)
        try:
            created = self.create_admitted(pvc)
        except ApiError as e:
            if not is_quota_exceeded(e):
                raise
            # createPvcForDatavolume refused by the quota: CDI keeps the DataVolume Pending with a Warning event,
            # puts the error in the Bound condition and retries with backoff (it does not watch quotas).
            self.event(dv, "Warning", ERR_EXCEEDED_QUOTA, e.message, now)
            self.requeue_after((DV, ns, name), self.rates.quota_retry_seconds, now)
            status["phase"] = "Pending"
            return self._write_dv(self.peek(DV, ns, name) or dv, status, pvc=None, now=now,
                                  bound=(ERR_EXCEEDED_QUOTA, e.message))
        if clone is not None:
            self._clones[uid] = clone
            if clone.legacy:
                self.event(created, "Warning", "NoPopulator", "In tree storage class does not support snapshot/clone",
                           now)
            self.event(dv, "Normal", "CloneScheduled",
                       f"Cloning from {src[1]}/{src[2]} into {ns}/{name} scheduled", now)
        else:
            self._clones.pop(uid, None)
        status["claimName"] = name
        return self._write_dv(self.peek(DV, ns, name) or dv, status, pvc=created, now=now) or True

    # ---------------------------------------------------------------- status helpers
    def _write_dv(self, dv, status, pvc=None, now=None, running=None, bound=None):
        """Conditions as CDI's updateConditions derives them from the claim, then write when changed; ``bound``
        is the (reason, message) of the event that explains a missing claim (ErrExceededQuota)."""
        if now is not None:
            name = dv["metadata"]["name"]
            if pvc is None and bound:
                set_condition(status, "Bound", "False", bound[0], bound[1], now)
            elif pvc is None:
                set_condition(status, "Bound", "Unknown", "NotFound", "No PVC found", now)
            elif (pvc.get("status") or {}).get("phase") == "Bound":
                set_condition(status, "Bound", "True", "Bound", f"PVC {name} Bound", now)
            elif (pvc.get("status") or {}).get("phase") == "Lost":
                set_condition(status, "Bound", "False", "ClaimLost", "Claim Lost", now)
            else:
                set_condition(status, "Bound", "False", "Pending", f"PVC {name} Pending", now)
            if status.get("phase") == "Succeeded":
                set_condition(status, "Ready", "True", "", "", now)
            else:
                set_condition(status, "Ready", "False", "", "", now)
            ann = annotations(pvc) if pvc else {}
            if running is not None:
                set_condition(status, "Running", *running, now=now)
            elif ANN_RUNNING in ann:
                set_condition(status, "Running", "True" if ann[ANN_RUNNING] == "true" else "False",
                              ann.get(ANN_RUNNING_REASON, ""), ann.get(ANN_RUNNING_MESSAGE, ""), now)
            elif get_condition({"status": status}, "Running") is None:
                set_condition(status, "Running", "False", "", "", now)
            if pvc is not None and ANN_PROGRESS in ann and status.get("phase") != "Succeeded":
                status["progress"] = ann[ANN_PROGRESS]
        old_phase = (dv.get("status") or {}).get("phase")
        changed = self.update_status(dv, status)
        if changed and now is not None and status.get("phase") != old_phase:
            self._phase_event(dv, status["phase"], now)
        return changed

    def _phase_event(self, dv, phase, now):
        ns, name = dv["metadata"]["namespace"], dv["metadata"]["name"]
        src = cdi_admission.clone_source(self.store, dv)
        sns, sname = (src[1], src[2]) if src else ("", "")
        messages = {
            "SnapshotForSmartCloneInProgress": f"Creating snapshot for smart-clone is in progress (for pvc "
                                               f"{sns}/{sname})",
            "CloneFromSnapshotSourceInProgress": f"Creating PVC from snapshot source is in progress (for "
                                                 f"{(src or ('pvc',))[0]} {sns}/{sname})",
            "CSICloneInProgress": f"CSI Volume clone in progress (for pvc {sns}/{sname})",
            "CloneInProgress": f"Cloning from {sns}/{sname} into {ns}/{name} in progress",
            "PrepClaimInProgress": f"Prepping PersistentVolumeClaim for DataVolume {ns}/{name}",
            "RebindInProgress": f"Rebinding PersistentVolumeClaim for DataVolume {ns}/{name}",
            "ImportScheduled": f"Import into {name} scheduled",
            "ImportInProgress": f"Import into {name} in progress",
            "UploadScheduled": f"Upload into {name} scheduled",
            "UploadReady": f"Upload into {name} ready",
        }
        if phase == "Succeeded":
            if src:
                self.event(dv, "Normal", "CloneSucceeded", f"Successfully cloned from {sns}/{sname} into {ns}/{name}",
                           now)
            else:
                self.event(dv, "Normal", "ImportSucceeded", f"Successfully imported into PVC {name}", now)
        elif phase in messages:
            self.event(dv, "Normal", phase, messages[phase], now)

    def _claim_waits_for_consumer(self, pvc):
        sc = self.storage.storage_class((pvc.get("spec") or {}).get("storageClassName"))
        return bool(sc) and sc.get("volumeBindingMode") == "WaitForFirstConsumer" and \
            not annotations(pvc).get(SELECTED_NODE) and annotations(pvc).get(BIND_IMMEDIATE) != "true"

    # ---------------------------------------------------------------- imports
    def _sync_import(self, dv, status, pvc, now):
        key = (DV, dv["metadata"]["namespace"], dv["metadata"]["name"])
        source = (dv.get("spec") or {}).get("source") or {}
        kind = next(iter(source), "blank")
        phase = (pvc.get("status") or {}).get("phase")
        if phase != "Bound":
            if self._claim_waits_for_consumer(pvc):
                status["phase"] = "PendingPopulation" if self.storage.is_csi(
                    self.storage.storage_class(pvc["spec"].get("storageClassName"))) else "WaitForFirstConsumer"
            return self._write_dv(dv, status, pvc=pvc, now=now)
        if kind == "upload":
            status["phase"] = "UploadReady" if status.get("phase") == "UploadScheduled" else "UploadScheduled"
            if status["phase"] == "UploadScheduled":
                self.enqueue(key)
            return self._write_dv(dv, status, pvc=pvc, now=now,
                                  running=("True", "Pod is running", "") if status["phase"] == "UploadReady"
                                  else ("False", "", ""))
        anns = annotations(pvc)
        started = float(anns.get("kubesim.io/import-started") or 0) or None
        if started is None:
            new = copy.deepcopy(pvc)
            new["metadata"]["annotations"]["kubesim.io/import-started"] = repr(now.timestamp())
            new["metadata"]["annotations"][ANN_POD_PHASE] = "Pending"
            self.store.update(new)
            status["phase"] = "ImportScheduled"
            self.requeue_after(key, 1.0, now)
            return self._write_dv(dv, status, pvc=pvc, now=now, running=("False", "Pending", ""))
        elapsed = now.timestamp() - started
        if kind == "blank":
            duration = self.rates.blank_seconds
        else:
            duration = max(1.0, request_bytes(pvc) / self.rates.import_bytes_per_second)
        if elapsed < duration:
            status["phase"] = "ImportInProgress"
            status["progress"] = percent(elapsed / duration) if kind != "blank" else "N/A"
            self.requeue_after(key, min(self.rates.progress_interval_seconds, duration - elapsed), now)
            return self._write_dv(dv, status, pvc=pvc, now=now, running=("True", "Pod is running", ""))
        if anns.get(ANN_POD_PHASE) != "Succeeded":
            new = copy.deepcopy(pvc)
            new["metadata"]["annotations"][ANN_POD_PHASE] = "Succeeded"
            new["metadata"]["annotations"]["cdi.kubevirt.io/storage.condition.running"] = "false"
            new["metadata"]["annotations"]["cdi.kubevirt.io/storage.condition.running.reason"] = "Completed"
            new["metadata"]["annotations"]["cdi.kubevirt.io/storage.condition.running.message"] = "Import Complete"
            pvc = self.store.update(new)
        status["phase"] = "Succeeded"
        status["progress"] = "100.0%"
        return self._write_dv(dv, status, pvc=pvc, now=now)

    # ---------------------------------------------------------------- clones
    def _sync_clone(self, dv, status, pvc, now):
        from . import clone_flow
        return clone_flow.step(self, dv, status, pvc, now)


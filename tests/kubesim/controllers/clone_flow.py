"""One step of a DataVolume clone, as CDI's clone populator and planner take it (pkg/controller/clone,
pkg/controller/populators/clone-populator.go), or the legacy host-assisted clone for non-CSI classes.

Steps (the target claim's ``cdi.kubevirt.io/clonePhase``): Pending -> CSIClone | Snapshot -> SnapshotClone |
HostClone -> [PrepClaim] -> Rebind -> Succeeded, or Error.  The DataVolume phase mirrors them.
"""

import copy

from .. import quantity
from ..errors import ApiError
from .base import annotations, is_deleting, is_quota_exceeded, rfc3339
from .cdi import (
    ANN_CLONE_ERROR,
    ANN_CLONE_PHASE,
    ANN_FALLBACK,
    ANN_PERMISSIVE,
    ANN_PROGRESS,
    ANN_RUNNING,
    ANN_RUNNING_MESSAGE,
    ANN_RUNNING_REASON,
    CDI_CR,
    CLONE_SOURCE,
    DV,
    DV_FINALIZER,
    ERR_EXCEEDED_QUOTA,
    FALLBACK_MESSAGES,
    LABEL_OWNED_BY_UID,
    PHASE_FOR_CLONE_STEP,
    PROFILE,
    SNAPSHOT,
    Clone,
    percent,
)
from .storage import PV, PVC, SELECTED_NODE, VSC, capacity_bytes, request_bytes


def _set_annotations(ctrl, pvc, updates):
    """Write ``updates`` into the claim's annotations; a value of None removes the key."""
    ann = annotations(pvc)
    if all(ann.get(k) == v for k, v in updates.items()):
        return pvc
    new = copy.deepcopy(pvc)
    target = new["metadata"].setdefault("annotations", {})
    for k, v in updates.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = v
    return ctrl.store.update(new)


def _running(step, message=""):
    if step == "Succeeded":
        return {ANN_RUNNING: "false", ANN_RUNNING_REASON: "Completed", ANN_RUNNING_MESSAGE: "Clone Complete"}
    if step == "Pending":
        return {ANN_RUNNING: "false", ANN_RUNNING_REASON: "Pending", ANN_RUNNING_MESSAGE: "Clone Pending"}
    if step == "Error":
        return {ANN_RUNNING: "false", ANN_RUNNING_REASON: "Error", ANN_RUNNING_MESSAGE: message}
    return {ANN_RUNNING: "true", ANN_RUNNING_REASON: "Populator is running", ANN_RUNNING_MESSAGE: ""}


def _fault(ctrl, dv):
    failures = getattr(getattr(ctrl.sim, "faults", None), "clone_failures", None) or {}
    return failures.get(dv["metadata"]["name"])


def _class_of(ctrl, pvc):
    return ctrl.storage.storage_class(((pvc or {}).get("spec") or {}).get("storageClassName"))


def choose_strategy(ctrl, source, target):
    """(strategy, fallback event reason or None) as the planner computes it for a PVC source."""
    cdi = ctrl.peek(CDI_CR, "", "cdi") or {}
    strategy = (cdi.get("spec") or {}).get("cloneStrategyOverride")
    if not strategy:
        prof = ctrl.peek(PROFILE, "", (target.get("spec") or {}).get("storageClassName"))
        strategy = ((prof or {}).get("status") or {}).get("cloneStrategy") or "snapshot"
    if strategy == "copy":
        return "copy", None
    src_sc, dst_sc = _class_of(ctrl, source), _class_of(ctrl, target)
    if strategy == "snapshot":
        driver = (src_sc or {}).get("provisioner")
        if not any(c.get("driver") == driver for c in ctrl.records(VSC)):
            return "copy", "NoVolumeSnapshotClass"
    if not (src_sc and dst_sc and ctrl.storage.is_csi(src_sc) and src_sc.get("provisioner") == dst_sc.get(
            "provisioner")):
        return "copy", "IncompatibleProvisioners"
    if (source["spec"].get("volumeMode") or "Filesystem") != (target["spec"].get("volumeMode") or "Filesystem"):
        return "copy", "IncompatibleVolumeModes"
    if capacity_bytes(source) < request_bytes(target) and not dst_sc.get("allowVolumeExpansion"):
        return "copy", "NoVolumeExpansion"
    return strategy, None


def choose_snapshot_strategy(ctrl, snapshot, target):
    """planSmartCloneFromSnapshot: restore the snapshot unless driver, size or volume mode forbid it."""
    dst_sc = _class_of(ctrl, target)
    vsc = ctrl.peek(VSC, "", (snapshot.get("spec") or {}).get("volumeSnapshotClassName")) or {}
    if not dst_sc or vsc.get("driver") != dst_sc.get("provisioner"):
        return "copy", "NoProvisionerMatch"
    restore = ((snapshot.get("status") or {}).get("restoreSize"))
    if restore and int(quantity.parse(restore)) < request_bytes(target) and not dst_sc.get("allowVolumeExpansion"):
        return "copy", "NoVolumeExpansion"
    src_mode = (snapshot.get("status") or {}).get("sourceVolumeMode") or "Filesystem"
    if src_mode != (target["spec"].get("volumeMode") or "Filesystem"):
        return "copy", "IncompatibleVolumeModes"
    return "snapshot", None


def step(ctrl, dv, status, pvc, now):
    ns, name, uid = dv["metadata"]["namespace"], dv["metadata"]["name"], dv["metadata"]["uid"]
    key = (DV, ns, name)
    clone = ctrl._clones.get(uid)
    ann = annotations(pvc)
    if clone is None:
        from .cdi_admission import clone_source
        src = clone_source(ctrl.store, dv) or ("pvc", ns, "")
        clone = ctrl._clones[uid] = Clone(source_kind=src[0], source_ns=src[1], source_name=src[2],
                                          legacy=ann.get("cdi.kubevirt.io/storage.usePopulator") == "false",
                                          step=ann.get(ANN_CLONE_PHASE) or "Pending", step_started=now.timestamp())
        if clone.step == "Error":
            # An Error phase is retried from the start, as the populator re-plans on every reconcile.
            clone.step = "Pending"
    status["claimName"] = name
    if clone.failed:
        return ctrl._write_dv(dv, status, pvc=pvc, now=now)
    if clone.step == "Succeeded":
        return _finish(ctrl, dv, status, pvc, clone, now)
    elapsed = now.timestamp() - clone.step_started
    if clone.step == "Pending":
        return _start(ctrl, dv, status, pvc, clone, now)
    if clone.step == "CSIClone":
        return _timed(ctrl, dv, status, pvc, clone, now, ctrl.rates.csi_clone_seconds, _after_fill(ctrl, clone, pvc))
    if clone.step == "Snapshot":
        return _snapshot_step(ctrl, dv, status, pvc, clone, now)
    if clone.step == "SnapshotClone":
        return _timed(ctrl, dv, status, pvc, clone, now, ctrl.rates.snapshot_restore_seconds,
                      _after_fill(ctrl, clone, pvc))
    if clone.step == "HostClone":
        return _host_copy(ctrl, dv, status, pvc, clone, now, elapsed)
    if clone.step == "PrepClaim":
        return _prep_claim(ctrl, dv, status, pvc, clone, now, elapsed)
    if clone.step == "Rebind":
        return _rebind(ctrl, dv, status, pvc, clone, now)
    ctrl.requeue_after(key, 1.0, now)
    return False


def _waiting(ctrl, dv, status, pvc, now, phase="CloneScheduled"):
    status["phase"] = phase
    return ctrl._write_dv(dv, status, pvc=pvc, now=now)


def _start(ctrl, dv, status, pvc, clone, now):
    ns, name = dv["metadata"]["namespace"], dv["metadata"]["name"]
    key = (DV, ns, name)
    if ctrl._claim_waits_for_consumer(pvc):
        return _waiting(ctrl, dv, status, pvc, now, "WaitForFirstConsumer" if clone.legacy else "PendingPopulation")
    if clone.legacy and (pvc.get("status") or {}).get("phase") != "Bound":
        return _waiting(ctrl, dv, status, pvc, now)
    fallback = None
    if clone.source_kind == "snapshot":
        snap = ctrl.peek(SNAPSHOT, clone.source_ns, clone.source_name) if ctrl.served(SNAPSHOT) else None
        if snap is None:
            ctrl._warn_once(pvc, "CloneWithoutSource", f"The source snapshot {clone.source_name} doesn't exist", now)
            return _waiting(ctrl, dv, status, pvc, now)
        if not (snap.get("status") or {}).get("readyToUse"):
            return _waiting(ctrl, dv, status, pvc, now)
        strategy, fallback = ("copy", None) if clone.legacy else choose_snapshot_strategy(ctrl, snap, pvc)
        if strategy == "snapshot":
            strategy = "restore"
        size = int(quantity.parse((snap.get("status") or {}).get("restoreSize") or "0"))
    else:
        source = ctrl.peek(PVC, clone.source_ns, clone.source_name)
        if source is None:
            ctrl._warn_once(pvc, "CloneWithoutSource", f"The source pvc {clone.source_name} doesn't exist", now)
            return _waiting(ctrl, dv, status, pvc, now)
        if (source.get("status") or {}).get("phase") != "Bound" or is_deleting(source):
            return _waiting(ctrl, dv, status, pvc, now)
        users = ctrl.storage.pods_using(clone.source_ns, clone.source_name)
        if users:
            for pod in users:
                ctrl.event(pvc, "Warning", "CloneSourceInUse",
                           f"pod {pod['metadata']['namespace']}/{pod['metadata']['name']} using PersistentVolumeClaim "
                           f"{clone.source_name}", now)
            ctrl.requeue_after(key, ctrl.rates.source_in_use_retry_seconds, now)
            return _waiting(ctrl, dv, status, pvc, now)
        src_req, dst_req = request_bytes(source), request_bytes(pvc)
        if ANN_PERMISSIVE not in annotations(pvc) and dst_req < src_req:
            ctrl._warn_once(pvc, "ErrIncompatiblePVC", f"target resources requests storage size is smaller than the "
                                                       f"source {dst_req} < {src_req}", now)
            ctrl._warn_once(pvc, "CloneValidationFailed", "The clone doesn't meet the validation requirements", now)
            return _waiting(ctrl, dv, status, pvc, now)
        strategy, fallback = ("copy", None) if clone.legacy else choose_strategy(ctrl, source, pvc)
        size = max(capacity_bytes(source), src_req)
    clone.size = size
    clone.strategy = strategy
    first = {"csi-clone": "CSIClone", "snapshot": "Snapshot", "restore": "SnapshotClone", "copy": "HostClone"}[strategy]
    if not clone.legacy:
        try:
            if first == "Snapshot":
                _make_tmp_snapshot(ctrl, pvc, clone, now)
            else:
                _make_tmp_claim(ctrl, dv, pvc, clone, strategy)
        except ApiError as e:
            if not is_quota_exceeded(e):
                raise
            return _quota_refused(ctrl, dv, status, pvc, now, e)
    updates = {ANN_CLONE_ERROR: None}
    if fallback:
        message = FALLBACK_MESSAGES[fallback]
        ctrl.event(pvc, "Warning", fallback, message, now)
        updates[ANN_FALLBACK] = message
    if not clone.legacy:
        updates.update({ANN_CLONE_PHASE: first, **_running(first)})
    else:
        updates.update({"cdi.kubevirt.io/storage.pod.phase": "Running", **_running(first)})
    if first == "HostClone":
        updates[ANN_PROGRESS] = percent(0)
    pvc = _set_annotations(ctrl, pvc, updates)
    clone.step, clone.step_started = first, now.timestamp()
    status["phase"] = PHASE_FOR_CLONE_STEP[first]
    status["progress"] = updates.get(ANN_PROGRESS, status.get("progress") or "N/A")
    ctrl.enqueue(key)
    return ctrl._write_dv(dv, status, pvc=pvc, now=now)


def _quota_refused(ctrl, dv, status, pvc, now, err):
    """A phase's create refused by the source namespace's ResourceQuota (clone/common.go checkQuotaExceeded, then
    the populator's updateClonePhaseError): a Warning event on the target claim, clonePhase Error with the API
    error in cloneError and the Running condition; the DataVolume keeps its phase (CDI maps no phase for Error),
    and the populator retries with backoff, clearing the error once the create goes through."""
    ctrl.event(pvc, "Warning", ERR_EXCEEDED_QUOTA, err.message, now)
    pvc = _set_annotations(ctrl, pvc, {ANN_CLONE_PHASE: "Error", ANN_CLONE_ERROR: err.message,
                                       **_running("Error", err.message)})
    ctrl.requeue_after((DV, dv["metadata"]["namespace"], dv["metadata"]["name"]), ctrl.rates.quota_retry_seconds, now)
    return ctrl._write_dv(dv, status, pvc=pvc, now=now)


def _owned_labels(pvc):
    return {"app": "containerized-data-importer", LABEL_OWNED_BY_UID: pvc["metadata"]["uid"]}


def _make_tmp_snapshot(ctrl, pvc, clone, now):
    """SnapshotPhase: ``tmp-snapshot-<target claim uid>`` of the source claim, in the source namespace."""
    name = f"tmp-snapshot-{pvc['metadata']['uid']}"
    clone.tmp_snapshot = name
    if ctrl.peek(SNAPSHOT, clone.source_ns, name) is not None:
        return
    source = ctrl.peek(PVC, clone.source_ns, clone.source_name) or {}
    sc = _class_of(ctrl, source) or {}
    vsc = next((c["metadata"]["name"] for c in sorted(ctrl.records(VSC), key=lambda c: c["metadata"]["name"])
                if c.get("driver") == sc.get("provisioner")), None)
    obj = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
           "metadata": {"name": name, "namespace": clone.source_ns, "labels": _owned_labels(pvc)},
           "spec": {"source": {"persistentVolumeClaimName": clone.source_name}}}
    if vsc:
        obj["spec"]["volumeSnapshotClassName"] = vsc
    created = ctrl.create_admitted(obj)
    # The external snapshotter's first status: bound to its content, not ready until the cut is taken.
    ctrl.update_status(created, {"boundVolumeSnapshotContentName": f"snapcontent-{created['metadata']['uid']}",
                                 "readyToUse": False})


def _snapshot_ready(ctrl, clone, now):
    """The snapshotter finishing the cut: creationTime, restoreSize and readyToUse (True when it is ready)."""
    snap = ctrl.peek(SNAPSHOT, clone.source_ns, clone.tmp_snapshot) if clone.tmp_snapshot else None
    if snap is None:
        return False
    status = copy.deepcopy(snap.get("status") or {})
    if not status.get("readyToUse"):
        source = ctrl.peek(PVC, clone.source_ns, clone.source_name) or {}
        status.update({"readyToUse": True, "creationTime": rfc3339(now),
                       "restoreSize": ((source.get("status") or {}).get("capacity") or {}).get("storage") or
                       ((source.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")})
        ctrl.update_status(snap, status)
    return True


def delete_tmp_snapshot(ctrl, clone):
    """Planner.Cleanup: the snapshot goes once the clone is done (or its DataVolume is deleted)."""
    if clone.tmp_snapshot and ctrl.served(SNAPSHOT) and \
            ctrl.peek(SNAPSHOT, clone.source_ns, clone.tmp_snapshot) is not None:
        ctrl.store.delete(SNAPSHOT, clone.source_ns, clone.tmp_snapshot)
        return True
    return False


def _make_tmp_claim(ctrl, dv, pvc, clone, strategy):
    """createDesiredClaim: the claim that is filled in the source namespace, then rebound to the target."""
    tmp = f"tmp-pvc-{pvc['metadata']['uid']}"
    clone.tmp_claim = tmp
    ctrl._dv_for_tmp[(clone.source_ns, tmp)] = (dv["metadata"]["namespace"], dv["metadata"]["name"])
    if ctrl.peek(PVC, clone.source_ns, tmp) is not None:
        return
    spec = copy.deepcopy(pvc["spec"])
    spec.pop("dataSource", None)
    spec.pop("dataSourceRef", None)
    spec.pop("volumeName", None)
    if strategy == "csi-clone":
        # A CSI clone is requested at the source's capacity and expanded afterwards (csi-clone.go, prep-claim.go).
        source = ctrl.peek(PVC, clone.source_ns, clone.source_name) or {}
        cap = ((source.get("status") or {}).get("capacity") or {}).get("storage")
        if cap:
            spec.setdefault("resources", {}).setdefault("requests", {})["storage"] = cap
    ann = {"cdi.kubevirt.io/storage.populator.kind": "VolumeCloneSource",
           "cdi.kubevirt.io/storage.contentType": "kubevirt"}
    if annotations(pvc).get(SELECTED_NODE):
        ann[SELECTED_NODE] = annotations(pvc)[SELECTED_NODE]
    obj = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
           "metadata": {"name": tmp, "namespace": clone.source_ns, "annotations": ann,
                        "labels": {"app.kubernetes.io/component": "storage",
                                   "app.kubernetes.io/managed-by": "cdi-controller", **_owned_labels(pvc)}},
           "spec": spec}
    if strategy == "snapshot" and clone.tmp_snapshot:
        # SnapshotClonePhase restores the temporary snapshot.
        spec["dataSource"] = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                              "name": clone.tmp_snapshot}
    # Through quota admission: the API server counts this claim against the source namespace's quota.
    ctrl.create_admitted(ctrl.storage.admit("CREATE", PVC, obj, None, None))


def _snapshot_step(ctrl, dv, status, pvc, clone, now):
    """Wait for the snapshot, then SnapshotClonePhase creates the temporary claim from it (quota applies)."""
    elapsed = now.timestamp() - clone.step_started
    if elapsed < ctrl.rates.snapshot_seconds or _fault(ctrl, dv):
        return _timed(ctrl, dv, status, pvc, clone, now, ctrl.rates.snapshot_seconds, "SnapshotClone")
    if not _snapshot_ready(ctrl, clone, now):
        # Someone deleted the temporary snapshot: the phase makes it again.
        _make_tmp_snapshot(ctrl, pvc, clone, now)
        ctrl.requeue_after((DV, dv["metadata"]["namespace"], dv["metadata"]["name"]), 1.0, now)
        return ctrl._write_dv(dv, status, pvc=pvc, now=now)
    try:
        _make_tmp_claim(ctrl, dv, pvc, clone, "snapshot")
    except ApiError as e:
        if not is_quota_exceeded(e):
            raise
        return _quota_refused(ctrl, dv, status, pvc, now, e)
    pvc = _set_annotations(ctrl, pvc, {ANN_CLONE_ERROR: None})
    return _advance(ctrl, dv, status, pvc, clone, now, "SnapshotClone")


def _after_fill(ctrl, clone, pvc):
    tmp = ctrl.peek(PVC, clone.source_ns, clone.tmp_claim) if clone.tmp_claim else None
    if tmp is not None and request_bytes(pvc) > request_bytes(tmp):
        return "PrepClaim"
    return "Rebind"


def _fail(ctrl, dv, status, pvc, clone, now, message, progress=None):
    clone.failed = True
    updates = {ANN_CLONE_PHASE: "Error", ANN_CLONE_ERROR: message, **_running("Error", message)}
    if progress is not None:
        updates[ANN_PROGRESS] = progress
    pvc = _set_annotations(ctrl, pvc, updates)
    if progress is not None:
        status["progress"] = progress
    ns, name = dv["metadata"]["namespace"], dv["metadata"]["name"]
    ctrl.event(dv, "Warning", "CloneFailed",
               f"Cloning from {clone.source_ns}/{clone.source_name} into {ns}/{name} failed: {message}", now)
    # The DataVolume keeps its phase: CDI does not set Failed in the populator flow.
    return ctrl._write_dv(dv, status, pvc=pvc, now=now)


def _timed(ctrl, dv, status, pvc, clone, now, duration, next_step):
    key = (DV, dv["metadata"]["namespace"], dv["metadata"]["name"])
    elapsed = now.timestamp() - clone.step_started
    fault = _fault(ctrl, dv)
    if fault and elapsed >= duration * fault[0] / 100.0:
        return _fail(ctrl, dv, status, pvc, clone, now, fault[1])
    tmp = ctrl.peek(PVC, clone.source_ns, clone.tmp_claim) if clone.tmp_claim else None
    if elapsed < duration or (tmp is not None and (tmp.get("status") or {}).get("phase") != "Bound"):
        wait = duration - elapsed if elapsed < duration else 1.0
        if fault:
            wait = min(wait, max(0.0, duration * fault[0] / 100.0 - elapsed))
        ctrl.requeue_after(key, wait, now)
        status["phase"] = PHASE_FOR_CLONE_STEP[clone.step]
        return ctrl._write_dv(dv, status, pvc=pvc, now=now)
    return _advance(ctrl, dv, status, pvc, clone, now, next_step)


def _advance(ctrl, dv, status, pvc, clone, now, next_step):
    clone.step, clone.step_started = next_step, now.timestamp()
    updates = {ANN_CLONE_PHASE: next_step, **_running(next_step)} if not clone.legacy else {}
    pvc = _set_annotations(ctrl, pvc, updates) if updates else pvc
    status["phase"] = PHASE_FOR_CLONE_STEP[next_step]
    ctrl.enqueue((DV, dv["metadata"]["namespace"], dv["metadata"]["name"]))
    return ctrl._write_dv(dv, status, pvc=pvc, now=now)


def _host_copy(ctrl, dv, status, pvc, clone, now, elapsed):
    key = (DV, dv["metadata"]["namespace"], dv["metadata"]["name"])
    duration = max(1.0, clone.size / ctrl.rates.host_copy_bytes_per_second)
    fraction = min(1.0, elapsed / duration)
    fault = _fault(ctrl, dv)
    if fault and fraction * 100 >= fault[0]:
        return _fail(ctrl, dv, status, pvc, clone, now, fault[1], progress=percent(fault[0] / 100.0))
    tmp = ctrl.peek(PVC, clone.source_ns, clone.tmp_claim) if clone.tmp_claim else None
    tmp_bound = tmp is None or (tmp.get("status") or {}).get("phase") == "Bound"
    if fraction < 1.0 or not tmp_bound:
        progress = percent(fraction)
        pvc = _set_annotations(ctrl, pvc, {ANN_PROGRESS: progress})
        status["progress"] = progress
        status["phase"] = "CloneInProgress"
        wait = min(ctrl.rates.progress_interval_seconds, max(duration - elapsed, 0.0)) or 1.0
        if fault:
            wait = min(wait, max(0.01, duration * fault[0] / 100.0 - elapsed))
        ctrl.requeue_after(key, wait, now)
        return ctrl._write_dv(dv, status, pvc=pvc, now=now)
    pvc = _set_annotations(ctrl, pvc, {ANN_PROGRESS: "100.0%"})
    status["progress"] = "100.0%"
    if clone.legacy:
        pvc = _set_annotations(ctrl, pvc, {"cdi.kubevirt.io/storage.pod.phase": "Succeeded",
                                           **_running("Succeeded")})
        clone.step = "Succeeded"
        return _finish(ctrl, dv, status, pvc, clone, now)
    return _advance(ctrl, dv, status, pvc, clone, now, "Rebind")


def _prep_claim(ctrl, dv, status, pvc, clone, now, elapsed):
    key = (DV, dv["metadata"]["namespace"], dv["metadata"]["name"])
    tmp = ctrl.peek(PVC, clone.source_ns, clone.tmp_claim)
    want = ((pvc["spec"].get("resources") or {}).get("requests") or {}).get("storage")
    if tmp is not None and request_bytes(tmp) < request_bytes(pvc):
        new = copy.deepcopy(tmp)
        new["spec"].setdefault("resources", {}).setdefault("requests", {})["storage"] = want
        ctrl.store.update(new)
    if elapsed < ctrl.rates.prep_claim_seconds or (tmp is not None and capacity_bytes(tmp) < request_bytes(pvc)):
        ctrl.requeue_after(key, max(0.5, ctrl.rates.prep_claim_seconds - elapsed), now)
        status["phase"] = "PrepClaimInProgress"
        return ctrl._write_dv(dv, status, pvc=pvc, now=now)
    return _advance(ctrl, dv, status, pvc, clone, now, "Rebind")


def _rebind(ctrl, dv, status, pvc, clone, now):
    """Point the filled volume's claimRef at the target claim; the binder then binds it (rebind.go)."""
    key = (DV, dv["metadata"]["namespace"], dv["metadata"]["name"])
    if (pvc.get("status") or {}).get("phase") == "Bound":
        if clone.tmp_claim and ctrl.peek(PVC, clone.source_ns, clone.tmp_claim) is not None:
            ctrl.store.delete(PVC, clone.source_ns, clone.tmp_claim)
        pvc = _set_annotations(ctrl, pvc, {ANN_CLONE_PHASE: "Succeeded", **_running("Succeeded")})
        clone.step = "Succeeded"
        return _finish(ctrl, dv, status, pvc, clone, now)
    tmp = ctrl.peek(PVC, clone.source_ns, clone.tmp_claim)
    pv_name = ((tmp or {}).get("spec") or {}).get("volumeName")
    pv = ctrl.peek(PV, "", pv_name) if pv_name else None
    if pv is not None:
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        m = pvc["metadata"]
        if ref.get("uid") != m["uid"]:
            new = copy.deepcopy(pv)
            new["spec"]["claimRef"] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                       "namespace": m["namespace"], "name": m["name"], "uid": m["uid"],
                                       "resourceVersion": m.get("resourceVersion")}
            ctrl.store.update(new)
    elapsed = now.timestamp() - clone.step_started
    ctrl.requeue_after(key, max(0.5, ctrl.rates.rebind_seconds - elapsed), now)
    status["phase"] = "RebindInProgress"
    return ctrl._write_dv(dv, status, pvc=pvc, now=now)


def _finish(ctrl, dv, status, pvc, clone, now):
    ns, name, uid = dv["metadata"]["namespace"], dv["metadata"]["name"], dv["metadata"]["uid"]
    status["phase"] = "Succeeded"
    status["progress"] = "100.0%"
    changed = ctrl._write_dv(dv, status, pvc=pvc, now=now)
    changed |= delete_tmp_snapshot(ctrl, clone)
    if ctrl.served(CLONE_SOURCE):
        vcs = f"volume-clone-source-{uid}"
        if ctrl.peek(CLONE_SOURCE, clone.source_ns, vcs) is not None:
            ctrl.store.delete(CLONE_SOURCE, clone.source_ns, vcs)
            changed = True
    if DV_FINALIZER in (dv["metadata"].get("finalizers") or ()):
        ctrl.store.remove_finalizer(DV, ns, name, DV_FINALIZER)
        changed = True
    return changed

"""Moving a VM's disks: CDI clones (a DataVolume in the target whose `source.pvc` names the source claim) or the
zero-copy transfer of the PersistentVolume (CDI ObjectTransfer when served, else Retain → claimRef → restore).

Clone success and failure follow kubevirt-move-mechanics.md §1.5: success is phase Succeeded; in the populator
flow CDI never sets Failed, so a `Running` condition False with reason Error is a failure too, and the cause shown
is that condition's message plus the Warning events of the DataVolume.
"""

import copy
import time
from typing import Callable, Dict, List, Optional, Tuple

from ...kube import errors as kerr
from ...kube import kinds
from ...kube.wait import SetFailed, WaitTimeout, wait_for, wait_for_all
from ..context import RunContext, StepFailed
from ..planning.moveplan import MovePlan
from ..rewrite import MOVE_ID_LABEL

VM_LABEL = "vmmove.io/vm"
PRE_POPULATED = "cdi.kubevirt.io/storage.prePopulated"
POPULATED_FOR = "cdi.kubevirt.io/storage.populatedFor"
RECLAIM_ANNOTATION = "vmmove.io/reclaim-policy"
# CDI deprecated ObjectTransfer in v1.61 "for removal in v1" (kubevirt-move-mechanics.md §2.1). The release that
# deletes it is not named yet; once it is, set it here and from that CDI version on the native rebind is used even
# where a leftover CRD is still served.
OBJECT_TRANSFER_DEPRECATED_IN = (1, 61)
OBJECT_TRANSFER_REMOVED_IN: Optional[tuple] = None



def percent(dv: Optional[dict]) -> float:
    if dv is None:
        return 0.0
    status = dv.get("status") or {}
    if status.get("phase") == "Succeeded":
        return 100.0
    text = str(status.get("progress") or "").rstrip("%")
    try:
        return max(0.0, min(100.0, float(text)))
    except ValueError:
        return 0.0


def clone_failure(dv: dict) -> Optional[str]:
    status = dv.get("status") or {}
    if status.get("phase") == "Failed":
        return _running_message(dv) or "the DataVolume failed"
    for c in status.get("conditions") or ():
        if c.get("type") == "Running" and c.get("status") == "False" and c.get("reason") == "Error":
            return c.get("message") or "the clone reported an error"
        # The target namespace's quota refused the claim: CDI retries, but nothing changes until someone raises the
        # quota, so say so now rather than at the timeout. Resuming starts the disk over.
        if c.get("type") == "Bound" and c.get("status") == "False" and c.get("reason") == "ErrExceededQuota":
            return c.get("message") or "the target namespace's ResourceQuota refused the claim"
    return None


def _running_message(dv) -> str:
    for c in (dv.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Running" and c.get("message"):
            return c["message"]
    return ""


def warning_events(api, kind: str, name: str, namespace: str, limit: int = 3) -> List[str]:
    """The latest Warning events of an object, as "Reason: message"."""
    try:
        events = api.list(kinds.EVENT, namespace,
                          field_selector=f"involvedObject.kind={kind},involvedObject.name={name}").items
    except kerr.ApiError:
        return []
    warnings = [e for e in events if e.get("type") == "Warning"]
    warnings.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return [f"{e.get('reason')}: {e.get('message')}" for e in warnings[-limit:]]


def _ensure_created(ctx: RunContext, kind, obj: dict) -> dict:
    name = obj["metadata"]["name"]
    existing = ctx.api.get_or_none(kind, name, ctx.target)
    if existing is not None:
        if not ctx.ours(existing):
            raise ctx.not_ours(kind.kind, name, existing)
        return existing
    try:
        return ctx.api.create(kind, obj, namespace=ctx.target, retry_unsafe=True)
    except kerr.AlreadyExists as exists:
        existing = ctx.api.get(kind, name, ctx.target)
        if not ctx.ours(existing):
            raise ctx.not_ours(kind.kind, name, existing) from exists
        return existing


# ---------------------------------------------------------------------------------------------- clone


def clone(ctx: RunContext, entry: dict, steps: List[dict]) -> str:
    """Create the DataVolumes of all `steps` (one VM's disks) and wait until every one succeeded."""
    vm = entry["name"]
    for step in steps:
        pvc = ctx.api.get_or_none(kinds.PVC, step["name"], ctx.target)
        if pvc is not None and not ctx.ours(pvc) and ctx.api.get_or_none(kinds.DATAVOLUME, step["name"], ctx.target) is None:
            raise ctx.not_ours("PersistentVolumeClaim", step["name"], pvc)
        obj = copy.deepcopy(step["object"])
        obj["metadata"].setdefault("labels", {})[VM_LABEL] = vm
        _discard_failed_clone(ctx, vm, step["name"])
        _ensure_created(ctx, kinds.DATAVOLUME, obj)
    sizes = {d["claim"]: max(1, int(d.get("size") or 1)) for d in entry.get("disks") or ()}
    names = [s["name"] for s in steps]
    total = sum(sizes.get(n, 1) for n in names)

    def on_change(current: Dict[str, Optional[dict]]):
        done = sum(sizes.get(n, 1) * percent(current.get(n)) / 100 for n in names)
        ctx.report(vm, step=f"clone {len(names)} disk(s)", progress=100 * done / total)

    selector = f"{MOVE_ID_LABEL}={ctx.move_id},{VM_LABEL}={vm}"
    try:
        wait_for_all(ctx.api, kinds.DATAVOLUME, ctx.target, names, selector,
                     done=lambda dv: (dv.get("status") or {}).get("phase") == "Succeeded",
                     failed=clone_failure, timeout=ctx.timeout, on_change=on_change)
    except SetFailed as err:
        raise StepFailed(_clone_cause(ctx, err.name, err.reason)) from err
    except WaitTimeout as cause:
        raise StepFailed(_clone_timeout(ctx, vm, names)) from cause
    return f"{len(names)} disk(s) cloned"


def _discard_failed_clone(ctx: RunContext, vm: str, name: str) -> None:
    """A clone that failed in an earlier run starts over. Its error stays on the DataVolume until CDI happens to
    retry, so waiting on it would fail again at once; the half-copied target is this move's own and holds nothing
    the user owns. The claim must be gone before the new DataVolume exists, or CDI would find a claim it did not
    make (and must never adopt a partial copy)."""
    dv = ctx.api.get_or_none(kinds.DATAVOLUME, name, ctx.target)
    if dv is None or not ctx.ours(dv):
        return
    cause = clone_failure(dv)
    if cause is None:
        return
    ctx.report(vm, step=f"copying {name} again (the last attempt failed: {cause})")
    try:
        ctx.api.delete(kinds.DATAVOLUME, name, ctx.target, propagation="Foreground")
    except kerr.NotFound:
        pass
    for kind in (kinds.DATAVOLUME, kinds.PVC):
        try:
            wait_for(ctx.api, kind, name, ctx.target, lambda obj: obj is None, ctx.timeout,
                     what="be deleted before the disk is copied again")
        except WaitTimeout as err:
            raise StepFailed(f"step clone of {ctx.target}/{vm}: the failed copy {name} could not be removed: "
                             f"{err}") from err


def dv_state(dv: Optional[dict]) -> str:
    """A DataVolume's state as a user reads it: phase, progress, and why it is not running when CDI says so."""
    if dv is None:
        return "does not exist"
    status = dv.get("status") or {}
    text = f"phase {status.get('phase') or 'unknown'}"
    if status.get("progress") and status.get("progress") != "N/A":
        text += f", progress {status['progress']}"
    for c in status.get("conditions") or ():
        if c.get("type") == "Running" and c.get("status") != "True" and (c.get("reason") or c.get("message")):
            text += f", not running: {c.get('reason') or ''}{': ' if c.get('message') else ''}{c.get('message') or ''}"
    return text


def _clone_timeout(ctx: RunContext, vm: str, names: List[str]) -> str:
    from ...printers import human_duration

    stuck = {n: ctx.api.get_or_none(kinds.DATAVOLUME, n, ctx.target) for n in names}
    stuck = {n: dv for n, dv in stuck.items() if percent(dv) < 100}
    seen = "; ".join(f"datavolume {ctx.target}/{n}: {dv_state(dv)}" for n, dv in sorted(stuck.items()))
    events = [e for n in stuck for e in warning_events(ctx.api, "DataVolume", n, ctx.target)]
    return (f"step clone of the {len(names)} disk(s) of {ctx.target}/{vm} timed out after "
            f"{human_duration(ctx.timeout or 0)} (--timeout covers all disks of a VM together); last seen: {seen}"
            + (f"; events: {'; '.join(events)}" if events else "")
            + ". Re-run to continue waiting, or raise --timeout")


def _clone_cause(ctx: RunContext, name: str, reason: str) -> str:
    dv = ctx.api.get_or_none(kinds.DATAVOLUME, name, ctx.target) or {}
    src = ((dv.get("spec") or {}).get("source") or {}).get("pvc") or {}
    origin = f"{src.get('namespace', ctx.source)}/{src.get('name', name)}"
    parts = [f"clone of {origin} into datavolume {ctx.target}/{name} failed: {reason}"]
    pvc = ctx.api.get_or_none(kinds.PVC, name, ctx.target) or {}
    clone_error = ((pvc.get("metadata") or {}).get("annotations") or {}).get("cdi.kubevirt.io/cloneError")
    if clone_error and clone_error not in reason:
        parts.append(f"claim annotation cloneError: {clone_error}")
    events = warning_events(ctx.api, "DataVolume", name, ctx.target)
    if events:
        parts.append("events: " + "; ".join(events))
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------- transfer


def cdi_version(api) -> Optional[tuple]:
    """The installed CDI's version as a tuple of ints (from the CDI resource's status), None when it cannot be read."""
    try:
        items = api.list(kinds.CDI).items
    except kerr.ApiError:
        return None
    for cdi in items:
        text = str((cdi.get("status") or {}).get("observedVersion") or "").lstrip("v")
        parts = []
        for piece in text.split("-")[0].split("."):
            if not piece.isdigit():
                break
            parts.append(int(piece))
        if parts:
            return tuple(parts)
    return None


def object_transfer_choice(api, plan: dict) -> Tuple[bool, Optional[tuple]]:
    """(whether this run's transfers go through CDI's ObjectTransfer, the CDI version when known).

    The plan asks for it where CDI served the API when planning; it is used when the API is still served and this
    CDI is not known to have deleted it; otherwise the volumes are rebound natively (the same steps, §2.2)."""
    wanted = any(s.get("objectTransfer") for v in MovePlan(plan).vms for s in v["steps"] if s["action"] == "transfer")
    if not wanted or not api.serves_resource(kinds.OBJECTTRANSFER):
        return False, None
    version = cdi_version(api)
    if OBJECT_TRANSFER_REMOVED_IN is not None and version is not None and version >= OBJECT_TRANSFER_REMOVED_IN:
        return False, version
    return True, version


def object_transfer_warning(version: Optional[tuple]) -> str:
    shown = f"CDI v{'.'.join(map(str, version))}" if version else "this CDI"
    deprecated = "v" + ".".join(map(str, OBJECT_TRANSFER_DEPRECATED_IN))
    return (f"CDI's ObjectTransfer API is deprecated since {deprecated} and will be removed; {shown} still serves it, "
            "so this move transfers the volumes with it. Without it, the same steps run natively "
            "(Retain, claimRef rebind, restore the reclaim policy)")


def transfer(ctx: RunContext, entry: dict, steps: List[dict], use_object_transfer: bool,
             clock: Callable[[], float] = time.monotonic) -> str:
    """Hand each source claim's PersistentVolume to a claim of the same name in the target, without copying.

    One --timeout covers all volumes of the VM, as for clones: each volume's waits get what is left of it."""
    import dataclasses

    deadline = None if not ctx.timeout else clock() + ctx.timeout
    whole = ctx
    for step in steps:
        ctx.check_stop()
        if deadline is not None:
            left = deadline - clock()
            if left <= 0:
                from ...printers import human_duration

                raise StepFailed(f"step transfer of the {len(steps)} volume(s) of {ctx.target}/{entry['name']} timed "
                                 f"out after {human_duration(whole.timeout or 0)} before volume {step['name']} (--timeout "
                                 "covers all disks of a VM together). Re-run to continue, or raise --timeout")
            ctx = dataclasses.replace(whole, timeout=left)
        ctx.report(entry["name"], step=f"transfer {step['name']}")
        if use_object_transfer:
            _object_transfer(ctx, entry, step)
        else:
            rebind(ctx, step["name"], ctx.source, ctx.target, step.get("persistentVolume"),
                   target_claim=step["object"])
        _mark_target_claim(ctx, step)
    return f"{len(steps)} volume(s) transferred"


def _source_dv_prepopulated(ctx: RunContext, claim: str, namespace: str) -> None:
    """A DataVolume whose claim disappears re-creates it (and imports again); marked pre-populated, CDI waits for
    the claim to come back instead, which is what a rollback does."""
    dv = ctx.api.get_or_none(kinds.DATAVOLUME, claim, namespace)
    if dv is None:
        return
    if PRE_POPULATED in ((dv.get("metadata") or {}).get("annotations") or {}):
        return
    ctx.api.patch(kinds.DATAVOLUME, claim, {"metadata": {"annotations": {
        PRE_POPULATED: claim, "vmmove.io/pre-populated-by": ctx.move_id}}}, namespace=namespace)


def _mark_target_claim(ctx: RunContext, step: dict) -> None:
    want = step["object"]["metadata"]
    pvc = ctx.api.get(kinds.PVC, step["name"], ctx.target)
    labels = (pvc["metadata"].get("labels") or {})
    missing_labels = {k: v for k, v in (want.get("labels") or {}).items() if labels.get(k) != v}
    annotations = pvc["metadata"].get("annotations") or {}
    missing_ann = {k: v for k, v in (want.get("annotations") or {}).items()
                   if k.startswith("vmmove.io/") and annotations.get(k) != v}
    if missing_labels or missing_ann:
        ctx.api.patch(kinds.PVC, step["name"], {"metadata": {"labels": missing_labels or None,
                                                              "annotations": missing_ann or None}},
                      namespace=ctx.target)


def _object_transfer(ctx: RunContext, entry: dict, step: dict) -> None:
    claim = step["name"]
    target = ctx.api.get_or_none(kinds.PVC, claim, ctx.target)
    if target is not None and (target.get("status") or {}).get("phase") == "Bound" and \
            ctx.api.get_or_none(kinds.PVC, claim, ctx.source) is None:
        return
    if target is not None and not ctx.ours(target) and \
            ((target.get("metadata") or {}).get("annotations") or {}).get("vmmove.io/source") is None and \
            ctx.api.get_or_none(kinds.PVC, claim, ctx.source) is not None:
        raise ctx.not_ours("PersistentVolumeClaim", claim, target)
    _source_dv_prepopulated(ctx, claim, ctx.source)
    name = transfer_name(ctx.move_id, ctx.source, claim)
    ot = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "ObjectTransfer",
          "metadata": {"name": name, "labels": {MOVE_ID_LABEL: ctx.move_id}},
          "spec": {"source": {"kind": "PersistentVolumeClaim", "namespace": ctx.source, "name": claim},
                   "target": {"namespace": ctx.target, "name": claim}}}
    if ctx.api.get_or_none(kinds.OBJECTTRANSFER, name) is None:
        try:
            ctx.api.create(kinds.OBJECTTRANSFER, ot, retry_unsafe=True)
        except kerr.AlreadyExists:
            pass

    def failed(obj):
        return (obj.get("status") or {}).get("phase") == "Error"

    try:
        done = wait_for(ctx.api, kinds.OBJECTTRANSFER, name, None,
                        lambda o: o is not None and ((o.get("status") or {}).get("phase") in ("Complete", "Error")),
                        ctx.timeout, what="complete")
    except WaitTimeout as err:
        raise StepFailed(str(err)) from err
    if failed(done):
        cond: dict = next((c for c in ((done or {}).get("status") or {}).get("conditions") or ()
                           if c.get("type") == "Complete"), {})
        raise StepFailed(f"objecttransfer {name} failed: {cond.get('reason') or cond.get('message') or 'Error'}")


def transfer_name(move_id: str, namespace: str, claim: str) -> str:
    import hashlib

    digest = hashlib.sha256(f"{namespace}/{claim}".encode()).hexdigest()[:8]
    return f"vmmove-{move_id}-{claim}"[:240] + f"-{digest}"


def rebind(ctx: RunContext, claim: str, from_ns: str, to_ns: str, pv_name: Optional[str],
           target_claim: dict) -> None:
    """Move `from_ns/claim`'s PersistentVolume to `to_ns/claim` (kubevirt-move-mechanics.md §2.2).

    Each stage checks where the volume is, so a run killed at any point continues: the PV keeps `Retain` (and the
    original policy in an annotation) from before the source claim is deleted until the target claim is bound.
    """
    api = ctx.api
    source = api.get_or_none(kinds.PVC, claim, from_ns)
    if pv_name is None and source is not None:
        pv_name = (source.get("spec") or {}).get("volumeName")
    target = api.get_or_none(kinds.PVC, claim, to_ns)
    if pv_name is None and target is not None:
        pv_name = (target.get("spec") or {}).get("volumeName")
    if not pv_name:
        raise StepFailed(f"persistentvolumeclaim {from_ns}/{claim} is not bound to a volume; nothing to transfer")
    pv = api.get_or_none(kinds.PV, pv_name)
    if pv is None:
        raise StepFailed(f"persistentvolume {pv_name} of claim {from_ns}/{claim} does not exist")
    if target is not None and (target.get("spec") or {}).get("volumeName") != pv_name:
        raise StepFailed(f"persistentvolumeclaim {to_ns}/{claim} exists and is bound to another volume; it is left "
                         "untouched")
    annotations = (pv.get("metadata") or {}).get("annotations") or {}
    original = annotations.get(RECLAIM_ANNOTATION) or pv["spec"].get("persistentVolumeReclaimPolicy") or "Delete"
    if pv["spec"].get("persistentVolumeReclaimPolicy") != "Retain" or RECLAIM_ANNOTATION not in annotations:
        # Retain before the claim goes: with Delete, deleting the claim would delete the data.
        if target is None or (target.get("status") or {}).get("phase") != "Bound":
            pv = api.patch(kinds.PV, pv_name, {"metadata": {"annotations": {RECLAIM_ANNOTATION: original}},
                                               "spec": {"persistentVolumeReclaimPolicy": "Retain"}})
    if source is not None and (source.get("spec") or {}).get("volumeName") == pv_name:
        _source_dv_prepopulated(ctx, claim, from_ns)
        if not source["metadata"].get("deletionTimestamp"):
            api.delete(kinds.PVC, claim, from_ns, preconditions={"uid": source["metadata"]["uid"]})
        try:
            wait_for(api, kinds.PVC, claim, from_ns, lambda o: o is None or
                     (o.get("spec") or {}).get("volumeName") != pv_name, ctx.timeout, what="be deleted")
        except WaitTimeout as err:
            raise StepFailed(f"{err} (a pod may still use it)") from err
    ref = (pv["spec"].get("claimRef") or {})
    if target is None:
        if ref.get("namespace") != to_ns or ref.get("name") != claim or ref.get("uid"):
            api.patch(kinds.PV, pv_name, {"spec": {"claimRef": {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": to_ns, "name": claim,
                "uid": None, "resourceVersion": None}}})
        obj = copy.deepcopy(target_claim)
        obj["metadata"]["namespace"] = to_ns
        obj.setdefault("spec", {})["volumeName"] = pv_name
        obj.pop("status", None)
        try:
            api.create(kinds.PVC, obj, namespace=to_ns, retry_unsafe=True)
        except kerr.AlreadyExists:
            pass
    try:
        wait_for(api, kinds.PVC, claim, to_ns, lambda o: o is not None and
                 (o.get("status") or {}).get("phase") == "Bound", ctx.timeout, what="be Bound")
    except WaitTimeout as err:
        raise StepFailed(str(err)) from err
    pv = api.get(kinds.PV, pv_name)
    annotations = (pv.get("metadata") or {}).get("annotations") or {}
    if RECLAIM_ANNOTATION in annotations:
        api.patch(kinds.PV, pv_name, {"metadata": {"annotations": {RECLAIM_ANNOTATION: None}},
                                      "spec": {"persistentVolumeReclaimPolicy": annotations[RECLAIM_ANNOTATION]}})

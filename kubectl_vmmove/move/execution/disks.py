"""Copying a VM's disks with CDI clones: a DataVolume in the target whose `source.pvc` names the source claim (the
zero-copy transfer of the volumes themselves is in transfer.py).

Clone success and failure follow kubevirt-move-mechanics.md §1.5: success is phase Succeeded; in the populator
flow CDI never sets Failed, so a `Running` condition False with reason Error is a failure too, and the cause shown
is that condition's message plus the Warning events of the DataVolume.
"""

import copy
from typing import Dict, List, Optional

from ...kube import errors as kerr
from ...kube import kinds
from ...kube.wait import SetFailed, WaitTimeout, wait_for, wait_for_all
from ..context import RunContext, StepFailed
from ..rewrite import MOVE_ID_LABEL

VM_LABEL = "vmmove.io/vm"
POPULATED_FOR = "cdi.kubevirt.io/storage.populatedFor"


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
    known = all(sizes.get(n, 1) > 1 for n in names)     # bytes are shown only when every disk's size is known

    def on_change(current: Dict[str, Optional[dict]]):
        done = sum(sizes.get(n, 1) * percent(current.get(n)) / 100 for n in names)
        ctx.report(vm, step=f"clone {len(names)} disk(s)", progress=100 * done / total,
                   total_bytes=total if known else None)

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

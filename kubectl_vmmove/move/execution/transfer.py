"""Zero-copy transfer of claims between namespaces: each PersistentVolume is handed from a claim in one namespace to
a claim of the same name in another (kubevirt-move-mechanics.md §2), by CDI's ObjectTransfer where that resource is
served, else natively. `run` hands a VM's claims to the target, `rollback` hands them back.

The native hand-over is named steps, each run for all claims of a VM together and each looking at the cluster
first, so a re-run after a crash at any point continues:

1. release the source claim: the volume gets `Retain` (its policy kept in an annotation) before the claim is deleted,
   so no delete in between can lose the data; a source DataVolume is marked pre-populated so CDI waits for its claim
   instead of importing again;
2. wait (one watch per namespace) until every released claim is gone: the controller-manager drops the deleted
   claim's `kubernetes.io/pvc-protection` finalizer some seconds after the delete;
3. claim in the target: the volume's claimRef is pointed at the new claim (no uid) and the claim is created on it;
4. wait (one watch) until every new claim is Bound: the PV binder binds a pre-bound claim at its next sync;
5. restore each volume's reclaim policy.

On a real control plane steps 2 and 4 cost about 6 s and 9 s whatever the number of claims, so handing n claims
together costs what one costs, not n times that.
"""

import copy
import hashlib
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from ...kube import errors as kerr
from ...kube import kinds
from ...kube.wait import SetFailed, WaitTimeout, wait_for_all, watch_until
from ..context import RunContext, StepFailed
from ..planning.moveplan import MovePlan
from ..rewrite import MOVE_ID_LABEL, PRE_POPULATED_BY

PRE_POPULATED = "cdi.kubevirt.io/storage.prePopulated"
RECLAIM_ANNOTATION = "vmmove.io/reclaim-policy"
# CDI deprecated ObjectTransfer in v1.61 "for removal in v1" (kubevirt-move-mechanics.md §2.1). The release that
# deletes it is not named yet; once it is, set it here and from that CDI version on the native rebind is used even
# where a leftover CRD is still served.
OBJECT_TRANSFER_DEPRECATED_IN = (1, 61)
OBJECT_TRANSFER_REMOVED_IN: Optional[tuple] = None


@dataclass
class Handover:
    """One claim's volume going from `from_ns/claim` to `to_ns/claim` (created from `target_claim`)."""
    claim: str
    from_ns: str
    to_ns: str
    pv: Optional[str]
    target_claim: dict


class Deadline:
    """One --timeout for all claims of a VM: each wait gets what is left of it."""

    def __init__(self, timeout: Optional[float], what: str, clock: Callable[[], float] = time.monotonic):
        self.timeout, self.what, self.clock = timeout, what, clock
        self.end = None if not timeout else clock() + timeout

    def left(self) -> Optional[float]:
        if self.end is None:
            return None
        left = self.end - self.clock()
        if left <= 0:
            from ...printers import human_duration

            raise StepFailed(f"{self.what} timed out after {human_duration(self.timeout or 0)} (--timeout covers all "
                             "disks of a VM together). Re-run to continue, or raise --timeout")
        return left


# ---------------------------------------------------------------------------------------------- which way


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

    The plan asks for it where discovery listed the resource when planning; it is used when discovery still lists
    `objecttransfers` now (not merely CDI's group version) and this CDI is not known to have deleted it; otherwise
    the volumes are rebound natively (the same steps, §2.2)."""
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


# ---------------------------------------------------------------------------------------------- run


def transfer(ctx: RunContext, entry: dict, steps: List[dict], use_object_transfer: bool,
             clock: Callable[[], float] = time.monotonic) -> str:
    """Hand the VM's source claims' volumes to claims of the same names in the target, all claims together."""
    vm = entry["name"]
    deadline = Deadline(ctx.timeout, f"step transfer of the {len(steps)} volume(s) of {ctx.target}/{vm}", clock)
    ctx.check_stop()
    if use_object_transfer:
        _object_transfers(ctx, vm, steps, deadline)
    else:
        hand_over(ctx, vm, [Handover(s["name"], ctx.source, ctx.target, s.get("persistentVolume"), s["object"])
                            for s in steps], deadline)
    for step in steps:
        _mark_target_claim(ctx, step)
    return f"{len(steps)} volume(s) transferred"


def source_dv_prepopulated(ctx: RunContext, claim: str, namespace: str) -> None:
    """A DataVolume whose claim disappears re-creates it (and imports again); marked pre-populated, CDI waits for
    the claim to come back instead, which is what a rollback does."""
    dv = ctx.api.get_or_none(kinds.DATAVOLUME, claim, namespace)
    if dv is None:
        return
    if PRE_POPULATED in ((dv.get("metadata") or {}).get("annotations") or {}):
        return
    ctx.api.patch(kinds.DATAVOLUME, claim, {"metadata": {"annotations": {
        PRE_POPULATED: claim, PRE_POPULATED_BY: ctx.move_id}}}, namespace=namespace)


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


def sources_note(move_id: str, source: str, target: str, vms: List[str]) -> str:
    """What the source VMs of a transfer look like until cleanup, and why (for status, verify)."""
    shown = ", ".join(vms[:5]) + (f" and {len(vms) - 5} more" if len(vms) > 5 else "")
    return (f"the source VMs ({shown}) in {source} were moved by transfer: their volumes now belong to claims in "
            f"{target}, so CDI shows their DataVolumes Pending and KubeVirt the VMs Provisioning until "
            f"'kubectl vmmove cleanup {move_id}' deletes them ('kubectl vmmove rollback {move_id}' hands the volumes "
            "back instead)")


def moved_by(dv: Optional[dict]) -> Optional[str]:
    """The move that transferred this (source) DataVolume's claim away, from the mark it left; None otherwise."""
    return ((dv or {}).get("metadata") or {}).get("annotations", {}).get(PRE_POPULATED_BY)


# ---------------------------------------------------------------------------------------------- ObjectTransfer


def transfer_name(move_id: str, namespace: str, claim: str) -> str:
    digest = hashlib.sha256(f"{namespace}/{claim}".encode()).hexdigest()[:8]
    return f"vmmove-{move_id}-{claim}"[:240] + f"-{digest}"


def _object_transfers(ctx: RunContext, vm: str, steps: List[dict], deadline: Deadline) -> None:
    """One ObjectTransfer per claim, all created first and waited on with one watch; each is deleted once complete
    (they are cluster-scoped and nothing else would remove them)."""
    names = []
    for step in steps:
        if _object_transfer_start(ctx, step["name"]):
            names.append(transfer_name(ctx.move_id, ctx.source, step["name"]))
    if names:
        ctx.report(vm, step=f"transfer {len(names)} volume(s) (ObjectTransfer)")

        def failed(obj: dict) -> Optional[str]:
            if (obj.get("status") or {}).get("phase") != "Error":
                return None
            cond: dict = next((c for c in (obj.get("status") or {}).get("conditions") or ()
                               if c.get("type") == "Complete"), {})
            return cond.get("reason") or cond.get("message") or "Error"

        try:
            wait_for_all(ctx.api, kinds.OBJECTTRANSFER, None, names, f"{MOVE_ID_LABEL}={ctx.move_id}",
                         done=lambda o: (o.get("status") or {}).get("phase") == "Complete", failed=failed,
                         timeout=deadline.left())
        except SetFailed as err:
            raise StepFailed(f"objecttransfer {err.name} failed: {err.reason}") from err
        except WaitTimeout as err:
            raise StepFailed(str(err)) from err
    delete_object_transfers(ctx, [transfer_name(ctx.move_id, ctx.source, s["name"]) for s in steps])


def _object_transfer_start(ctx: RunContext, claim: str) -> bool:
    """Create the claim's ObjectTransfer unless the claim is in the target already; False when there is nothing to
    wait for."""
    target = ctx.api.get_or_none(kinds.PVC, claim, ctx.target)
    source = ctx.api.get_or_none(kinds.PVC, claim, ctx.source)
    if target is not None and (target.get("status") or {}).get("phase") == "Bound" and source is None:
        return False
    if target is not None and not ctx.ours(target) and \
            ((target.get("metadata") or {}).get("annotations") or {}).get("vmmove.io/source") is None and \
            source is not None:
        raise ctx.not_ours("PersistentVolumeClaim", claim, target)
    source_dv_prepopulated(ctx, claim, ctx.source)
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
    return True


def delete_object_transfers(ctx: RunContext, names: Optional[List[str]] = None) -> List[str]:
    """Delete this move's ObjectTransfers (those named, or all that carry its move id); returns what was deleted."""
    if names is None:
        if not ctx.api.serves_resource(kinds.OBJECTTRANSFER):
            return []
        names = [o["metadata"]["name"] for o in ctx.api.list(
            kinds.OBJECTTRANSFER, None, label_selector=f"{MOVE_ID_LABEL}={ctx.move_id}").items]
    deleted = []
    for name in names:
        try:
            ctx.api.delete(kinds.OBJECTTRANSFER, name)
            deleted.append(f"objecttransfer/{name}")
        except kerr.NotFound:
            continue
    return deleted


def leftover_object_transfers(api, move_id: str) -> List[str]:
    """Names of the ObjectTransfers of a move that still exist (none where the resource is not served)."""
    if not api.serves_resource(kinds.OBJECTTRANSFER):
        return []
    items = api.list(kinds.OBJECTTRANSFER, None, label_selector=f"{MOVE_ID_LABEL}={move_id}").items
    return sorted(o["metadata"]["name"] for o in items)


# ---------------------------------------------------------------------------------------------- native


def hand_over(ctx: RunContext, vm: str, handovers: List[Handover], deadline: Deadline) -> None:
    """The native steps of the module docstring, each for all `handovers` (one namespace pair) together."""
    if not handovers:
        return
    n = len(handovers)
    for h in handovers:
        h.pv = locate(ctx.api, h)
        release_source(ctx, h)
    ctx.report(vm, step=f"release {n} claim(s) in {handovers[0].from_ns}")
    _wait_claims(ctx, vm, handovers[0].from_ns, {h.claim: h.pv for h in handovers}, released=True,
                 deadline=deadline)
    for h in handovers:
        claim_in_target(ctx, h)
    ctx.report(vm, step=f"claim {n} volume(s) in {handovers[0].to_ns}")
    _wait_claims(ctx, vm, handovers[0].to_ns, {h.claim: h.pv for h in handovers}, released=False,
                 deadline=deadline)
    for h in handovers:
        restore_reclaim_policy(ctx.api, h.pv or "")


def locate(api, h: Handover) -> str:
    """The volume being handed over (from the plan, else from whichever claim holds it now)."""
    source = api.get_or_none(kinds.PVC, h.claim, h.from_ns)
    target = api.get_or_none(kinds.PVC, h.claim, h.to_ns)
    pv_name = h.pv or ((source or {}).get("spec") or {}).get("volumeName") or \
        ((target or {}).get("spec") or {}).get("volumeName")
    if not pv_name:
        raise StepFailed(f"persistentvolumeclaim {h.from_ns}/{h.claim} is not bound to a volume; nothing to transfer")
    if api.get_or_none(kinds.PV, pv_name) is None:
        raise StepFailed(f"persistentvolume {pv_name} of claim {h.from_ns}/{h.claim} does not exist")
    if target is not None and (target.get("spec") or {}).get("volumeName") != pv_name:
        raise StepFailed(f"persistentvolumeclaim {h.to_ns}/{h.claim} exists and is bound to another volume; it is "
                         "left untouched")
    return pv_name


def release_source(ctx: RunContext, h: Handover) -> None:
    """Step 1: Retain first (with Delete, deleting the claim would delete the data), then delete the source claim."""
    api, pv_name = ctx.api, h.pv or ""
    pv = api.get(kinds.PV, pv_name)
    annotations = (pv.get("metadata") or {}).get("annotations") or {}
    original = annotations.get(RECLAIM_ANNOTATION) or pv["spec"].get("persistentVolumeReclaimPolicy") or "Delete"
    target = api.get_or_none(kinds.PVC, h.claim, h.to_ns)
    if (pv["spec"].get("persistentVolumeReclaimPolicy") != "Retain" or RECLAIM_ANNOTATION not in annotations) and \
            (target is None or (target.get("status") or {}).get("phase") != "Bound"):
        api.patch(kinds.PV, pv_name, {"metadata": {"annotations": {RECLAIM_ANNOTATION: original}},
                                      "spec": {"persistentVolumeReclaimPolicy": "Retain"}})
    source = api.get_or_none(kinds.PVC, h.claim, h.from_ns)
    if source is not None and (source.get("spec") or {}).get("volumeName") == pv_name:
        source_dv_prepopulated(ctx, h.claim, h.from_ns)
        if not source["metadata"].get("deletionTimestamp"):
            try:
                api.delete(kinds.PVC, h.claim, h.from_ns, preconditions={"uid": source["metadata"]["uid"]})
            except kerr.NotFound:
                pass


def claim_in_target(ctx: RunContext, h: Handover) -> None:
    """Step 3: point the volume at the new claim and create that claim on it (nothing when it exists)."""
    api, pv_name = ctx.api, h.pv or ""
    if api.get_or_none(kinds.PVC, h.claim, h.to_ns) is not None:
        return
    ref = api.get(kinds.PV, pv_name)["spec"].get("claimRef") or {}
    if ref.get("namespace") != h.to_ns or ref.get("name") != h.claim or ref.get("uid"):
        api.patch(kinds.PV, pv_name, {"spec": {"claimRef": {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": h.to_ns, "name": h.claim,
            "uid": None, "resourceVersion": None}}})
    obj = copy.deepcopy(h.target_claim)
    obj["metadata"]["namespace"] = h.to_ns
    obj.setdefault("spec", {})["volumeName"] = pv_name
    obj.pop("status", None)
    try:
        api.create(kinds.PVC, obj, namespace=h.to_ns, retry_unsafe=True)
    except kerr.AlreadyExists:
        pass


def restore_reclaim_policy(api, pv_name: str) -> None:
    """Step 5: the policy the volume had before the hand-over (kept in an annotation until now)."""
    pv = api.get(kinds.PV, pv_name)
    annotations = (pv.get("metadata") or {}).get("annotations") or {}
    if RECLAIM_ANNOTATION in annotations:
        api.patch(kinds.PV, pv_name, {"metadata": {"annotations": {RECLAIM_ANNOTATION: None}},
                                      "spec": {"persistentVolumeReclaimPolicy": annotations[RECLAIM_ANNOTATION]}})


def _wait_claims(ctx: RunContext, vm: str, namespace: str, volumes: Dict[str, Optional[str]], released: bool,
                 deadline: Deadline) -> None:
    """Steps 2 and 4: one watch on the namespace's claims until every named claim is gone from its volume
    (`released`) or Bound, showing how many are done as progress."""
    current: Dict[str, Optional[dict]] = {n: None for n in volumes}

    def done(name: str) -> bool:
        obj = current[name]
        if released:
            return obj is None or (obj.get("spec") or {}).get("volumeName") != volumes[name]
        return obj is not None and (obj.get("status") or {}).get("phase") == "Bound"

    state = {"shown": -1}

    def reached() -> bool:
        count = sum(done(n) for n in volumes)
        if count != state["shown"]:
            state["shown"] = count
            verb = "released" if released else "bound"
            ctx.report(vm, step=f"{count}/{len(volumes)} claim(s) {verb} in {namespace}",
                       progress=100.0 * count / len(volumes))
        return count == len(volumes)

    def listed(items: list) -> None:
        current.update({n: None for n in volumes})
        current.update({o["metadata"]["name"]: o for o in items if o["metadata"]["name"] in volumes})

    def event(etype: str, obj: dict) -> None:
        if obj["metadata"]["name"] in volumes:
            current[obj["metadata"]["name"]] = None if etype == "DELETED" else obj

    try:
        watch_until(ctx.api, kinds.PVC, namespace, reached=reached, on_list=listed, on_event=event,
                    timeout=deadline.left(), timed_out=lambda: _claims_timeout(namespace, volumes, done, released))
    except WaitTimeout as err:
        raise StepFailed(str(err)) from err


def _claims_timeout(namespace: str, volumes: Dict[str, Optional[str]], done: Callable[[str], bool],
                    released: bool) -> str:
    pending = ", ".join(sorted(n for n in volumes if not done(n)))
    if released:
        return (f"persistentvolumeclaim {pending} in namespace {namespace} still not deleted; a pod may still use "
                "it (kubectl get pods -n " + namespace + "). Re-run to continue, or raise --timeout")
    return (f"persistentvolumeclaim {pending} in namespace {namespace} still not Bound to its volume. Re-run to "
            "continue, or raise --timeout")

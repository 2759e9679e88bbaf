"""`rollback`: undo a move that has not been cleaned up.

Per VM, `--parallel` VMs at a time: with `live`, delete both migrations (which cancels one in flight); stop the
target VM; with `transfer`, hand its volumes back to their source claims first, all claims of the VM together (the
volume keeps `Retain` throughout, so no delete in between can lose it; a VM whose volumes cannot be handed back
keeps its target objects); then delete what this move created in the target (found by the move-id label, never
anything else), and give the source VM its original run strategy back. Then the move's ObjectTransfers, if any are
left. Safe to run again.
"""

import copy
import threading
from typing import Dict, List, Optional

from ...kube import errors as kerr
from ...kube import kinds
from ...kube.wait import WaitTimeout, wait_for
from ..context import Interrupted, RunContext, StepFailed
from ..execution import lifecycle, live
from ..execution import transfer as transfermod
from ..state import journal as journalmod
from ..state import records
from ..state.records import VMRecord

# Kinds a move creates in the target, deleted in this order (the VM first: it owns DataVolumes and revisions).
CREATED_KINDS = (kinds.VM, kinds.DATAVOLUME, kinds.PVC, kinds.SERVICE, kinds.NETWORKPOLICY, kinds.SECRET,
                 kinds.CONFIGMAP, kinds.NAD, kinds.SERVICEACCOUNT, kinds.CONTROLLER_REVISION)
_SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "selfLink", "generation", "finalizers")
_BINDING_ANNOTATIONS = ("pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller",
                        "cdi.kubevirt.io/objectTransferName")



def original_claim(recorded: dict, api, namespace: str) -> dict:
    """The source claim as it was, ready to be created again on its volume: server fields dropped, owners kept
    when they still exist (a DataVolume then adopts its claim back)."""
    obj = copy.deepcopy(recorded)
    md = obj["metadata"]
    for key in _SERVER_FIELDS:
        md.pop(key, None)
    md["namespace"] = namespace
    ann = {k: v for k, v in (md.get("annotations") or {}).items() if k not in _BINDING_ANNOTATIONS}
    if ann:
        md["annotations"] = ann
    else:
        md.pop("annotations", None)
    owners = []
    for ref in md.get("ownerReferences") or ():
        try:
            kind = kinds.by_kind(ref.get("kind", ""))
        except KeyError:
            continue
        owner = api.get_or_none(kind, ref.get("name"), namespace)
        if owner is not None and owner["metadata"].get("uid") == ref.get("uid"):
            owners.append(ref)
    if owners:
        md["ownerReferences"] = owners
    else:
        md.pop("ownerReferences", None)
    obj.pop("status", None)
    spec = obj.setdefault("spec", {})
    spec.pop("dataSource", None)
    spec.pop("dataSourceRef", None)
    return obj


def _rollback_vm(ctx: RunContext, entry: dict) -> dict:
    """One VM: cancel its live migration, stop the target, hand its volumes back, delete what was created for it,
    restore the source."""
    name = entry["name"]
    try:
        strategy = ctx.move_plan.strategy_of(entry)
        # A live move in flight is cancelled first: deleting its migrations keeps the source running.
        cancelled = [live.abandon(ctx, entry, keep=True)] if strategy == "live" else []
        ctx.report(name, step="stop the target VM")
        _stop_target(ctx, name)
        details = cancelled + (_hand_back(ctx, entry) if strategy == "transfer" else [])
        ctx.report(name, step="delete what the move created")
        deleted = delete_created(ctx, only_vm=name)
        if deleted:
            details.append("deleted " + ", ".join(deleted))
        details.append(restore_source(ctx, entry))
        ctx.journal.vm_change(name, VMRecord.rolled_back)
        ctx.report(name, step="rolled back")
        return {"vm": name, "result": records.ROLLED_BACK, "detail": "; ".join(details)}
    except (StepFailed, kerr.ApiError) as err:
        ctx.report(name, step="failed")
        return {"vm": name, "result": records.FAILED, "detail": str(err)}


def _rollback_vms(ctx: RunContext, parallel: int) -> List[dict]:
    """`_rollback_vm` for every VM of the plan on `parallel` threads; rows in plan order. Anything else a worker
    meets (a stop, a lost lease, a fenced journal) stops the others and is raised here."""
    entries = list(ctx.move_plan.vms)
    queue, lock = list(entries), threading.Lock()
    results: Dict[str, dict] = {}
    problems: List[BaseException] = []

    def worker() -> None:
        while True:
            with lock:
                if not queue or ctx.stop.is_set():
                    return
                entry = queue.pop(0)
            try:
                results[entry["name"]] = _rollback_vm(ctx, entry)
            except BaseException as err:    # noqa: BLE001 - raised again by the main thread
                problems.append(err)
                ctx.stop.set()
                return

    threads = [threading.Thread(target=worker, name=f"vmmove-rollback-{i}", daemon=True)
               for i in range(max(1, min(parallel, len(entries))))]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.5)
    if problems:
        raise problems[0]
    if ctx.stop.is_set():
        raise Interrupted()
    return [results[e["name"]] for e in entries if e["name"] in results]


def _stop_target(ctx: RunContext, name: str) -> None:
    vm = ctx.api.get_or_none(kinds.VM, name, ctx.target)
    if vm is None or not ctx.ours(vm):
        return
    if (vm.get("spec") or {}).get("runStrategy") == live.WAIT_AS_RECEIVER:
        return      # a receiver is never started or stopped (live-move.md §1.6): deleting it removes its VMI
    vmi = lifecycle.target_vmi(ctx.api, name, ctx.target)
    if lifecycle.vmi_active(vmi):
        try:
            lifecycle.request_state_change(ctx.api, name, ctx.target, "stop")
        except kerr.Conflict:
            pass
    if vmi is not None:
        try:
            wait_for(ctx.api, kinds.VMI, name, ctx.target, lambda o: o is None, ctx.timeout, what="stop")
        except WaitTimeout as err:
            raise StepFailed(str(err)) from err


def _hand_back(ctx: RunContext, entry: dict) -> List[str]:
    """Hand every transferred volume of the VM back to its source claim, all claims together (transfer.py)."""
    recorded = {(o["kind"], o["metadata"]["name"]): o for o in ctx.journal.sources(entry["name"])}
    handovers = []
    for step in entry["steps"]:
        if step["action"] != "transfer":
            continue
        claim = step["name"]
        target = ctx.api.get_or_none(kinds.PVC, claim, ctx.target)
        source = ctx.api.get_or_none(kinds.PVC, claim, ctx.source)
        if target is None and source is not None:
            _unmark_source_dv(ctx, claim)
            continue   # never transferred, or already handed back
        original = recorded.get(("PersistentVolumeClaim", claim))
        if original is None:
            raise StepFailed(f"the journal has no record of claim {ctx.source}/{claim}; cannot hand its volume back")
        handovers.append(transfermod.Handover(claim, ctx.target, ctx.source, step.get("persistentVolume"),
                                              original_claim(original, ctx.api, ctx.source)))
    what = f"handing back the {len(handovers)} volume(s) of {ctx.source}/{entry['name']}"
    transfermod.hand_over(ctx, entry["name"], handovers, transfermod.Deadline(ctx.timeout, what))
    for h in handovers:
        _unmark_source_dv(ctx, h.claim)
    return [f"persistentvolumeclaim/{h.claim} handed back" for h in handovers]


def _unmark_source_dv(ctx: RunContext, claim: str) -> None:
    dv = ctx.api.get_or_none(kinds.DATAVOLUME, claim, ctx.source)
    ann = ((dv or {}).get("metadata") or {}).get("annotations") or {}
    if ann.get(transfermod.PRE_POPULATED_BY) == ctx.move_id:
        ctx.api.patch(kinds.DATAVOLUME, claim, {"metadata": {"annotations": {
            transfermod.PRE_POPULATED: None, transfermod.PRE_POPULATED_BY: None}}}, namespace=ctx.source)


def restore_source(ctx: RunContext, entry: dict) -> str:
    """Give the source VM the run strategy it had before the move (the stop is the only change a move makes)."""
    api, name, ns = ctx.api, entry["name"], ctx.source
    vm = api.get_or_none(kinds.VM, name, ns)
    if vm is None:
        return "source VM gone"
    if entry.get("source", {}).get("uid") and vm["metadata"].get("uid") != entry["source"]["uid"]:
        return "source VM re-created since; left as it is"
    original = entry.get("runStrategy") or "Halted"
    spec = vm.get("spec") or {}
    if original in ("Always", "Once", "Halted"):
        if "runStrategy" in spec:
            if spec["runStrategy"] != original:
                api.patch(kinds.VM, name, {"spec": {"runStrategy": original}}, namespace=ns)
                return f"runStrategy {original}"
        elif bool(spec.get("running")) != (original == "Always"):
            api.patch(kinds.VM, name, {"spec": {"running": original == "Always"}}, namespace=ns)
            return f"running {str(original == 'Always').lower()}"
        return f"runStrategy {original} (unchanged)"
    if entry.get("running") and not lifecycle.vmi_active(lifecycle.target_vmi(api, name, ns)):
        try:
            lifecycle.request_state_change(api, name, ns, "start")
        except kerr.Conflict:
            pass
        return "started again"
    return f"runStrategy {original} (unchanged)"


def delete_created(ctx: RunContext, only_vm: Optional[str] = None, keep_claims: bool = False) -> List[str]:
    """Delete what this move created in the target (by label), the journal excepted."""
    deleted = []
    selector = f"{journalmod.MOVE_ID_LABEL}={ctx.move_id}"
    for kind in CREATED_KINDS:
        if kind == kinds.PVC and keep_claims:
            continue
        try:
            items = ctx.api.list(kind, ctx.target, label_selector=selector).items
        except (kerr.NotFound, kerr.Forbidden):
            continue
        for obj in items:
            name = obj["metadata"]["name"]
            labels = obj["metadata"].get("labels") or {}
            if labels.get(journalmod.JOURNAL_LABEL):
                continue
            if only_vm is not None and not _belongs_to(ctx, obj, only_vm):
                continue
            try:
                ctx.api.delete(kind, name, ctx.target, propagation="Background")
                deleted.append(f"{kind.kind.lower()}/{name}")   # as plan and verify write it
            except kerr.NotFound:
                pass
    return deleted


def _belongs_to(ctx: RunContext, obj: dict, vm_name: str) -> bool:
    entry = ctx.move_plan.vm(vm_name)
    mine = {(s["kind"], s["name"]) for s in entry["steps"]}
    kind, name = obj["kind"], obj["metadata"]["name"]
    if kind == "PersistentVolumeClaim":
        kind = "DataVolume" if ("DataVolume", name) in mine else kind
    return (kind, name) in mine or (obj["kind"], name) in mine or \
        (kind in ("DataVolume", "PersistentVolumeClaim") and any(d["claim"] == name for d in entry.get("disks") or ()))


def created_namespace(ctx: RunContext) -> bool:
    """Whether this move created the target namespace (--create-namespace): rollback keeps it, the journal is in
    it. The namespace's move-id label decides; a user who may not read namespaces is told what the plan says."""
    planned = any(s["action"] == "create" and s["kind"] == "Namespace"
                  for s in ctx.move_plan.prepare)
    try:
        return ctx.ours(ctx.api.get_or_none(kinds.NAMESPACE, ctx.target))
    except kerr.Forbidden:
        return planned


def rollback(ctx: RunContext, parallel: int = 1) -> List[dict]:
    """Roll every VM back, `parallel` VMs at a time; returns rows (vm, result, detail). A VM that cannot be rolled
    back keeps its target objects and is reported; the others go on."""
    ctx.journal.move_update(lambda m: m.update(rollback={"started": journalmod.now_text(), "user": ctx.user}))
    rows = _rollback_vms(ctx, parallel)
    failed = any(r["result"] == records.FAILED for r in rows)
    if not failed:
        shared = delete_created(ctx) + transfermod.delete_object_transfers(ctx)
        if shared:
            rows.append({"vm": "(shared)", "result": records.ROLLED_BACK, "detail": "deleted " + ", ".join(shared)})
        for step in ctx.move_plan.prepare:
            if step["action"] == "label" and step["kind"] == "Namespace":
                ctx.api.patch(kinds.NAMESPACE, step["name"],
                              {"metadata": {"labels": {k: None for k in step.get("labels") or {}}}})

    def note(move):
        move["rollback"] = {**(move.get("rollback") or {}), "finished": None if failed else journalmod.now_text(),
                            "user": ctx.user, "failed": [r["vm"] for r in rows if r["result"] == records.FAILED]}
        if not failed:
            move["phase"] = records.ROLLED_BACK

    ctx.journal.move_update(note)
    return rows

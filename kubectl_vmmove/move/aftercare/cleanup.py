"""`cleanup`: delete the moved VMs' source objects once the target is verified.

Only what the plan listed is deleted: each VM (which takes its DataVolumes, claims, state PVC and revisions with
it through owner references), the disks it did not own, and the dependencies only moving VMs used. Each delete
carries the uid the plan read as a precondition, so an object re-created since is never touched, and a dependency
that a VM outside the move has started to use since the plan is kept, as is a copied NetworkPolicy that now also
selects a VM or pod that stays (policies.py).
"""

from typing import Dict, List, Sequence, Set, Tuple

from ...kube import errors as kerr
from ...kube import kinds
from .. import label_selectors as selectors
from ..context import RunContext
from ..planning import graph as graphmod
from ..planning import policies
from ..planning.moveplan import MovePlan
from ..state import journal as journalmod


def delete_steps(plan: dict) -> List[dict]:
    return MovePlan(plan).cleanup_steps()


def used_by_staying_vms(api, namespace: str, moving: Set[str],
                        policies_to_delete: Sequence[str] = ()) -> Dict[Tuple[str, str], List[str]]:
    """(kind, name) -> staying VMs that name it now (one list of the namespace's VMs), and for the NetworkPolicies
    in `policies_to_delete`, the staying VMs and pods they select now (one list of pods, one get per policy)."""
    out: Dict[Tuple[str, str], List[str]] = {}
    vms = api.list(kinds.VM, namespace).items
    if policies_to_delete:
        out.update(_policies_still_selecting(api, namespace, moving, vms, policies_to_delete))
    for vm in vms:
        name = vm["metadata"]["name"]
        if name in moving:
            continue
        for kind, refs in graphmod.named_references(vm).items():
            for ref, _ in refs:
                out.setdefault((kind, ref), []).append(name)
        for claim, *_ in graphmod.claim_references(vm):
            for kind in ("PersistentVolumeClaim", "DataVolume"):
                out.setdefault((kind, claim), []).append(name)
    return out


def absent_in_target(ctx: RunContext) -> Set[str]:
    """The plan's VMs that do not exist in the target namespace: their source is never deleted."""
    present = {vm["metadata"]["name"] for vm in ctx.api.list(kinds.VM, ctx.target).items}
    return set(ctx.move_plan.vm_names) - present


def _policies_still_selecting(api, namespace, moving, vms, names) -> Dict[Tuple[str, str], List[str]]:
    """A NetworkPolicy copied with the VMs selected only them when planned; one that now also selects a VM or a
    pod that stays (started since) is still the source namespace's and is kept."""
    pods = api.list(kinds.POD, namespace, metadata_only=True).items
    out: Dict[Tuple[str, str], List[str]] = {}
    for name in names:
        policy = api.get_or_none(kinds.NETWORKPOLICY, name, namespace)
        if policy is None:
            continue
        selector = policies.selector_of(policy)
        users = [f"vm {vm['metadata']['name']}" for vm in vms if vm["metadata"]["name"] not in moving
                 and selectors.matches_label_selector(selector, graphmod.launcher_labels(vm))]
        users += [f"pod {p}" for p in policies.staying_selected(policy, pods, moving)]
        if users or policies.namespace_wide(policy):
            out[("NetworkPolicy", name)] = users or ["every pod"]
    return out


def cleanup(ctx: RunContext, dry_run: bool = False) -> List[dict]:
    """Delete the plan's cleanup objects; returns one row per object: kind, name, result.

    With `dry_run` each delete goes to the server as `dryRun=All`: permissions, preconditions and existence are
    checked exactly as for the real thing, nothing is deleted and the journal is not written."""
    api, src = ctx.api, ctx.source
    absent = absent_in_target(ctx)
    # A VM not in the target stays in the source with everything it uses: it counts as a VM that stays.
    moving = set(ctx.move_plan.vm_names) - absent
    kept = {(s["kind"], s["name"]) for vm in ctx.move_plan.vms if vm["name"] in absent for s in vm.get("cleanup") or ()}
    if not dry_run:
        ctx.journal.move_update(lambda m: m.update(cleanup={**(m.get("cleanup") or {}),
                                                            "started": journalmod.now_text(), "user": ctx.user}))
    staying = used_by_staying_vms(api, src, moving, [s["name"] for s in delete_steps(ctx.plan)
                                                      if s["kind"] == "NetworkPolicy"])
    rows = []
    for step in delete_steps(ctx.plan):
        kind = kinds.by_kind(step["kind"])
        users = staying.get((step["kind"], step["name"]))
        if (step["kind"], step["name"]) in kept:
            rows.append({"kind": step["kind"], "name": step["name"],
                         "result": f"kept: its VM is not in namespace {ctx.target}"})
            continue
        if users:
            rows.append({"kind": step["kind"], "name": step["name"],
                         "result": f"kept: now used by {', '.join(sorted(users))}"})
            continue
        uid = (step.get("source") or {}).get("uid")
        try:
            api.delete(kind, step["name"], src, preconditions={"uid": uid} if uid else None, dry_run=dry_run)
            result = "would delete" if dry_run else "deleted"
        except kerr.NotFound:
            result = "already gone"
        except kerr.Conflict:
            result = "kept: re-created since the plan was made"
        rows.append({"kind": step["kind"], "name": step["name"], "result": result})
    if dry_run:
        return rows

    def note(move):
        info = dict(move.get("cleanup") or {})
        info.update(finished=journalmod.now_text(), user=ctx.user,
                    deleted=sorted({f"{r['kind']}/{r['name']}" for r in rows if r["result"] in ("deleted",
                                                                                              "already gone")}
                                   | set(info.get("deleted") or ())),
                    kept=[f"{r['kind']}/{r['name']}: {r['result']}" for r in rows if r["result"].startswith("kept")])
        move["cleanup"] = info

    ctx.journal.move_update(note)
    return rows

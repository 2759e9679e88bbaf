"""`cleanup` gives the source Services' node ports back to their copies.

A node port belongs to one Service in the whole cluster (kube-apiserver refuses a second holder with "provided port
is already allocated"), so a moved Service is created with new ones while the source exists. Once cleanup has
deleted the source Service, its ports are free again and each copy is patched to the ports the plan recorded
(`nodePorts` of the Service's delete step), then read back to verify the change took. Another Service may have
taken a port in between: the copy then keeps its new port and the row says so. Safe to run again.
"""

from typing import Dict, List, Optional, Tuple

from ...kube import errors as kerr
from ...kube import kinds
from ..context import RunContext
from ..planning.moveplan import MovePlan

SOURCE_GONE = ("deleted", "already gone")
GIVEN_BACK = "given back"


def recorded(plan: dict) -> List[dict]:
    """The plan's Service delete steps that carry node ports to give back."""
    return [s for s in MovePlan(plan).cleanup_steps() if s.get("kind") == "Service" and s.get("nodePorts")]


def _key(port: dict) -> Tuple:
    return (port.get("name") or "", port.get("port"), port.get("protocol") or "TCP")


def wanted_changes(target: dict, original: List[dict]) -> List[Tuple[int, int, int]]:
    """(index in spec.ports, node port now, node port to give back) for each port of `target` that differs."""
    want = {_key(p): p["nodePort"] for p in original}
    out = []
    for i, port in enumerate((target.get("spec") or {}).get("ports") or ()):
        back = want.get(_key(port))
        if back is not None and port.get("nodePort") != back:
            out.append((i, port.get("nodePort"), back))
    return out


def _patch(changes: List[Tuple[int, int, int]], resource_version: str) -> List[dict]:
    ops: List[dict] = [{"op": "test", "path": "/metadata/resourceVersion", "value": resource_version}]
    ops += [{"op": "replace", "path": f"/spec/ports/{i}/nodePort", "value": back} for i, _, back in changes]
    return ops


def _ports(changes) -> str:
    return ", ".join(str(back) for _, _, back in changes)


def give_back_one(ctx: RunContext, step: dict, dry_run: bool) -> str:
    """Give one copy its source's node ports; the result as the cleanup table shows it."""
    name = step["name"]
    target = ctx.api.get_or_none(kinds.SERVICE, name, ctx.target)
    if target is None or not ctx.ours(target):
        return "node ports not given back: the copy is gone or was not created by this move"
    changes = wanted_changes(target, step["nodePorts"])
    if not changes:
        return f"node port(s) {', '.join(str(p['nodePort']) for p in step['nodePorts'])} {GIVEN_BACK}"
    now = ", ".join(str(old) for _, old, _ in changes)
    if dry_run:
        return f"would give node port(s) {_ports(changes)} back (now {now})"
    try:
        ctx.api.patch(kinds.SERVICE, name, _patch(changes, target["metadata"]["resourceVersion"]), ctx.target,
                      patch_type="json")
    except kerr.Invalid as err:
        why = "another Service holds it now" if "already allocated" in str(err) else str(err)
        return f"kept new node port(s) {now}: {_ports(changes)} not given back, {why}"
    except (kerr.Conflict, kerr.NotFound):
        return f"kept new node port(s) {now}: the copy changed meanwhile; run cleanup again"
    left = wanted_changes(ctx.api.get(kinds.SERVICE, name, ctx.target), step["nodePorts"])
    if left:
        return f"kept new node port(s) {now}: the copy still shows {', '.join(str(o) for _, o, _ in left)}"
    return f"node port(s) {_ports(changes)} {GIVEN_BACK} (were {now})"


def give_back(ctx: RunContext, cleanup_rows: List[dict], dry_run: bool = False) -> List[dict]:
    """One row per copy whose source Service cleanup deleted (or, dry, would delete): kind, name, namespace, result,
    ok (False when a port could not be given back)."""
    done: Dict[str, str] = {r["name"]: r["result"] for r in cleanup_rows if r["kind"] == "Service"}
    rows = []
    for step in recorded(ctx.plan):
        result: Optional[str] = done.get(step["name"])
        if result not in SOURCE_GONE and not (dry_run and result == "would delete"):
            continue
        text = give_back_one(ctx, step, dry_run)
        rows.append({"kind": "Service", "name": step["name"], "namespace": ctx.target, "result": text,
                     "ok": not text.startswith(("kept", "node ports not"))})
    if rows and not dry_run:
        ctx.journal.move_update(lambda m: m.setdefault("cleanup", {}).update(
            nodePorts=[f"Service/{r['name']}: {r['result']}" for r in rows]))
    return rows

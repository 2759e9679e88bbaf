"""The live steps of a move (`--strategy live`): KubeVirt's decentralized live migration between two namespaces
(live-move.md §4.5). The disks and the receiver VM are created by the ordinary `create` steps; these steps then

- await-receiver: wait until the receiver VMI is `WaitingForSync` (KubeVirt refuses a target migration before);
- migrate-receive: create the target migration (`spec.receive.migrationID`) and wait for its synchronization address;
- migrate-send: create the source migration (`spec.sendTo`) with that address, read again just before (§1.8);
- await-migration: follow both migrations' phases until the target VMI runs, with the move's own timeout for the
  synchronization phases (upstream has none, §1.5), then delete the target migration (the source one goes with the
  source VMI).

Each step first looks at the cluster: a migration that already completed makes every step "already migrated", a
migration that exists is not created again. On failure both migrations are deleted (which cancels the migration,
§1.11), the source keeps running, and the receiver VM and disks are removed unless the plan keeps them
(`--keep-failed`).
"""

import time
from typing import Callable, Optional, Tuple

from ...kube import errors as kerr
from ...kube import kinds
from ..context import Interrupted, RunContext, StepFailed
from ..rewrite import MOVE_ID_LABEL, WAIT_AS_RECEIVER

__all__ = ["ACTIONS", "WAIT_AS_RECEIVER", "abandon", "cancel", "migrated", "run_step"]

RECEIVER_ANNOTATION = "kubevirt.io/create-migration-target"
SYNC_PHASES = ("", "WaitingForSync", "Synchronizing", "Pending")
POLL_SECONDS = 0.05
DEFAULT_SYNC_TIMEOUT = 300.0


def live_options(ctx: RunContext) -> Tuple[float, bool]:
    """(sync timeout in seconds, keep failed target objects) from the plan's spec.live."""
    live = ctx.move_plan.spec.get("live") or {}
    return float(live.get("syncTimeoutSeconds") or DEFAULT_SYNC_TIMEOUT), bool(live.get("keepFailed"))


def migrated(vmi: Optional[dict]) -> bool:
    """The target VMI runs after a completed migration and is no longer a receiver (live-move.md §1.11)."""
    if vmi is None or (vmi.get("status") or {}).get("phase") != "Running":
        return False
    ms = (vmi.get("status") or {}).get("migrationState") or {}
    receiving = ((vmi.get("metadata") or {}).get("annotations") or {}).get(RECEIVER_ANNOTATION) == "true"
    return bool(ms.get("completed")) and not ms.get("failed") and not receiving


def _phase(obj: Optional[dict]) -> str:
    return ((obj or {}).get("status") or {}).get("phase", "") if obj is not None else "absent"


def _poll(ctx: RunContext, probe: Callable[[], Optional[str]], timeout: Optional[float],
          clock: Callable[[], float] = time.monotonic) -> Optional[str]:
    """Call `probe` until it returns a result (not None) or `timeout` passes (then None); stops on Ctrl-C."""
    deadline = None if timeout is None else clock() + timeout
    while True:
        ctx.check_stop()
        result = probe()
        if result is not None:
            return result
        if deadline is not None and clock() >= deadline:
            return None
        time.sleep(POLL_SECONDS)


def await_receiver(ctx: RunContext, entry: dict, step: dict) -> str:
    name = entry["name"]
    sync_timeout, _keep = live_options(ctx)

    def probe():
        vmi = ctx.api.get_or_none(kinds.VMI, name, ctx.target)
        if migrated(vmi):
            return "already migrated"
        if _phase(vmi) == "WaitingForSync":
            return "receiver waiting for sync"
        ctx.report(name, step=f"receiver VMI {_phase(vmi) or 'pending'}")
        return None
    result = _poll(ctx, probe, sync_timeout)
    if result is None:
        vm = ctx.api.get_or_none(kinds.VM, name, ctx.target) or {}
        raise fail(ctx, entry, f"the receiver VM {ctx.target}/{name} did not reach WaitingForSync within "
                               f"{sync_timeout:.0f}s (VM status {(vm.get('status') or {}).get('printableStatus')})")
    return result


def migration_object(ctx: RunContext, step: dict, vmi_name: str, role: dict) -> dict:
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
            "metadata": {"name": step["name"], "labels": {MOVE_ID_LABEL: ctx.move_id}},
            "spec": {"vmiName": vmi_name, **role}}


def _ensure_migration(ctx: RunContext, entry: dict, step: dict, namespace: str, role: dict) -> dict:
    existing = ctx.api.get_or_none(kinds.VMIM, step["name"], namespace)
    if existing is not None:
        return existing
    try:
        return ctx.api.create(kinds.VMIM, migration_object(ctx, step, entry["name"], role), namespace=namespace)
    except kerr.AlreadyExists:
        return ctx.api.get(kinds.VMIM, step["name"], namespace)
    except kerr.ApiError as err:
        raise fail(ctx, entry, f"cannot create the migration {namespace}/{step['name']}: {err.message}") from err


def migrate_receive(ctx: RunContext, entry: dict, step: dict) -> str:
    name = entry["name"]
    if migrated(ctx.api.get_or_none(kinds.VMI, name, ctx.target)):
        return "already migrated"
    _ensure_migration(ctx, entry, step, ctx.target, {"receive": {"migrationID": step["migrationID"]}})
    address = sync_address(ctx, entry, step)
    return f"target migration created, synchronization address {address}"


def sync_address(ctx: RunContext, entry: dict, step: dict) -> str:
    sync_timeout, _keep = live_options(ctx)

    def probe():
        obj = ctx.api.get_or_none(kinds.VMIM, step["name"], ctx.target)
        addrs = ((obj or {}).get("status") or {}).get("synchronizationAddresses") or ()
        return addrs[0] if addrs else None
    address = _poll(ctx, probe, sync_timeout)
    if address is None:
        raise fail(ctx, entry, f"no synchronization address on the migration {ctx.target}/{step['name']} within "
                               f"{sync_timeout:.0f}s: is KubeVirt's virt-synchronization-controller running?")
    return address


def migrate_send(ctx: RunContext, entry: dict, step: dict) -> str:
    name = entry["name"]
    if migrated(ctx.api.get_or_none(kinds.VMI, name, ctx.target)):
        return "already migrated"
    existing = ctx.api.get_or_none(kinds.VMIM, step["name"], ctx.source)
    if existing is not None:
        return "source migration exists"
    address = sync_address(ctx, entry, step)
    _ensure_migration(ctx, entry, step, ctx.source,
                      {"sendTo": {"migrationID": step["migrationID"], "connectURL": address}})
    return f"source migration created (connectURL {address})"


def await_migration(ctx: RunContext, entry: dict, step: dict) -> str:
    """Follow both migrations until the target VMI runs; the phases and elapsed time are the progress (the API has
    no byte counters, live-move.md §4.2)."""
    name = entry["name"]
    sync_timeout, _keep = live_options(ctx)
    started = time.monotonic()
    sync_since = [started]

    def probe():
        tvmi = ctx.api.get_or_none(kinds.VMI, name, ctx.target)
        if migrated(tvmi):
            return "migrated"
        tgt = ctx.api.get_or_none(kinds.VMIM, step["name"], ctx.target)
        src = ctx.api.get_or_none(kinds.VMIM, step["name"], ctx.source)
        if "Failed" in (_phase(tgt), _phase(src)) or (tgt is None and src is None):
            raise fail(ctx, entry, "the live migration failed: " + failure_cause(ctx, name, tgt, src))
        if _phase(tgt) not in SYNC_PHASES or _phase(src) not in SYNC_PHASES:
            sync_since[0] = time.monotonic()
        elif time.monotonic() - sync_since[0] > sync_timeout:
            raise fail(ctx, entry, f"the migrations stayed in synchronization (target {_phase(tgt)}, source "
                                   f"{_phase(src)}) for more than {sync_timeout:.0f}s: "
                                   + blocked_message(tgt, src))
        ctx.report(name, step=f"migrating: target {_phase(tgt)}, source {_phase(src)} "
                              f"({time.monotonic() - started:.0f}s)")
        return None
    _poll(ctx, probe, ctx.timeout)
    if not migrated(ctx.api.get_or_none(kinds.VMI, name, ctx.target)):
        raise fail(ctx, entry, f"the live migration did not finish within {ctx.timeout:.0f}s")
    for ns in (ctx.target, ctx.source):
        _delete_migration(ctx, step["name"], ns)
    return "migrated"


def blocked_message(tgt: Optional[dict], src: Optional[dict]) -> str:
    for obj in (src, tgt):
        for c in ((obj or {}).get("status") or {}).get("conditions") or ():
            if c.get("type") == "decentralizedMigrationBlocked" and c.get("status") == "True":
                return c.get("message") or "blocked"
    return "no cause reported"


def failure_cause(ctx: RunContext, name: str, tgt: Optional[dict], src: Optional[dict]) -> str:
    """The cause as KubeVirt states it: the VMI's migrationState.failureReason, then the migrations' Warning
    events (a target pod that could not be scheduled, for instance)."""
    from .disks import warning_events

    cause = ""
    for ns in (ctx.source, ctx.target):
        vmi = ctx.api.get_or_none(kinds.VMI, name, ns)
        cause = cause or (((vmi or {}).get("status") or {}).get("migrationState") or {}).get("failureReason") or ""
    if not cause:
        cause = ("both migrations were deleted (cancelled)" if tgt is None and src is None else
                 f"target migration {_phase(tgt)}, source migration {_phase(src)}")
    for obj, ns in ((tgt, ctx.target), (src, ctx.source)):
        if obj is not None:
            events = warning_events(ctx.api, "VirtualMachineInstanceMigration", obj["metadata"]["name"], ns)
            if events:
                cause += f" ({'; '.join(events)})"
    return cause


def _delete_migration(ctx: RunContext, name: str, namespace: str) -> None:
    try:
        ctx.api.delete(kinds.VMIM, name, namespace)
    except kerr.NotFound:
        pass


def abandon(ctx: RunContext, entry: dict, keep: bool) -> str:
    """Cancel a VM's live move: delete both migrations (KubeVirt cancels the migration and the source keeps
    running), then the receiver VM and the blank disks this move created, unless `keep`."""
    from ..planning.moveplan import live_migration_name

    name = live_migration_name(ctx.move_id, entry["name"])
    for ns in (ctx.source, ctx.target):
        _delete_migration(ctx, name, ns)
    if keep:
        return "migrations deleted; target objects kept (--keep-failed)"
    removed = 0
    for step in entry.get("steps") or ():
        if step["action"] != "create" or step["kind"] not in ("VirtualMachine", "DataVolume"):
            continue
        kind = kinds.VM if step["kind"] == "VirtualMachine" else kinds.DATAVOLUME
        obj = ctx.api.get_or_none(kind, step["name"], ctx.target)
        if obj is not None and ctx.ours(obj) and _is_receiver_or_disk(obj):
            ctx.api.delete(kind, step["name"], ctx.target)
            removed += 1
    return f"migrations deleted, {removed} target object(s) removed"


def _is_receiver_or_disk(obj: dict) -> bool:
    if obj.get("kind") == "VirtualMachine":
        return (obj.get("spec") or {}).get("runStrategy") == WAIT_AS_RECEIVER
    return True


def fail(ctx: RunContext, entry: dict, message: str) -> StepFailed:
    """The StepFailed of a live step, after the target side was cleaned up as the plan says."""
    _timeout, keep = live_options(ctx)
    try:
        done = abandon(ctx, entry, keep)
    except kerr.ApiError as err:
        done = f"cleanup incomplete: {err.message}"
    return StepFailed(f"{message}; the source VM keeps running ({done})")


ACTIONS = {"await-receiver": await_receiver, "migrate-receive": migrate_receive, "migrate-send": migrate_send,
           "await-migration": await_migration}


def run_step(ctx: RunContext, entry: dict, step: dict) -> str:
    """One live step; Ctrl-C during it cancels the VM's live move (both migrations deleted, the source runs on)."""
    try:
        return ACTIONS[step["action"]](ctx, entry, step)
    except Interrupted:
        cancel(ctx, entry)
        raise


def cancel(ctx: RunContext, entry: dict) -> str:
    """Cancel a VM's live move as the plan says (keeping the receiver with --keep-failed)."""
    _timeout, keep = live_options(ctx)
    return abandon(ctx, entry, keep)

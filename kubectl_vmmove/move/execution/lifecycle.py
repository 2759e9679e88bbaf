"""Stopping and starting VMs through KubeVirt's subresources, and waiting (by watch) until they are there.

Stopped (kubevirt-move-mechanics.md §5.2): the VMI is gone and no launcher pod of it is active, because CDI and
ObjectTransfer treat a claim mounted by any non-terminal pod as in use. Started: the VMI is Running, Ready, and
reports an IP address on its interfaces.
"""

from typing import Optional

from ...kube import errors as kerr
from ...kube import kinds
from ...kube.wait import WaitTimeout, wait_for
from ..context import RunContext, StepFailed

FINAL_VMI_PHASES = ("Succeeded", "Failed")
# How often a start or stop is asked again after virt-api answered that the VM changed under it.
STATE_CHANGE_ATTEMPTS = 5


def request_state_change(api, name: str, namespace: str, action: str) -> None:
    """PUT the VM's `start` or `stop` subresource. virt-api reads the VM and writes it back with its
    resourceVersion, so a controller updating the VM in between makes it answer 409 "the object has been modified":
    that is asked again (each attempt re-reads on the server). Any other Conflict (already running, not running,
    a run strategy that does not allow it) is raised for the caller to judge."""
    for attempt in range(STATE_CHANGE_ATTEMPTS):
        try:
            api.put_subresource(kinds.VM, name, namespace, action, {})
            return
        except kerr.Conflict as err:
            if "has been modified" not in err.message or attempt == STATE_CHANGE_ATTEMPTS - 1:
                raise


VM_ERROR_STATES = ("ErrorUnschedulable", "ErrImagePull", "ImagePullBackOff", "ErrorPvcNotFound",
                   "DataVolumeError", "CrashLoopBackOff")



def _condition(obj, ctype) -> Optional[dict]:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == ctype:
            return c
    return None


def vmi_active(vmi: Optional[dict]) -> bool:
    return vmi is not None and (vmi.get("status") or {}).get("phase") not in FINAL_VMI_PHASES


def stop_source(ctx: RunContext, entry: dict, step: dict) -> str:
    """Stop the source VM (if it runs) and wait until nothing uses its claims. Returns what was done."""
    api, name, ns = ctx.api, entry["name"], ctx.source
    vm = api.get_or_none(kinds.VM, name, ns)
    if vm is None:
        raise StepFailed(f'virtualmachine "{name}" no longer exists in namespace "{ns}"; nothing to move')
    planned_uid = (step.get("source") or entry.get("source") or {}).get("uid")
    if planned_uid and vm["metadata"].get("uid") != planned_uid:
        raise StepFailed(f'virtualmachine "{ns}/{name}" was deleted and re-created since the plan was made; '
                         "make a new plan")
    vmi = api.get_or_none(kinds.VMI, name, ns)
    if vmi is None:
        return "already stopped"
    vmi_uid = vmi["metadata"].get("uid")
    if vmi_active(vmi) and not vmi["metadata"].get("deletionTimestamp"):
        try:
            request_state_change(api, name, ns, "stop")
        except kerr.Conflict as err:
            # A retried stop whose first attempt went through meets a VM that is already stopping.
            again = api.get_or_none(kinds.VMI, name, ns)
            vm = api.get_or_none(kinds.VM, name, ns) or {}
            stopping = again is None or again["metadata"].get("deletionTimestamp") or \
                (vm.get("spec") or {}).get("runStrategy") == "Halted" or \
                any(r.get("action") == "Stop" for r in (vm.get("status") or {}).get("stateChangeRequests") or ())
            if "not running" not in err.message.lower() and not stopping:
                raise StepFailed(f"cannot stop {ns}/{name}: {err.message}") from err
    ctx.report(name, step="stopping")
    try:
        wait_for(api, kinds.VMI, name, ns, lambda o: o is None, ctx.timeout, what="stop")
        pods = api.list(kinds.POD, ns, label_selector=f"kubevirt.io/created-by={vmi_uid}").items
        for pod in pods:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            wait_for(api, kinds.POD, pod["metadata"]["name"], ns,
                     lambda o: o is None or (o.get("status") or {}).get("phase") in ("Succeeded", "Failed"),
                     ctx.timeout, what="terminate")
    except WaitTimeout as err:
        raise StepFailed(f"step stop of {ns}/{name} timed out: {err}") from err
    return "stopped"


def _has_ip(vmi: dict) -> bool:
    ifaces = (vmi.get("status") or {}).get("interfaces") or []
    declared = (((vmi.get("spec") or {}).get("domain") or {}).get("devices") or {}).get("interfaces") or []
    if not declared and not ifaces:
        return True   # a VM without network interfaces has no address to wait for
    return any(i.get("ipAddress") or i.get("ipAddresses") for i in ifaces)


def started(vmi: Optional[dict]) -> bool:
    if vmi is None or (vmi.get("status") or {}).get("phase") != "Running":
        return False
    ready = _condition(vmi, "Ready")
    return ready is not None and ready.get("status") == "True" and _has_ip(vmi)


def start_target(ctx: RunContext, entry: dict, step: dict) -> str:
    """Start the target VM and wait until it runs, is Ready and has its IP addresses."""
    api, name, ns = ctx.api, entry["name"], ctx.target
    vmi = api.get_or_none(kinds.VMI, name, ns)
    if not vmi_active(vmi):
        try:
            request_state_change(api, name, ns, "start")
        except kerr.Conflict as err:
            text = err.message.lower()
            # Already running, or a run strategy that starts it by itself: both mean there is nothing to ask.
            if "already running" not in text and "does not support manual start" not in text:
                raise StepFailed(f"cannot start {ns}/{name}: {err.message}") from err

    def on_change(obj):
        phase = (obj or {}).get("status", {}).get("phase") if obj else None
        ctx.report(name, step=f"starting ({phase or 'pending'})")

    try:
        vmi = wait_for(api, kinds.VMI, name, ns, lambda o: started(o) or start_failure(o) is not None, ctx.timeout,
                       what="be Running and Ready with an IP address", on_change=on_change)
    except WaitTimeout as err:
        vm = api.get_or_none(kinds.VM, name, ns) or {}
        status = vm.get("status") or {}
        failure = _condition(vm, "Failure")
        extra = f"; VM status {status.get('printableStatus', 'unknown')}"
        if failure and failure.get("message"):
            extra += f": {failure['message']}"
        raise StepFailed(f"step start of {ns}/{name} timed out: {err}{extra}") from err
    cause = start_failure(vmi)
    if cause is not None and not started(vmi):
        raise StepFailed(_cannot_start(ctx, name, cause))
    return "running"


# VMI conditions KubeVirt sets when it cannot make the VM's pod (pkg/virt-controller/watch/vmi.go): the VMI stays
# Pending and KubeVirt retries, but nothing changes until the cause is fixed (FailedPvcNotFound, set while a claim
# is still being made, is not one of them).
_START_FAILURES = {("Synchronized", "FailedCreate")}


def start_failure(vmi: Optional[dict]) -> Optional[str]:
    """Why KubeVirt cannot start this VMI, from its conditions (None while nothing says so)."""
    for c in ((vmi or {}).get("status") or {}).get("conditions") or ():
        if c.get("status") == "False" and (c.get("type"), c.get("reason")) in _START_FAILURES:
            return f"{c.get('type')} {c.get('reason')}: {c.get('message') or 'no message'}"
    return None


def _cannot_start(ctx: RunContext, name: str, failure: str) -> str:
    from .disks import warning_events

    ns = ctx.target
    events = warning_events(ctx.api, "VirtualMachineInstance", name, ns) + \
        warning_events(ctx.api, "VirtualMachine", name, ns)
    seen = f"; events: {'; '.join(dict.fromkeys(events))}" if events else ""
    return (f"step start of {ns}/{name}: KubeVirt cannot start the VM: virtualmachineinstance {ns}/{name} {failure}"
            f"{seen}. Fix the cause and continue with 'kubectl vmmove run --resume {ctx.move_id} --to {ns}', or "
            f"undo the move with 'kubectl vmmove rollback {ctx.move_id}'")


def set_run_strategy(ctx: RunContext, name: str, strategy: str) -> str:
    vm = ctx.api.get(kinds.VM, name, ctx.target)
    if (vm.get("spec") or {}).get("runStrategy") == strategy:
        return "unchanged"
    ctx.api.patch(kinds.VM, name, {"spec": {"runStrategy": strategy}}, namespace=ctx.target)
    return f"runStrategy {strategy}"


def target_vmi(api, name, namespace) -> Optional[dict]:
    return api.get_or_none(kinds.VMI, name, namespace)

"""virt-api's start/stop/restart subresources (pkg/virt-api/rest/lifecycle.go): what each run strategy accepts,
the 409 answers, and the patches of ``spec.runStrategy`` / ``status.stateChangeRequests`` they make.  The API
server half checks RBAC (``update`` on ``virtualmachines/<action>`` in ``subresources.kubevirt.io``) before
calling these handlers."""

import copy

from ..errors import ApiError
from .kubevirt import VM, VMI, condition_is, run_strategy, vmi_is_final

GROUP = "subresources.kubevirt.io"
MANUAL_RECOVERY = ("VM recovery required: Volume migration failed, leaving some volumes pointing to the "
                   "destination volumes. Either revert the VM spec to the source volumes or update the volumes "
                   "to a valid destination")
VM_NOT_RUNNING = "VM is not running"


def _conflict(name, why, resource="virtualmachine"):
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {resource}.kubevirt.io "{name}": {why}',
                    {"name": name, "group": "kubevirt.io", "kind": resource})


def _fetch(sim, namespace, name):
    vm = sim.store.get(VM, namespace, name)
    if vm is None:
        raise ApiError(404, "NotFound", f'virtualmachine.kubevirt.io "{name}" not found',
                       {"name": name, "group": "kubevirt.io", "kind": "virtualmachine"})
    return vm


def _dry_run(body):
    return bool((body or {}).get("dryRun"))


def _write_spec(sim, vm, running, dry_run):
    """getRunningPatch: a JSON patch with a ``test`` of the current value (409 when it changed meanwhile)."""
    new = copy.deepcopy(vm)
    if new["spec"].get("runStrategy") is not None:
        new["spec"]["runStrategy"] = "Always" if running else "Halted"
    else:
        new["spec"]["running"] = running
    if not dry_run:
        sim.internal.update(new)


def _add_requests(sim, vm, requests, dry_run):
    """getChangeRequestJson: append to an empty list, replace with a lone stop, otherwise refuse."""
    status = copy.deepcopy(vm.get("status") or {})
    current = status.get("stateChangeRequests") or []
    if not current:
        status["stateChangeRequests"] = list(requests)
    elif len(requests) == 1 and requests[0]["action"] == "Stop":
        status["stateChangeRequests"] = list(requests)
    else:
        raise ApiError(500, "InternalError", "Internal error occurred: unable to complete request: stop/start "
                                             "already underway")
    status.pop("startFailure", None)
    if not dry_run:
        sim.internal.update({**vm, "status": status}, subresource="status")


def start(sim, namespace, name, body, user):
    vm = _fetch(sim, namespace, name)
    vmi = sim.store.get(VMI, namespace, name)
    phase = (vmi.get("status") or {}).get("phase", "") if vmi else None
    if vmi is not None and not vmi_is_final(vmi) and phase not in ("Unknown", ""):
        raise _conflict(name, "VM is already running")
    if condition_is(vm, "ManualRecoveryRequired"):
        raise _conflict(name, MANUAL_RECOVERY)
    paused = bool((body or {}).get("paused"))
    data = {"paused": "true"} if paused else None
    rs = run_strategy(vm)
    dry = _dry_run(body)
    if rs == "Halted":
        if paused and (((vm.get("spec") or {}).get("template") or {}).get("spec") or {}).get("startStrategy") \
                != "Paused":
            _add_requests(sim, vm, [_req("Start", data=data)], dry)
        else:
            _write_spec(sim, vm, True, dry)
    elif rs in ("RerunOnFailure", "Manual"):
        restart = (rs == "RerunOnFailure" and vmi is not None and phase == "Succeeded") or \
                  (rs == "Manual" and vmi is not None and vmi_is_final(vmi))
        if rs == "RerunOnFailure" and vmi is not None and phase == "Failed":
            raise _conflict(name, "RerunOnFailure does not support starting VM from failed state")
        if restart:
            _add_requests(sim, vm, [_req("Stop", uid=vmi["metadata"]["uid"]), _req("Start", data=data)], dry)
        else:
            _add_requests(sim, vm, [_req("Start", data=data)], dry)
    else:
        raise _conflict(name, f"{rs} does not support manual start requests")
    return 202, {}


def stop(sim, namespace, name, body, user):
    vm = _fetch(sim, namespace, name)
    rs = run_strategy(vm)
    vmi = sim.store.get(VMI, namespace, name)
    grace = (body or {}).get("gracePeriod")
    dry = _dry_run(body)
    old_grace = None
    if vmi is not None and not vmi_is_final(vmi) and grace is not None:
        old_grace = (vmi.get("spec") or {}).get("terminationGracePeriodSeconds")
        new = copy.deepcopy(vmi)
        new["spec"]["terminationGracePeriodSeconds"] = int(grace)
        if not dry:
            sim.internal.update(new)
    if rs == "Halted":
        if vmi is None or vmi_is_final(vmi):
            raise _conflict(name, VM_NOT_RUNNING)
        if grace is None or (old_grace is not None and int(grace) >= int(old_grace)):
            raise _conflict(name, "Halted only supports manual stop requests with a shorter graceperiod")
        _add_requests(sim, vm, [_req("Stop", uid=vmi["metadata"]["uid"])], dry)
    elif rs in ("RerunOnFailure", "Manual"):
        if vmi is None or vmi_is_final(vmi):
            raise _conflict(name, VM_NOT_RUNNING)
        _add_requests(sim, vm, [_req("Stop", uid=vmi["metadata"]["uid"])], dry)
    else:
        _write_spec(sim, vm, False, dry)
    return 202, {}


def restart(sim, namespace, name, body, user):
    grace = (body or {}).get("gracePeriodSeconds")
    if grace is not None:
        if int(grace) > 0:
            raise ApiError(400, "BadRequest", "For force restart, only gracePeriod=0 is supported for now")
        if int(grace) < 0:
            raise ApiError(400, "BadRequest", "gracePeriod has to be greater or equal to 0")
    vm = _fetch(sim, namespace, name)
    if condition_is(vm, "VolumesChange"):
        raise _conflict(name, MANUAL_RECOVERY)
    rs = run_strategy(vm)
    if rs in ("Halted", "Once"):
        raise _conflict(name, f"RunStategy {rs} does not support manual restart requests")
    vmi = sim.store.get(VMI, namespace, name)
    if vmi is None:
        raise _conflict(name, "VM is not running: Halted")
    dry = _dry_run(body)
    if grace is not None and not dry:
        new = copy.deepcopy(vmi)
        new["spec"]["terminationGracePeriodSeconds"] = 1
        sim.internal.update(new)
    _add_requests(sim, vm, [_req("Stop", uid=vmi["metadata"]["uid"]), _req("Start")], dry)
    return 202, {}


def _req(action, uid=None, data=None):
    r = {"action": action}
    if data:
        r["data"] = data
    if uid:
        r["uid"] = uid
    return r


def register(sim):
    for version in ("v1", "v1alpha3"):
        for action, fn in (("start", start), ("stop", stop), ("restart", restart)):
            sim.add_subresource(GROUP, version, "virtualmachines", action, fn)

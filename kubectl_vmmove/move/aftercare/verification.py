"""`verify`: per VM, does the target hold everything the plan created, equal to its source, and is the VM where
it should be? Each check is a row (VM, check, pass/fail, reason); cleanup runs the same checks and refuses unless
all pass.

"Equal after normalisation" means: every field the plan wrote is present with the same value in the live object
(servers add defaults, never remove what was given); Secrets and ConfigMaps are compared by a digest of their
data against the source, so no value is ever shown.

A read the user may not make (403) does not abort verify: the check it feeds is reported failed with what access is
missing and the `kubectl auth can-i` line to check it, since a check that could not be made is not a pass.
"""

import json
from typing import Dict, List, Optional

from ...kube import errors as kerr
from ...kube import kinds
from .. import quantities
from ..context import RunContext
from ..execution import transfer as transfermod
from ..execution.lifecycle import started
from ..planning import graph as graphmod
from ..planning.permissions import Permission
from ..rewrite import MOVE_ID_LABEL, copied_from, data_digest, user_metadata
from ..state import records
from ..state.records import VMRecord

CREATED_BY_STEP = ("create", "copy", "clone", "transfer")


class Unreadable(Exception):
    """A read a check needs was forbidden."""

    def __init__(self, kind, namespace):
        super().__init__(kind.kind)
        self.permission = Permission("get", kind.group, kind.plural, namespace if kind.namespaced else None)

    @property
    def reason(self) -> str:
        return f"not checked: you may not {self.permission.text()}; check with '{self.permission.kubectl()}'"


def _get(api, kind, name, namespace=None) -> Optional[dict]:
    try:
        return api.get(kind, name, namespace)
    except kerr.NotFound:
        return None
    except kerr.Forbidden as cause:
        raise Unreadable(kind, namespace) from cause


def differences(want, have, path="") -> List[str]:
    """Paths where `want` is not contained in `have` (dicts: subset; lists: same length, element-wise)."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [path or "."]
        out = []
        for key, value in want.items():
            out += differences(value, have.get(key), f"{path}.{key}" if path else key)
        return out
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return [path]
        out = []
        for i, (w, h) in enumerate(zip(want, have)):
            out += differences(w, h, f"{path}[{i}]")
        return out
    return [] if want == have else [path]




def _labels_and_annotations(metadata: Optional[dict]) -> dict:
    """The labels and annotations a created object was given: verify expects each on the live object."""
    md = metadata or {}
    return {k: dict(md[k]) for k in ("labels", "annotations") if md.get(k)}


def _body(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}


class Checks:
    def __init__(self):
        self.rows: List[dict] = []

        self.unchecked: List[dict] = []     # failed rows whose check could not be made (forbidden reads)

    def add(self, vm: str, check: str, passed: bool, reason: str = "") -> bool:
        self.rows.append({"vm": vm, "check": check, "passed": bool(passed), "reason": reason})
        return passed

    def guarded(self, vm: str, check: str, fn, *args) -> None:
        """Run one check function; a forbidden read becomes a failed `check` row saying what access is missing."""
        try:
            fn(*args)
        except Unreadable as err:
            self.add(vm, check, False, err.reason)
            self.unchecked.append(self.rows[-1])

    @property
    def passed(self) -> bool:
        return all(r["passed"] for r in self.rows)

    def failures(self) -> List[dict]:
        return [r for r in self.rows if not r["passed"]]


def verify(ctx: RunContext, records: Dict[str, dict]) -> Checks:
    checks = Checks()
    for step in ctx.move_plan.prepare:
        if step["action"] in CREATED_BY_STEP:
            checks.guarded("(shared)", _object_check_name(step), _check_object, ctx, checks, "(shared)", step)
    for entry in ctx.move_plan.vms:
        _verify_vm(ctx, checks, entry, records.get(entry["name"]) or {})
    if ctx.strategy == "transfer":
        checks.guarded("(shared)", "no objecttransfers left", _check_transfers_left, ctx, checks)
    return checks


def _check_transfers_left(ctx, checks) -> None:
    """The cluster-scoped ObjectTransfers of the move are deleted once complete; any still there is reported."""
    try:
        left = transfermod.leftover_object_transfers(ctx.api, ctx.move_id)
    except kerr.Forbidden as cause:
        raise Unreadable(kinds.OBJECTTRANSFER, None) from cause
    shown = ", ".join(f"objecttransfer/{n}" for n in left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
    checks.add("(shared)", "no objecttransfers left", not left,
               f"{shown} left by this move; delete them with 'kubectl delete objecttransfers -l "
               f"{MOVE_ID_LABEL}={ctx.move_id}'" if left else "")


def _verify_vm(ctx, checks, entry, record) -> None:
    name = entry["name"]
    phase = VMRecord(record).phase
    checks.add(name, "move finished", phase == records.SUCCEEDED,
               "" if phase == records.SUCCEEDED else f"the run left this VM {phase}: {record.get('message') or 'not run'}")
    for step in entry["steps"]:
        if step["action"] in ("create", "copy"):
            checks.guarded(name, _object_check_name(step), _check_object, ctx, checks, name, step)
    clones = {s["name"]: s.get("object") or {} for s in entry["steps"] if s["action"] == "clone"}
    for disk in entry.get("disks") or ():
        checks.guarded(name, f"disk {disk['claim']}", _check_disk, ctx, checks, name, disk,
                       clones.get(disk["claim"]))
    try:
        vm = _get(ctx.api, kinds.VM, name, ctx.target)
    except Unreadable:
        return   # its "matches source" row already says which access is missing
    if vm is None:
        # Whatever the plan listed, a moved VM that is not in the target never passes (a plan cut short before its
        # create step would otherwise check nothing about the VM itself).
        label = f"virtualmachine/{name} exists"
        if not any(r["vm"] == name and r["check"] == label for r in checks.rows):
            checks.add(name, label, False, f"not found in namespace {ctx.target}")
        return
    _check_identity(ctx, checks, entry, vm)
    checks.guarded(name, "references resolve", _check_references, ctx, checks, name, vm)
    checks.guarded(name, "VM state", _check_state, ctx, checks, entry, vm)


def _object_check_name(step) -> str:
    return f"{step['kind'].lower()}/{step['name']} matches source"


def _check_object(ctx, checks, vm_name, step) -> None:
    kind = kinds.by_kind(step["kind"])
    label = f"{step['kind'].lower()}/{step['name']}"
    ns = ctx.target if kind.namespaced else None
    live = _get(ctx.api, kind, step["name"], ns)
    if step["action"] in ("clone", "transfer"):
        return   # disks are checked by _check_disk
    if live is None:
        checks.add(vm_name, f"{label} exists", False, f"not found in namespace {ctx.target}")
        return
    reused = step["action"] == "copy" and not ctx.ours(live) and copied_from(live, ctx.source, step["name"])
    if step["kind"] != "Namespace" and not ctx.ours(live) and not reused:
        checks.add(vm_name, f"{label} exists", False, "exists but was not created by this move")
        return
    if step["action"] == "copy":
        source = _get(ctx.api, kind, step["name"], ctx.source)
        if source is None:
            checks.add(vm_name, f"{label} matches source", True, "source already deleted")
        else:
            same = data_digest(source) == data_digest(live)
            labels, annotations = user_metadata(source)
            diffs = differences({"labels": labels, "annotations": annotations}, live.get("metadata") or {},
                                "metadata")
            note = "the copy an earlier move made" if reused else ""
            reason = "its data differs from the source" if not same else \
                "differs at " + ", ".join(diffs[:3]) if diffs else note
            checks.add(vm_name, f"{label} matches source", same and not diffs, reason)
        return
    want = _body(step.get("object") or {})
    if step["kind"] == "VirtualMachine":
        want = json.loads(json.dumps(want))
        (want.get("spec") or {}).pop("runStrategy", None)
    want["metadata"] = _labels_and_annotations((step.get("object") or {}).get("metadata"))
    have = dict(_body(live), metadata=live.get("metadata") or {})
    diffs = differences(want, have)
    checks.add(vm_name, f"{label} matches source", not diffs,
               "" if not diffs else "differs at " + ", ".join(diffs[:3]))


def _check_disk(ctx, checks, vm_name, disk, clone=None) -> None:
    claim = disk["claim"]
    label = f"disk {claim}"
    live_state = disk.get("role") == "persistentState" and ctx.move_plan.strategy_of(vm_name) == "live"
    # A live move's target gets a state claim KubeVirt names itself (live-move.md §1.1): found by its label.
    pvc = _live_state_claim(ctx, vm_name) if live_state else _get(ctx.api, kinds.PVC, claim, ctx.target)
    if pvc is None:
        checks.add(vm_name, f"{label} bound", False, f"claim {ctx.target}/{claim} not found")
        return
    phase = (pvc.get("status") or {}).get("phase")
    checks.add(vm_name, f"{label} bound", phase == "Bound", "" if phase == "Bound" else f"claim is {phase}")
    capacity = ((pvc.get("status") or {}).get("capacity") or {}).get("storage")
    have = quantities.to_bytes(capacity) if capacity else 0
    ok = have >= int(disk.get("size") or 0)
    checks.add(vm_name, f"{label} size", ok, "" if ok else f"capacity {capacity or 'unknown'} is less than the "
                                                           f"source's {quantities.human_bytes(disk.get('size') or 0)}")
    strategy = ctx.move_plan.strategy_of(vm_name)
    want_class = disk.get("targetStorageClass") if strategy in ("clone", "live") else disk.get("storageClass")
    if live_state:
        want_class = None       # KubeVirt's vmStateStorageClass decides
    have_class = (pvc.get("spec") or {}).get("storageClassName")
    if want_class:
        checks.add(vm_name, f"{label} storage class", have_class == want_class,
                   "" if have_class == want_class else f"class {have_class}, planned {want_class}")
    if strategy == "clone":
        dv = _get(ctx.api, kinds.DATAVOLUME, claim, ctx.target)
        dv_phase = ((dv or {}).get("status") or {}).get("phase")
        checks.add(vm_name, f"{label} datavolume succeeded", dv_phase == "Succeeded",
                   "" if dv_phase == "Succeeded" else f"datavolume {'missing' if dv is None else dv_phase}")
        if dv is not None and clone:
            diffs = differences(_labels_and_annotations(clone.get("metadata")), dv.get("metadata") or {},
                                "metadata")
            checks.add(vm_name, f"{label} datavolume labels", not diffs,
                       "" if not diffs else "differs at " + ", ".join(diffs[:3]))


def _live_state_claim(ctx, vm_name: str):
    try:
        items = ctx.api.list(kinds.PVC, ctx.target, label_selector=f"{graphmod.STATE_LABEL}={vm_name}").items
    except kerr.ApiError:
        return None
    return next((p for p in items if not p["metadata"].get("deletionTimestamp")), None)


def _interfaces(vm) -> List[dict]:
    return ((((vm.get("spec") or {}).get("template") or {}).get("spec") or {}).get("domain") or {}) \
        .get("devices", {}).get("interfaces") or []


def _firmware(vm) -> dict:
    return ((((vm.get("spec") or {}).get("template") or {}).get("spec") or {}).get("domain") or {}) \
        .get("firmware") or {}


def _check_identity(ctx, checks, entry, vm) -> None:
    name = entry["name"]
    macs = [i["macAddress"].lower() for i in _interfaces(vm) if i.get("macAddress")]
    if ctx.move_plan.mac_policy == "new":
        checks.add(name, "MAC addresses", True, "new addresses by policy: " + ", ".join(macs))
    else:
        want = [m.lower() for m in entry.get("macAddresses") or ()]
        ok = all(m in macs for m in want)
        checks.add(name, "MAC addresses", ok, "" if ok else f"have {', '.join(macs) or 'none'}, source had "
                                                            f"{', '.join(want)}")
    fw = _firmware(vm)
    ok = fw.get("uuid") == entry.get("firmwareUUID")
    checks.add(name, "firmware UUID", ok, "" if ok else f"{fw.get('uuid')} instead of {entry.get('firmwareUUID')}")
    create = next((s for s in entry["steps"] if s["action"] == "create" and s["kind"] == "VirtualMachine"), None)
    want_serial = _firmware((create or {}).get("object") or {}).get("serial")
    if want_serial:
        ok = fw.get("serial") == want_serial
        checks.add(name, "firmware serial", ok, "" if ok else f"{fw.get('serial')} instead of {want_serial}")


def _check_references(ctx, checks, name, vm) -> None:
    missing = []
    for kind_name, refs in graphmod.named_references(vm).items():
        kind = kinds.by_kind(kind_name)
        for ref_name, where in refs:
            if _get(ctx.api, kind, ref_name, ctx.target) is None:
                missing.append(f"{kind_name.lower()}/{ref_name} ({where})")
    for key in ("instancetype", "preference"):
        matcher = (vm.get("spec") or {}).get(key) or {}
        if matcher.get("kind", "").startswith("VirtualMachineCluster") and matcher.get("name"):
            kind = kinds.CLUSTER_INSTANCETYPE if key == "instancetype" else kinds.CLUSTER_PREFERENCE
            if _get(ctx.api, kind, matcher["name"]) is None:
                missing.append(f"{matcher['kind'].lower()}/{matcher['name']}")
    checks.add(name, "references resolve", not missing, "" if not missing else "missing " + ", ".join(missing))


def _check_state(ctx, checks, entry, vm) -> None:
    name = entry["name"]
    should_run = any(s["action"] in ("start", "await-migration") for s in entry["steps"])   # a live move runs
    vmi = _get(ctx.api, kinds.VMI, name, ctx.target)
    if should_run:
        ok = started(vmi)
        phase = ((vmi or {}).get("status") or {}).get("phase", "no instance")
        ips = [i.get("ipAddress") for i in ((vmi or {}).get("status") or {}).get("interfaces") or ()
               if i.get("ipAddress")]
        checks.add(name, "running with IP", ok, ", ".join(ips) if ok else f"VM instance is {phase}, not Running and "
                                                                            "Ready with an IP address")
    elif entry.get("targetRunStrategy") == "RerunOnFailure":
        # KubeVirt starts a VM the moment its run strategy becomes RerunOnFailure (the plan warns with
        # TargetWillStart), so a stopped source arrives running: expect what KubeVirt does.
        ok = vmi is not None
        phase = ((vmi or {}).get("status") or {}).get("phase", "no instance")
        checks.add(name, "started by KubeVirt (RerunOnFailure)", ok, phase if ok else "no VM instance")
    else:
        status = (vm.get("status") or {}).get("printableStatus", "Stopped")
        ok = vmi is None
        checks.add(name, "stopped as planned", ok, "" if ok else f"the VM is {status}")

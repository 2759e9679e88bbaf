"""Rules about the VMs themselves: state and downtime, run strategies, devices, versions, server dry-run."""

from typing import List

from ....kube import kinds
from ...rewrite import PRE_POPULATED_BY
from .. import estimates
from ..inventory import CLUSTER
from ..moveplan import is_running
from .base import finding
from .storage import datavolume_activity


def dry_run(ctx) -> List[dict]:
    dry = ctx.inv.dry_run or {}
    if dry and not dry.get("ok") and not dry.get("macRejected") and not dry.get("conflict"):
        return [finding("error", "DryRunRejected",
                        f'the server rejected a dry run of VM "{dry.get("vm")}" in "{ctx.dst}": {dry.get("message")}',
                        "fix what the message names, then plan again", "VirtualMachine", dry.get("vm"), ctx.dst)]
    return []


def _moved_by_transfer(node) -> str:
    """The move id a transfer left on the VM's DataVolumes whose claims it took ("" when there is none)."""
    for disk in node.disks:
        mark = (((disk.dv or {}).get("metadata") or {}).get("annotations") or {}).get(PRE_POPULATED_BY)
        if mark and disk.pvc is None:
            return mark
    return ""


def vm_state(ctx) -> List[dict]:
    """Per VM: what it is doing now (deleted, moved by transfer, provisioning, running, migrating, snapshotted,
    restored) and what stays behind or changes (pool ownership, snapshots, exports, DNS name)."""
    out = []
    for name, node in ctx.graph.nodes.items():
        subject = ("VirtualMachine", name, ctx.src)
        out += _activity_findings(ctx, name, node, subject)
        out += _left_behind_findings(ctx, name, node, subject)
    return out


def _activity_findings(ctx, name: str, node, subject) -> List[dict]:
    vm, entry = node.vm, ctx.vm_entries[name]
    status = vm.get("status") or {}
    out = []
    if vm["metadata"].get("deletionTimestamp"):
        out.append(finding("error", "VmTerminating", f'VM "{name}" is being deleted',
                           "wait until it is gone; there is nothing left to move", *subject))
    moved = _moved_by_transfer(node)
    if moved:
        out.append(finding("error", "MovedByTransfer",
                           f'VM "{name}" was moved by transfer in move {moved}: its volumes belong to the '
                           "target now, so its DataVolumes show Pending and the VM Provisioning until cleanup",
                           f"'kubectl vmmove status {moved}' shows where that move is: continue it with "
                           f"'kubectl vmmove run --resume {moved}', delete the source with 'kubectl vmmove "
                           f"cleanup {moved}', or hand the volumes back with 'kubectl vmmove rollback {moved}'",
                           *subject))
    provisioning = [] if moved else _provisioning(ctx, node)    # a transferred source is said to be so above
    if provisioning:
        out.append(finding("warning", "VmProvisioning",
                           f'VM "{name}" is {status.get("printableStatus")}: it has not started yet, as '
                           + "; ".join(provisioning),
                           "wait until its DataVolumes have succeeded and it has started (or been stopped), "
                           "then plan again", *subject))
    elif is_running(vm) and ctx.strategy != "live":
        downtime = entry["estimate"]["downtimeSeconds"]
        how_long = (f'about {estimates.human_seconds(downtime)} of downtime' if downtime is not None
                    else "the downtime cannot be estimated (the clone method is unknown)")
        out.append(finding("warning", "VmRunning",
                           f'VM "{name}" is {status.get("printableStatus", "running")}; run stops it: {how_long}',
                           "plan a maintenance window, or stop it first (virtctl stop)", *subject))
    if status.get("printableStatus") == "Migrating":
        out.append(finding("error", "MigrationInProgress", f'VM "{name}" is live-migrating',
                           "wait until the migration finishes", *subject))
    if status.get("snapshotInProgress"):
        out.append(finding("error", "SnapshotInProgress",
                           f'VM "{name}" is being snapshotted ({status["snapshotInProgress"]})',
                           "wait until the snapshot finishes", *subject))
    if status.get("restoreInProgress"):
        out.append(finding("error", "RestoreInProgress",
                           f'VM "{name}" is being restored ({status["restoreInProgress"]})',
                           "wait until the restore finishes", *subject))
    return out


def _left_behind_findings(ctx, name: str, node, subject) -> List[dict]:
    vm = node.vm
    out = []
    for ref in vm["metadata"].get("ownerReferences") or ():
        if ref.get("kind") == "VirtualMachinePool":
            out.append(finding("error", "OwnedByPool",
                               f'VM "{name}" belongs to VirtualMachinePool "{ref.get("name")}"; the pool would '
                               "recreate it", "scale the pool or move the pool's workload instead", *subject))
    if node.snapshots:
        out.append(finding("warning", "SnapshotsStayBehind",
                           f'VM "{name}" has snapshots ({", ".join(node.snapshots)}); they cannot be restored '
                           "into another namespace and stay in the source",
                           "keep the source namespace's snapshots, or take new ones after the move", *subject))
    if node.exports:
        out.append(finding("warning", "ExportStaysBehind",
                           f'VM "{name}" has exports ({", ".join(node.exports)}); they stay in the source and '
                           "end when the source is cleaned up", "delete them or let them expire", *subject))
    spec = (vm.get("spec") or {}).get("template", {}).get("spec") or {}
    if spec.get("subdomain") or spec.get("hostname"):
        out.append(finding("warning", "DnsNameChanges",
                           f'VM "{name}" sets hostname/subdomain; its DNS name contains the namespace and '
                           f'changes to ...{ctx.dst}.svc', "update clients that use the old name", *subject))
    return out


def _provisioning(ctx, node) -> List[str]:
    """What a VM that KubeVirt reports Provisioning (or waiting for volume binding) is waiting for: its DataVolumes
    that have not succeeded. Such a VM has never run, so there is nothing to stop and no downtime to estimate."""
    if ((node.vm.get("status") or {}).get("printableStatus")) not in ("Provisioning", "WaitingForVolumeBinding"):
        return []
    return [f'DataVolume "{d.datavolume or d.claim}" is {datavolume_activity(d.dv)}' for d in node.disks
            if d.dv is not None and (d.dv.get("status") or {}).get("phase") != "Succeeded"]


def activity(ctx) -> List[dict]:
    """What the running instance is doing that a move would cut short or leave behind: a live migration that has
    not finished (KubeVirt moves the instance to another node meanwhile), and volumes hot-plugged into the instance
    only, which a stop drops (they are not in the VM spec that is copied)."""
    out = []
    for name, node in ctx.graph.nodes.items():
        subject = ("VirtualMachine", name, ctx.src)
        migrating = ((node.vm.get("status") or {}).get("printableStatus")) == "Migrating"
        if node.migrations and not migrating:     # a running one is MigrationInProgress (vm_state)
            out.append(finding("error", "MigrationPending",
                               f'VM "{name}" has a live migration that has not finished ('
                               + ", ".join(f"virtualmachineinstancemigration/{m}" for m in node.migrations) + ")",
                               "wait until it has finished, or cancel it (kubectl delete "
                               f"virtualmachineinstancemigration {' '.join(node.migrations)} -n {ctx.src}), "
                               "then plan again", *subject))
        for volume, claim in node.instance_only_volumes:
            out.append(finding("error", "HotplugVolumeNotInVm",
                               f'VM "{name}" has volume "{volume}" (claim "{claim}") hot-plugged into its running '
                               "instance only, not into the VM spec: run stops the VM and the volume would not "
                               "follow it",
                               f"persist it (virtctl addvolume {name} --volume-name={claim} --persist) or unplug it "
                               f"(virtctl removevolume {name} --volume-name={volume}), then plan again", *subject))
    return out


def devices(ctx) -> List[dict]:
    out = []
    for name, node in ctx.graph.nodes.items():
        spec = ((node.vm.get("spec") or {}).get("template") or {}).get("spec") or {}
        for disk in ((spec.get("domain") or {}).get("devices") or {}).get("disks") or ():
            what = None
            if disk.get("shareable"):
                what = "a shareable disk"
            elif "lun" in disk:
                what = "a LUN disk"
            if what:
                out.append(finding("error", "UnsupportedDevice",
                                   f'VM "{name}" has {what} ("{disk.get("name")}"); it cannot be copied safely',
                                   "detach it before the move and attach it again after",
                                   "VirtualMachine", name, ctx.src))
        for vol in spec.get("volumes") or ():
            if "hostDisk" in vol:
                out.append(finding("error", "UnsupportedDevice",
                                   f'VM "{name}" uses a hostDisk volume ("{vol.get("name")}") on a node\'s file system',
                                   "copy its data into a PVC first", "VirtualMachine", name, ctx.src))
    return out


def run_strategies(ctx) -> List[dict]:
    """KubeVirt starts a RerunOnFailure VM whose recorded status.runStrategy differs from its spec
    (pkg/virt-controller/watch/vm/vm.go shouldStartRerunOnFailure), which is the case for every VM created or switched
    to RerunOnFailure: a stopped source VM cannot arrive stopped with that strategy."""
    out = []
    for name, entry in ctx.vm_entries.items():
        if entry["targetRunStrategy"] == "RerunOnFailure" and not entry["running"]:
            out.append(finding("warning", "TargetWillStart",
                               f'VM "{name}" is stopped, but KubeVirt starts a VM as soon as its run strategy '
                               "becomes RerunOnFailure: the target will start",
                               "plan with --target-run-strategy Halted to keep it stopped, and set RerunOnFailure "
                               "when it may run", "VirtualMachine", name, ctx.src))
    return out


def versions(ctx) -> List[dict]:
    out = []
    kv = ctx.inv.of(kinds.KUBEVIRT, CLUSTER)
    cdi = ctx.inv.of(kinds.CDI, CLUSTER)
    kv_version = ((kv[0].get("status") or {}).get("observedKubeVirtVersion") if kv else None)
    cdi_version = ((cdi[0].get("status") or {}).get("observedVersion") if cdi else None)
    if kv_version and _older(kv_version, (1, 3)):
        out.append(finding("warning", "KubeVirtTooOld",
                           f"KubeVirt {kv_version} does not let a VM adopt prepared claims (needs v1.3 or later)",
                           "upgrade KubeVirt, or check each moved VM's DataVolumes after the move"))
    if kv_version and not _older(kv_version, (1, 7)):
        # Since v1.7 KubeVirt gives a VM created without firmware.serial a random one. A VM with none in its spec
        # predates that, so its guest has never seen a serial; the copy will get a new one whatever we do.
        for name, node in ctx.graph.nodes.items():
            firmware = ((((node.vm.get("spec") or {}).get("template") or {}).get("spec") or {}).get("domain")
                        or {}).get("firmware") or {}
            if not firmware.get("serial"):
                out.append(finding("warning", "SerialWillChange",
                                   f'VM "{name}" has no firmware serial; KubeVirt {kv_version} gives the moved VM a '
                                   "random one, which its guest sees as a new SMBIOS serial",
                                   "expect software that keys on the serial (licensing, inventory) to notice; "
                                   "set spec.template.spec.domain.firmware.serial on the source first to choose it",
                                   "VirtualMachine", name, ctx.src))
    if cdi_version and ctx.strategy == "clone" and _older(cdi_version, (1, 59)):
        out.append(finding("warning", "CdiTooOld",
                           f"CDI {cdi_version} has no claim adoption (needs v1.59 or later)",
                           "upgrade CDI"))
    return out


def _older(version: str, minimum) -> bool:
    parts = []
    for piece in version.lstrip("v").split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            return False
        parts.append(int(digits))
    return tuple(parts) < tuple(minimum)

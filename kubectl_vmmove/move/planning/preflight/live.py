"""Rules of a live move (`--strategy live`): what KubeVirt's decentralized live migration needs, each refusal with
its remedy. Facts: live-move.md (section per rule). Every rule returns nothing for the other strategies.

Not checked here because other rules already do for every strategy: shareable and LUN disks (vm.devices), MACs that
KubeMacPool older than v0.51 refuses (network.macs, from the server dry run of the receiver VM), name conflicts.
"""

from typing import List, Optional

from ....kube import kinds
from ..inventory import CLUSTER, SOURCE
from .base import finding

GATE = "DecentralizedLiveMigration"
BRIDGE_ANNOTATION = "kubevirt.io/allow-pod-bridge-network-live-migration"
FIRST_VERSION = (1, 6)            # §2.2: absent before v1.6.0
BETA_DEFAULT_VERSION = (1, 10)    # §2.1: Beta, on by default, from v1.10 (main)
RECOMMENDED = (1, 8, 3)           # §2.2: synchronization and race fixes
PERSISTENT_STATE_VERSION = (1, 7)  # §2.4: persistent TPM/EFI carried since v1.7


def _version(text: Optional[str]) -> Optional[tuple]:
    if not text:
        return None
    parts = []
    for piece in text.lstrip("v").split("-")[0].split(".")[:3]:
        if not piece.isdigit():
            return None
        parts.append(int(piece))
    return tuple(parts)


def _kubevirt(ctx) -> Optional[dict]:
    found = ctx.inv.of(kinds.KUBEVIRT, CLUSTER)
    return found[0] if found else None


def gate(ctx) -> List[dict]:
    """§2.1: the gate from the KubeVirt CR (listed, or a Beta default not disabled); §1.8: a published
    synchronization address proves the synchronization controller runs. Without read access the server dry run of
    the receiver VM (rule vm.dry_run) is the fallback: KubeVirt refuses WaitAsReceiver when the gate is off."""
    if ctx.strategy != "live":
        return []
    kv = _kubevirt(ctx)
    if kv is None:
        return [finding("warning", "LiveGateUnknown",
                        "cannot read the KubeVirt CR, so whether the DecentralizedLiveMigration gate is on is not "
                        "known; the server dry run of the receiver VM is the only check",
                        "ask a cluster admin: kubectl get kubevirt -A -o yaml")]
    dev = ((kv.get("spec") or {}).get("configuration") or {}).get("developerConfiguration") or {}
    version = _version((kv.get("status") or {}).get("observedKubeVirtVersion"))
    listed = GATE in (dev.get("featureGates") or ())
    default_on = version is not None and version[:2] >= BETA_DEFAULT_VERSION and \
        GATE not in (dev.get("disabledFeatureGates") or ())
    name, ns = kv["metadata"]["name"], kv["metadata"].get("namespace", "kubevirt")
    if not (listed or default_on):
        return [finding("error", "LiveGateDisabled",
                        f"KubeVirt's {GATE} feature gate is not enabled, so KubeVirt refuses the receiver VM and "
                        "the migrations", f"a cluster admin enables it: kubectl patch kubevirt {name} -n {ns} "
                        "--type json -p '[{\"op\":\"add\",\"path\":\"/spec/configuration/developerConfiguration/"
                        f"featureGates/-\",\"value\":\"{GATE}\"}}]'; or use --strategy clone",
                        "KubeVirt", name, ns)]
    if not (kv.get("status") or {}).get("synchronizationAddresses"):
        return [finding("error", "NoSyncAddress",
                        "KubeVirt publishes no synchronization address: virt-synchronization-controller is not "
                        "running or has no leader", f"check: kubectl get pods -n {ns} -l "
                        "kubevirt.io=virt-synchronization-controller; or use --strategy clone", "KubeVirt", name, ns)]
    return []


def version(ctx) -> List[dict]:
    """§2.2: absent before v1.6.0; v1.8.3 or v1.9.0 recommended."""
    kv = _kubevirt(ctx)
    if ctx.strategy != "live" or kv is None:
        return []
    text = (kv.get("status") or {}).get("observedKubeVirtVersion")
    ver = _version(text)
    if ver is None:
        return []
    if ver[:2] < FIRST_VERSION:
        return [finding("error", "KubeVirtTooOldForLive", f"KubeVirt {text} has no decentralized live migration "
                        "(first in v1.6.0)", "upgrade KubeVirt, or use --strategy clone")]
    if ver < RECOMMENDED and ver[:2] != (1, 9) and ver[:2] < (1, 9):
        return [finding("warning", "KubeVirtLiveFixesMissing",
                        f"KubeVirt {text} lacks fixes for decentralized migration races (in v1.8.3 and v1.9.0)",
                        "upgrade KubeVirt to v1.8.3 or later; a failed attempt leaves the source running")]
    return []


def nodes(ctx) -> List[dict]:
    """§2.4-2.5: the receiver's pod must land on another node than the source VM's."""
    if ctx.strategy != "live":
        return []
    if kinds.NODE.kind in ctx.inv.not_served or (kinds.NODE.kind, CLUSTER) in ctx.inv.unreadable or \
            not ctx.inv.listed(kinds.NODE, CLUSTER):
        return [finding("info", "NodesUnknown", "cannot list nodes to check that a second schedulable node exists "
                        "(a live move needs one besides the source VM's)",
                        "nothing to do if the cluster has several worker nodes")]
    usable = [n for n in ctx.inv.of(kinds.NODE, CLUSTER) if not (n.get("spec") or {}).get("unschedulable")
              and ((n["metadata"].get("labels") or {}).get("kubevirt.io/schedulable") != "false")]
    if len(usable) < 2:
        return [finding("error", "SingleNode", f"{len(usable)} schedulable node(s): the receiver must run on another "
                        "node than the source VM", "add a node, or use --strategy clone or transfer")]
    return []


def vms(ctx) -> List[dict]:
    """Per VM: running, migratable (§2.3), supported devices (§2.4, §2.6), no migration in flight (§1.3)."""
    if ctx.strategy != "live":
        return []
    vmis = ctx.inv.by_name(kinds.VMI, SOURCE)
    kv = _kubevirt(ctx)
    ver = _version(((kv or {}).get("status") or {}).get("observedKubeVirtVersion"))
    out: List[dict] = []
    for name, node in ctx.graph.nodes.items():
        subject = ("VirtualMachine", name, ctx.src)
        vmi = vmis.get(name)
        if vmi is None or (vmi.get("status") or {}).get("phase") != "Running":
            out.append(finding("error", "VmNotRunning", f'VM "{name}" is not running; only a running VM moves live',
                               "move it with --strategy clone (or transfer), which needs no running VM", *subject))
            continue
        out += _migratable(name, vmi, subject)
        out += _unsupported(name, node.vm, vmi, ver, subject)
        busy = [m for m in ctx.inv.of(kinds.VMIM, SOURCE) if (m.get("spec") or {}).get("vmiName") == name
                and (m.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        if busy:
            out.append(finding("error", "MigrationInProgress",
                               f'VM "{name}" has a migration in progress ({busy[0]["metadata"]["name"]})',
                               "wait until it finishes, or delete it to cancel it", *subject))
    return out


def _condition(vmi: dict, ctype: str) -> Optional[dict]:
    return next((c for c in (vmi.get("status") or {}).get("conditions") or () if c.get("type") == ctype), None)


def _migratable(name: str, vmi: dict, subject) -> List[dict]:
    out = []
    live = _condition(vmi, "LiveMigratable")
    if live is not None and live.get("status") == "False" and live.get("reason") != "DisksNotLiveMigratable":
        out.append(finding("error", "NotLiveMigratable",
                           f'VM "{name}" cannot be live-migrated: {live.get("reason")}: {live.get("message", "")}',
                           "remove what the reason names, or use --strategy clone", *subject))
    storage = _condition(vmi, "StorageLiveMigratable")
    if storage is None or storage.get("status") != "True":
        why = f'{storage.get("reason", "")}: {storage.get("message", "")}' if storage else "not reported"
        out.append(finding("error", "NotStorageLiveMigratable",
                           f'VM "{name}" cannot have its storage live-migrated ({why})',
                           "remove what the reason names, or use --strategy clone", *subject))
    return out


def _unsupported(name: str, vm: dict, vmi: dict, ver: Optional[tuple], subject) -> List[dict]:
    spec = ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}
    domain = spec.get("domain") or {}
    devices = domain.get("devices") or {}
    found = []
    if devices.get("filesystems"):
        found.append("a virtiofs filesystem")
    if devices.get("hostDevices") or devices.get("gpus"):
        found.append("host devices or GPUs")
    if (domain.get("launchSecurity") or {}):
        found.append("confidential computing (SEV/TDX)")
    pod_nets = {n.get("name") for n in spec.get("networks") or () if "pod" in n}
    allow = BRIDGE_ANNOTATION in ((vmi.get("metadata") or {}).get("annotations") or {})
    if any("bridge" in i and i.get("name") in pod_nets for i in devices.get("interfaces") or ()) and not allow:
        found.append(f"a bridge binding on the pod network (without the {BRIDGE_ANNOTATION} annotation)")
    persistent = (devices.get("tpm") or {}).get("persistent") or \
        (((domain.get("firmware") or {}).get("bootloader") or {}).get("efi") or {}).get("persistent")
    if persistent and ver is not None and ver[:2] < PERSISTENT_STATE_VERSION:
        found.append("a persistent TPM/EFI state (carried by a live move only since KubeVirt v1.7)")
    return [finding("error", "UnsupportedForLive", f'VM "{name}" has {what}, which a live move cannot carry',
                    "remove it, or use --strategy clone", *subject) for what in found]


def rights(ctx) -> List[dict]:
    """§2.8: creating migrations needs kubevirt.io:migrate in both namespaces (admin/edit only read them)."""
    if ctx.strategy != "live":
        return []
    out = []
    for ns in (ctx.src, ctx.dst):
        key = ("create", "kubevirt.io", "virtualmachineinstancemigrations", "", ns)
        if ctx.inv.permissions.get(key) is False:
            out.append(finding("error", "MigrateRightsMissing",
                               f'you may not create VirtualMachineInstanceMigrations in "{ns}"; a live move creates '
                               "one in each namespace", "a cluster admin binds the kubevirt.io:migrate ClusterRole: "
                               f"kubectl create rolebinding kvmigrate --clusterrole=kubevirt.io:migrate "
                               f"--user={ctx.inv.user or '<you>'} -n {ns}", "Namespace", ns))
    return out


def mac_policy(ctx) -> List[dict]:
    """§2.7: the running guest keeps its NICs, so the receiver keeps the source's MACs."""
    if ctx.strategy != "live" or ctx.move_plan.mac_policy != "new":
        return []
    return [finding("error", "NewMacsNotLive", "--mac-policy new cannot apply to a live move: the running guest "
                    "keeps its network cards, so the receiver VM must keep the source's MAC addresses",
                    "plan with --mac-policy keep (or opt-out), or move with --strategy clone to get new MACs")]


RULES = (gate, version, nodes, vms, rights, mac_policy)

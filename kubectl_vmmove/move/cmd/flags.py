"""Flags the move verbs share: which VMs, how the move is made, the move id, the lease takeover."""

from typing import Dict, Iterable, Optional

from ...errors import UsageError


def add_selection_arguments(parser, move_list_flag=True):
    parser.add_argument("vms", nargs="*", metavar="VM", help="Names of the VirtualMachines")
    parser.add_argument("-l", "--selector", metavar="SELECTOR",
                        help="Label selector of the VirtualMachines (e.g. -l app=web,tier!=db)")
    parser.add_argument("--all", action="store_true", help="Every VirtualMachine of the namespace")
    if move_list_flag:
        parser.add_argument("-f", "--filename", dest="move_list", metavar="MOVE_LIST",
                            help="File with one VM name per line (# starts a comment; - reads stdin)")


def add_move_options(parser, target_help="The target namespace (required)"):
    """How a move is made: shared by `plan` and `run` (which plans when it is not given a plan)."""
    parser.add_argument("--to", dest="target", metavar="NAMESPACE", help=target_help)
    parser.add_argument("--strategy", choices=("clone", "transfer", "live", "auto"), default="clone",
                        help="clone: CDI copies each disk (default); transfer: rebind the volumes, no copy "
                             "(cluster-admin), through CDI's ObjectTransfer where CDI still serves it (deprecated "
                             "since CDI v1.61; run warns), else natively: Retain, claimRef rebind, restore; live: "
                             "KubeVirt's decentralized live migration, the VM keeps running (needs the "
                             "DecentralizedLiveMigration gate and kubevirt.io:migrate in both namespaces); auto: "
                             "per VM, live when it runs and every live check passes, else transfer when you may "
                             "rebind volumes, else clone")
    parser.add_argument("--live-sync-timeout", default="5m", metavar="DURATION",
                        help="live: give up when the migrations stay this long in their synchronization phases "
                             "(KubeVirt has no timeout there; default 5m)")
    parser.add_argument("--keep-failed", action="store_true",
                        help="live: keep the receiver VM and its disks after a failed migration, for diagnosis")
    parser.add_argument("--storage-class-map", action="append", default=[], metavar="OLD=NEW",
                        help="Give cloned disks of class OLD the class NEW (repeatable, or comma-separated)")
    parser.add_argument("--target-run-strategy", choices=("source", "Always", "Halted"), default="source",
                        help="Run strategy of the moved VMs: as in the source (default), Always or Halted")
    parser.add_argument("--create-namespace", action="store_true", help="Create the target namespace if missing")
    parser.add_argument("--no-services", dest="services", action="store_false",
                        help="Leave the Services that select the VMs behind")
    parser.add_argument("--mac-policy", choices=("auto", "keep", "opt-out", "new"), default="auto",
                        help="MAC addresses: keep them (auto, keep), keep them with KubeMacPool opted out in the "
                             "target namespace (opt-out), or let KubeMacPool assign new ones (new)")
    parser.add_argument("--move-id", metavar="ID", help="Use this move id instead of a new random one")


def live_options(args) -> Dict[str, object]:
    """The plan's spec.live from --live-sync-timeout and --keep-failed (only a live move reads it)."""
    from ...durations import parse_duration

    timeout = parse_duration(getattr(args, "live_sync_timeout", "5m"), "--live-sync-timeout")
    return {"syncTimeoutSeconds": timeout or 0, "keepFailed": bool(getattr(args, "keep_failed", False))}


def parse_storage_class_map(values: Optional[Iterable[str]]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for value in values or ():
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            old, sep, new = item.partition("=")
            if not sep or not old or not new:
                raise UsageError(f'--storage-class-map expects OLD=NEW, got "{item}"')
            if old in out and out[old] != new:
                raise UsageError(f'--storage-class-map maps "{old}" twice ("{out[old]}" and "{new}")')
            out[old] = new
    return out


def check_move_id(value):
    import re

    if value is not None and not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?", value):
        raise UsageError(f'--move-id "{value}" must be lower-case letters, digits and "-" (at most 32)')


def add_takeover_flag(parser):
    parser.add_argument("--force-takeover", action="store_true",
                        help="Take the move over even when another kubectl-vmmove holds its lease (that process "
                             "stops at its next step). A holder that died is taken over without this flag")

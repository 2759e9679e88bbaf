"""Flags the move verbs share: which VMs, how the move is made, the move id, the lease takeover."""

import re
from typing import Dict, Iterable, List, Optional

from ...errors import UsageError

# A move id names the journal (configmap vmmove-<id>) and is a label value: a DNS-1123 label, kept short to type.
MOVE_ID_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?")

# Flags that decide what a move does, with the attribute argparse stores them in: a saved plan already fixed them.
SHAPING_FLAGS = (("target", "--to"), ("strategy", "--strategy"), ("move_id", "--move-id"),
                 ("target_run_strategy", "--target-run-strategy"), ("storage_class_map", "--storage-class-map"),
                 ("mac_policy", "--mac-policy"), ("services", "--no-services"),
                 ("create_namespace", "--create-namespace"),
                 ("copy_network_policies", "--copy-network-policies"),
                 ("live_sync_timeout", "--live-sync-timeout"), ("keep_failed", "--keep-failed"), ("vms", "VM names"), ("selector", "-l/--selector"),
                 ("all", "--all"), ("move_list", "--move-list"))


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
    parser.add_argument("--to", dest="target", metavar="NAMESPACE", type=namespace_name("--to"), help=target_help)
    # Defaults are None so that a flag given with -f PLAN can be told apart from its default (refused there);
    # plan_options() and live_options() fill in the defaults the help names.
    parser.add_argument("--strategy", choices=("clone", "transfer", "live", "auto"), default=None,
                        help="clone: CDI copies each disk (default); transfer: rebind the volumes, no copy "
                             "(cluster-admin), through CDI's ObjectTransfer where CDI still serves it (deprecated "
                             "since CDI v1.61; run warns), else natively: Retain, claimRef rebind, restore; live: "
                             "KubeVirt's decentralized live migration, the VM keeps running (needs the "
                             "DecentralizedLiveMigration gate and kubevirt.io:migrate in both namespaces); auto: "
                             "per VM, live when it runs and every live check passes, else transfer when you may "
                             "rebind volumes, else clone")
    parser.add_argument("--live-sync-timeout", default=None, metavar="DURATION",
                        help="live: give up when the migrations stay this long in their synchronization phases "
                             "(KubeVirt has no timeout there; default 5m)")
    parser.add_argument("--keep-failed", action="store_true", default=None,
                        help="live: keep the receiver VM and its disks after a failed migration, for diagnosis")
    parser.add_argument("--storage-class-map", action="append", default=None, metavar="OLD=NEW",
                        help="Give cloned disks of class OLD the class NEW (repeatable, or comma-separated)")
    parser.add_argument("--target-run-strategy", choices=("source", "Always", "Halted"), default=None,
                        help="Run strategy of the moved VMs: as in the source (default), Always or Halted")
    parser.add_argument("--create-namespace", action="store_true", help="Create the target namespace if missing")
    parser.add_argument("--no-services", dest="services", action="store_false", default=None,
                        help="Leave the Services that select the VMs behind")
    parser.add_argument("--copy-network-policies", action="store_true", default=None,
                        help="Copy the NetworkPolicies that select moving VMs only (never one that selects every pod "
                             "or pods that stay)")
    parser.add_argument("--mac-policy", choices=("auto", "keep", "opt-out", "new"), default=None,
                        help="MAC addresses: keep them (auto, keep), keep them with KubeMacPool opted out in the "
                             "target namespace (opt-out), or let KubeMacPool assign new ones (new)")
    parser.add_argument("--move-id", metavar="ID", help="Use this move id instead of a new random one")


def live_options(args) -> Dict[str, object]:
    """The plan's spec.live from --live-sync-timeout and --keep-failed (only a live move reads it)."""
    from ...durations import parse_duration

    timeout = parse_duration(getattr(args, "live_sync_timeout", None) or "5m", "--live-sync-timeout")
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


def namespace_name(flag: str):
    """An argparse type: the value must be a namespace name (an RFC 1123 label, as the API server requires), so a
    wrong one is reported as such instead of as a namespace that does not exist. Raises UsageError (exit 2)."""
    import re

    def check(value: str) -> str:
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value) or len(value) > 63:
            raise UsageError(f'{flag} "{value}" is not a valid namespace name: use at most 63 lower case letters, '
                             'digits and "-", starting and ending with a letter or digit (e.g. "prod-01")')
        return value

    return check


def check_move_id(value: Optional[str], flag: str = "") -> None:
    """A usage error unless `value` (when given) can name a move: checked before it is used in a name or selector."""
    if value is not None and not MOVE_ID_PATTERN.fullmatch(value):
        given = f" ({flag})" if flag else ""
        raise UsageError(f'move id "{value}" is not valid{given}: a move id is 1 to 32 lower-case letters, digits '
                         'and "-", starting and ending with a letter or digit; list moves with '
                         "'kubectl vmmove status'")


def shaping_flags_given(args) -> List[str]:
    """The flags of SHAPING_FLAGS given on this command line, as the user typed them."""
    out = []
    for attr, flag in SHAPING_FLAGS:
        value = getattr(args, attr, None)
        if (value is False) if attr == "services" else bool(value):
            out.append(flag)
    return out


def plan_options(args, source: str, selection: dict):
    """The PlanOptions of `plan` and of `run` planning now, from the move flags (defaults as the help says)."""
    from ..planning.moveplan import PlanOptions

    return PlanOptions(source=source, target=args.target, strategy=args.strategy or "clone",
                       storage_class_map=parse_storage_class_map(args.storage_class_map),
                       target_run_strategy=args.target_run_strategy or "source",
                       create_namespace=bool(args.create_namespace), services=args.services is not False,
                       mac_policy=args.mac_policy or "auto", move_id=args.move_id or "", selection=selection,
                       copy_network_policies=bool(getattr(args, "copy_network_policies", False)),
                       live=live_options(args))


def add_takeover_flag(parser):
    parser.add_argument("--force-takeover", action="store_true",
                        help="Take the move over even when another kubectl-vmmove holds its lease (that process "
                             "stops at its next step). A holder that died is taken over without this flag")

"""Which VMs a command acts on: names, a label selector, --all, or a move-list file (one name per line)."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ...errors import UsageError, UserError
from .. import label_selectors as selectors


class NothingSelected(UserError):
    """No VM matched --all or a selector: an error for plan and run, an empty listing for assess (as kubectl get)."""


@dataclass
class Selection:
    names: List[str] = field(default_factory=list)
    label_selector: Optional[str] = None
    all: bool = False
    move_list: Optional[str] = None     # the file the names came from

    def describe(self) -> dict:
        out: Dict[str, Any] = {}
        if self.names:
            out["names"] = list(self.names)
        if self.label_selector:
            out["labelSelector"] = self.label_selector
        if self.all:
            out["all"] = True
        if self.move_list:
            out["moveList"] = self.move_list
        return out


def read_move_list(path: str) -> List[str]:
    """VM names, one per line; blank lines and `#` comments (whole-line or trailing) are ignored."""
    try:
        if path == "-":
            import sys

            text = sys.stdin.read()
        else:
            # utf-8-sig: a byte order mark (Windows editors write one) is not part of the first VM name.
            with open(path, encoding="utf-8-sig") as fh:
                text = fh.read()
    except FileNotFoundError as cause:
        raise UserError(f'the move list "{path}" does not exist') from cause
    except IsADirectoryError as cause:
        raise UserError(f'the move list "{path}" is a directory; give a file with one VM name per line') from cause
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise UserError(f'cannot read the move list "{path}": {reason}') from err
    names = []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if len(entry.split()) != 1:
            raise UserError(f'{path} line {number}: expected one VM name per line, found "{entry}"')
        if entry not in names:
            names.append(entry)
    if not names:
        raise UserError(f'the move list "{path}" names no VMs (one name per line, "#" starts a comment)')
    return names


def from_args(args, default_all=False) -> Selection:
    """The selection the flags ask for; exactly one way of choosing, or --all by default when allowed."""
    names = list(getattr(args, "vms", None) or [])
    selector = getattr(args, "selector", None)
    want_all = bool(getattr(args, "all", False))
    move_list = getattr(args, "move_list", None)
    ways = sum(bool(x) for x in (names, selector, want_all, move_list))
    if ways > 1:
        raise UsageError("choose VMs one way: names, -l/--selector, --all or -f/--filename")
    if selector is not None:
        selectors.parse(selector)   # a malformed selector is a usage error before anything is contacted
    if move_list:
        names = read_move_list(move_list)
    if ways == 0:
        if not default_all:
            raise UsageError("choose the VMs to move: name them, or use -l/--selector, --all or -f MOVE_LIST")
        want_all = True
    return Selection(names=names, label_selector=selector, all=want_all, move_list=move_list)


def matching(selection: Selection, vms: List[dict]) -> List[str]:
    """The VMs a selector or --all picks (names need one namespace: see `apply`), sorted; empty when none."""
    if selection.label_selector is not None:
        reqs = selectors.parse(selection.label_selector)
        return sorted(vm["metadata"]["name"] for vm in vms
                      if selectors.matches_text(reqs, vm["metadata"].get("labels")))
    return sorted(vm["metadata"]["name"] for vm in vms)


def apply(selection: Selection, vms: List[dict], namespace: str) -> List[str]:
    """The selected VM names in a stable order; UserError when a named VM is missing or nothing matches."""
    by_name = {vm["metadata"]["name"]: vm for vm in vms}
    if selection.names:
        missing = [n for n in selection.names if n not in by_name]
        if missing:
            quoted = ", ".join(f'"{n}"' for n in missing)
            noun = "virtualmachine" if len(missing) == 1 else "virtualmachines"
            raise UserError(f'{noun} {quoted} not found in namespace "{namespace}"; '
                            f"list them with 'kubectl get vm -n {namespace}'")
        return list(selection.names)
    if selection.label_selector is not None:
        reqs = selectors.parse(selection.label_selector)
        chosen = sorted(n for n, vm in by_name.items()
                        if selectors.matches_text(reqs, vm["metadata"].get("labels")))
        if not chosen:
            raise NothingSelected(f'no VirtualMachines in namespace "{namespace}" match the selector '
                            f'"{selection.label_selector}"')
        return chosen
    if not by_name:
        raise NothingSelected(f'no VirtualMachines found in namespace "{namespace}"')
    return sorted(by_name)

"""Rules about what the VMs depend on: references that do not resolve, objects shared with VMs that stay."""

from typing import List

from ....kube import kinds
from ..inventory import SOURCE, TARGET
from .base import finding, vm_names


def references(ctx) -> List[dict]:
    out = []
    for name, node in ctx.graph.nodes.items():
        for kind, ref, where in node.missing:
            if kind in ("NetworkAttachmentDefinition", "PersistentVolumeClaim"):
                continue   # reported by networks() and storage()
            out.append(finding("error", "MissingDependency",
                               f'VM "{name}" refers to {kind} "{ref}" ({where}), which does not exist in "{ctx.src}"',
                               "create it, or remove the reference from the VM", kind, ref, ctx.src))
    for (kind, scope), message in sorted(ctx.inv.unreadable.items()):
        ns = ctx.src if scope == SOURCE else ctx.dst if scope == TARGET else None
        out.append(finding("warning", "ListForbidden",
                           f"cannot list {kinds.by_kind(kind).resource}" + (f' in "{ns}"' if ns else "")
                           + f": {message}",
                           "ask for read access; until then the plan may miss dependencies or conflicts of that kind"))
    return out


def sharing(ctx) -> List[dict]:
    out, seen = [], set()
    for _name, node in ctx.graph.nodes.items():
        for kind, names in node.deps.items():
            for dep in names:
                staying = ctx.graph.staying_users(kind, dep)
                if staying and (kind, dep) not in seen:
                    seen.add((kind, dep))
                    out.append(finding("info", "SharedDependency",
                                       f'{kind} "{dep}" is also used by {vm_names(staying)} (not moving): it is '
                                       "copied and the original is kept", kind=kind, name=dep, namespace=ctx.src))
    return out

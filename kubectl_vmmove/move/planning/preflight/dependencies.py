"""Rules about what the VMs depend on: references that do not resolve, objects shared with VMs that stay."""

from typing import List

from ....kube import kinds
from .. import graph as graphmod
from ..inventory import SOURCE, TARGET
from ..moveplan import PER_NAMESPACE
from ..permissions import Permission
from .base import finding, vm_names


def references(ctx) -> List[dict]:
    out = unreadable_dependencies(ctx)
    reported = {(f["subject"]["kind"], SOURCE) for f in out}
    for name, node in ctx.graph.nodes.items():
        for kind, ref, where in node.missing:
            if kind in ("NetworkAttachmentDefinition", "PersistentVolumeClaim"):
                continue   # reported by networks() and storage()
            if (kind, ref) in PER_NAMESPACE:
                continue   # the target has its own (Kubernetes' controllers make it); nothing to copy
            out.append(finding("error", "MissingDependency",
                               f'VM "{name}" refers to {kind} "{ref}" ({where}), which does not exist in "{ctx.src}"',
                               "create it, or remove the reference from the VM", kind, ref, ctx.src))
    for (kind, scope), message in sorted(ctx.inv.unreadable.items()):
        if (kind, scope) in reported:
            continue
        ns = ctx.src if scope == SOURCE else ctx.dst if scope == TARGET else None
        out.append(finding("warning", "ListForbidden",
                           f"cannot list {kinds.by_kind(kind).resource}" + (f' in "{ns}"' if ns else "")
                           + f": {message}",
                           "ask for read access; until then the plan may miss dependencies or conflicts of that kind"))
    return out


def unreadable_dependencies(ctx) -> List[dict]:
    """An object a VM names in a kind the user may not list in the source: whether it exists, and what it holds,
    is unknown, so the VM cannot be moved with it (its copy would be missing and the VM would point at nothing).
    One error per VM and object, with the access to ask for and the line to check it."""
    out = []
    for name, node in ctx.graph.nodes.items():
        for kind_name in graphmod.DEPENDENCY_KINDS:
            message = ctx.inv.unreadable.get((kind_name, SOURCE))
            if message is None or not node.deps.get(kind_name):
                continue
            kind = kinds.by_kind(kind_name)
            access = Permission("list", kind.group, kind.plural, ctx.src)
            for dep in node.deps[kind_name]:
                if (kind_name, dep) in PER_NAMESPACE:
                    continue
                out.append(finding("error", "DependencyUnreadable",
                                   f'VM "{name}" refers to {kind_name} "{dep}", which cannot be read: you may not '
                                   f"{access.text()} ({message})",
                                   f"ask for that access (check with '{access.kubectl()}'), or have someone who "
                                   "has it plan the move", kind_name, dep, ctx.src))
    return out


def sharing(ctx) -> List[dict]:
    out, seen = [], set()
    for _name, node in ctx.graph.nodes.items():
        for kind, names in node.deps.items():
            for dep in names:
                staying = ctx.graph.staying_users(kind, dep)
                if kind == "NetworkPolicy":
                    continue   # never copied when shared: network_policies() compares source and target
                if staying and (kind, dep) not in seen:
                    seen.add((kind, dep))
                    out.append(finding("info", "SharedDependency",
                                       f'{kind} "{dep}" is also used by {vm_names(staying)} (not moving): it is '
                                       "copied and the original is kept", kind=kind, name=dep, namespace=ctx.src))
    return out

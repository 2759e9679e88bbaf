"""Server groups -> pod (anti-)affinity; availability zones -> a zone nodeSelector (opt-in with --zones).

A server group's members get a label naming the group; `affinity` requires them on one node, `anti-affinity` on
different nodes, and the `soft-` policies become preferences. KubeVirt copies the VM template's affinity to the
virt-launcher pod, which carries the template labels, so the selector sees the other members.
"""

from typing import Dict, Optional, Tuple

from ..model import ServerGroup
from ..report import APPROXIMATED, DROPPED, MAPPED
from . import names

GROUP_LABEL = "vmmove.io/server-group"
HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def group_of(server, estate) -> Optional[ServerGroup]:
    for gid in server.server_group_ids:
        if gid in estate.server_groups:
            return estate.server_groups[gid]
    for g in sorted(estate.server_groups.values(), key=lambda x: x.id):
        if server.id in g.members:
            return g
    return None


def group_label_value(group) -> str:
    return names.label_value(f"{names.dns_label(group.name, 'group', 40)}-{group.id[:8]}")


def affinity_for(group) -> Tuple[Optional[dict], str, str]:
    """(affinity, status, reason) for one server group."""
    term = {"labelSelector": {"matchLabels": {GROUP_LABEL: group_label_value(group)}}, "topologyKey": HOST}
    policy = group.policy
    if policy == "affinity":
        return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}, MAPPED, "same node"
    if policy == "anti-affinity":
        status, reason = MAPPED, "different nodes"
        limit = group.rules.get("max_server_per_host")
        if limit and limit > 1:
            status, reason = APPROXIMATED, (f"max_server_per_host={limit} cannot be expressed: at most one member "
                                            "per node is required instead")
        return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}, status, reason
    if policy == "soft-affinity":
        return {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": term}]}}, MAPPED, "preferably the same node"
    if policy == "soft-anti-affinity":
        return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": term}]}}, MAPPED, "preferably different nodes"
    return None, DROPPED, f"unknown policy {policy!r}"


def plan_placement(ctx, server, target: str) -> Tuple[Dict[str, str], Optional[dict], Optional[dict]]:
    """(template labels, affinity, nodeSelector) for one server."""
    labels, affinity, selector = {}, None, None
    group = group_of(server, ctx.estate)
    if group is not None:
        affinity, status, reason = affinity_for(group)
        if affinity is not None:
            labels[GROUP_LABEL] = group_label_value(group)
        ctx.report.add(server, "server_groups", status, f"{target} spec.template.spec.affinity",
                       f"server group {group.name} ({group.policy}): {reason}")
        if not ctx.group_reported(group):
            ctx.report.add(group, "policy", status, "pod affinity of its members", reason)
            ctx.report.mapped(group, "members", f"label {GROUP_LABEL}={group_label_value(group)}")
            ctx.report.claim(group, "policies", "rules", "name")
    elif server.server_group_ids:
        ctx.report.dropped(server, "server_groups", "the server group is not in the input")
    zone = server.availability_zone
    if zone == "nova" and not ctx.options.zone_map.get(zone):
        ctx.report.ignored(server, "OS-EXT-AZ:availability_zone", "nova is the default zone: no placement asked")
    elif zone:
        if ctx.options.zones:
            selector = {ZONE: ctx.options.zone_map.get(zone, zone)}
            ctx.report.mapped(server, "OS-EXT-AZ:availability_zone", f"{target} spec.template.spec.nodeSelector[{ZONE}]",
                              f"{zone} -> {selector[ZONE]}")
        else:
            ctx.report.dropped(server, "OS-EXT-AZ:availability_zone",
                               f"{zone}: add --zones to pin the VM to a {ZONE} of the same name")
    if server.raw.get("pinned_availability_zone"):
        ctx.report.add(server, "pinned_availability_zone", MAPPED if ctx.options.zones else DROPPED, "",
                       "as OS-EXT-AZ:availability_zone")
    ctx.report.claim(server, "scheduler_hints")
    if server.raw.get("scheduler_hints"):
        ctx.report.dropped(server, "scheduler_hints", "boot-time scheduler hints; use affinity rules by hand")
    return labels, affinity, selector

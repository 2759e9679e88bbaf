"""The read-only pipeline behind `assess` and `plan`: inventory in phases → graph → plan → preflight.

Requests: discovery, then one list per needed kind per namespace, a rules review per namespace, a few access
reviews, and one server-side dry run; the count depends on which kinds occur, not on how many VMs there are.
"""

import logging
from typing import Dict, List, Optional, Tuple

from ...errors import UserError
from ...kube import kinds
from . import graph as graphmod
from . import inventory, permissions, planfile, preflight, selection
from . import moveplan as planmod
from .inventory import CLUSTER

log = logging.getLogger(__name__)


def _source_phase(api, source: str, sel: selection.Selection, strategy: str, whole=(), instances=False,
                  pods=False):
    """The source inventory. With `instances`, also the instances and migrations of the selected VMs when one of
    them has an instance (two lists): a migration or a hot-plugged volume lives there only (preflight.activity)."""
    inv = inventory.collect_vms(api, source)
    names = selection.apply(sel, inv.of(kinds.VM), source)
    vms = inv.by_name(kinds.VM)
    needed = graphmod.kinds_needed([vms[n] for n in names], source)
    if strategy == "clone":
        needed.append(kinds.RESOURCEQUOTA)    # CDI's temporary clone claims are charged to the source namespace
    if (instances and any(graphmod.has_instance(vms[n]) for n in names)) or strategy == "live":
        needed += [kinds.VMI, kinds.VMIM]      # migratability conditions, nodes, migrations in flight
    if pods:
        needed.append(kinds.POD)     # what else a NetworkPolicy selects (--copy-network-policies)
    inventory.collect_dependencies(api, inv, needed, whole=whole)
    return inv, names


def _cluster_phase(api, inv, strategy: str) -> None:
    wanted = [kinds.STORAGECLASS, kinds.KUBEVIRT]
    if strategy == "live":
        wanted += [kinds.NODE]
    if strategy == "clone":
        wanted += [kinds.CSIDRIVER, kinds.STORAGEPROFILE, kinds.CDI]
    else:
        wanted += [kinds.PV]
    inventory.collect_cluster(api, inv, wanted)
    if strategy == "clone" and _may_snapshot(inv):
        inventory.collect_cluster(api, inv, [kinds.VOLUMESNAPSHOTCLASS])


def _may_snapshot(inv) -> bool:
    """Whether any class may clone by snapshot, so that the snapshot classes matter (one more list)."""
    override = ((inv.of(kinds.CDI, CLUSTER) or [{}])[0].get("spec") or {}).get("cloneStrategyOverride")
    if override:
        return override == "snapshot"
    profiles = inv.by_name(kinds.STORAGEPROFILE, CLUSTER)
    for sc in inv.of(kinds.STORAGECLASS, CLUSTER):
        strategy = ((profiles.get(sc["metadata"]["name"]) or {}).get("status") or {}).get("cloneStrategy")
        if strategy in (None, "snapshot"):
            return True
    return False


def assess(api, source: str, sel: selection.Selection) -> Tuple[inventory.Inventory, graphmod.Graph, dict]:
    """Graph and source-side findings for the selected VMs (no target namespace involved)."""
    inv, names = _source_phase(api, source, sel, "clone")
    _cluster_phase(api, inv, "clone")
    return _assess_inventory(inv, names)


def assess_all_namespaces(api, sel: selection.Selection) -> List[Tuple[inventory.Inventory, graphmod.Graph, dict]]:
    """`assess` for every namespace holding selected VMs, in namespace order. Requests: one cluster-wide list per
    kind (VMs first) and the cluster phase once, whatever the number of VMs and namespaces."""
    invs = inventory.collect_vms_all_namespaces(api)
    chosen = {}
    for ns, inv in invs.items():
        names = selection.matching(sel, inv.of(kinds.VM))
        if names:
            chosen[ns] = names
    if not chosen:
        if sel.label_selector is not None:
            raise selection.NothingSelected(f'no VirtualMachines in any namespace match the selector '
                                            f'"{sel.label_selector}"')
        raise selection.NothingSelected("no VirtualMachines found in any namespace")
    invs = {ns: invs[ns] for ns in chosen}
    needed: Dict[str, kinds.Kind] = {}
    for ns, inv in invs.items():
        vms = inv.by_name(kinds.VM)
        for kind in graphmod.kinds_needed([vms[n] for n in chosen[ns]], ns) + [kinds.RESOURCEQUOTA]:
            needed.setdefault(kind.kind, kind)
    inventory.collect_dependencies_all_namespaces(api, invs, list(needed.values()))
    # Cluster-scoped facts are the same for every namespace: read once, shared by every inventory.
    cluster = inventory.Inventory(source="")
    _cluster_phase(api, cluster, "clone")
    out = []
    for ns, inv in invs.items():
        inv.not_served |= cluster.not_served
        inv.unreadable.update(cluster.unreadable)
        inv.lists.update({key: items for key, items in cluster.lists.items() if key[1] == CLUSTER})
        out.append(_assess_inventory(inv, chosen[ns]))
    return out


def _assess_inventory(inv, names):
    graph = graphmod.build(inv, names)
    doc = planmod.build(inv, graph, planmod.PlanOptions(source=inv.source, target=inv.source, move_id="assess"))
    findings = []
    ctx = preflight.Context(inv, graph, doc)
    for rule in preflight.SOURCE_RULES:
        findings += rule(ctx)
    doc["status"]["findings"] = preflight.attribute(graph, findings)
    return inv, graph, doc


def make_plan(api, opts: planmod.PlanOptions, sel: selection.Selection, user: str = "",
              full_configmaps: bool = False) -> Tuple[inventory.Inventory, graphmod.Graph, dict]:
    if opts.strategy == "auto":
        return _auto_plan(api, opts, sel, user, full_configmaps)
    if opts.source == opts.target:
        raise UserError(f'source and target namespace are both "{opts.source}"; choose another target with --to')
    whole = {kinds.CONFIGMAP.kind} if full_configmaps else set()
    inv, names = _source_phase(api, opts.source, sel, opts.strategy, whole=whole, instances=True,
                               pods=opts.copy_network_policies)
    inv.user = user
    graph = graphmod.build(inv, names)
    inventory.collect_target(api, inv, opts.target, _target_kinds(inv, graph, opts))
    _cluster_phase(api, inv, opts.strategy)
    if opts.strategy == "transfer":
        inv.not_served.discard(kinds.OBJECTTRANSFER.kind)
        if not api.serves_resource(kinds.OBJECTTRANSFER):     # the group version may be served without it
            inv.not_served.add(kinds.OBJECTTRANSFER.kind)
    external = [ref for node in graph.nodes.values() for ref in node.external_nads if ref[0] != opts.target]
    inventory.collect_external_nads(api, inv, external)
    doc = planmod.build(inv, graph, opts, user=user)
    if inv.target_namespace is not None:
        inv.dry_run = dry_run_probe(api, doc)
        doc["spec"]["kubemacpool"] = planmod.kubemacpool_facts(inv)
    inv.permissions = permissions.check(api, permissions.required(doc))
    preflight.run(inv, graph, doc)
    planfile.seal(doc)
    return inv, graph, doc


def _auto_plan(api, opts, sel, user, full_configmaps):
    """--strategy auto (auto.py): the live plan first; the transfer and clone plans only for the VMs it cannot take.
    Each plan costs its own requests (about three times one plan's at most)."""
    import dataclasses

    from . import auto

    opts = dataclasses.replace(opts, move_id=opts.move_id or planmod.new_move_id())
    docs: Dict[str, dict] = {}
    inv, graph, docs["live"] = make_plan(api, dataclasses.replace(opts, strategy="live"), sel, user, full_configmaps)
    names = list(graph.nodes)
    running = {n: planmod.is_running(node.vm) for n, node in graph.nodes.items()}
    chosen = auto.choose(names, docs, running)
    for strategy in ("transfer", "clone"):
        if len(chosen) == len(names):
            break
        _, _, docs[strategy] = make_plan(api, dataclasses.replace(opts, strategy=strategy), sel, user,
                                         full_configmaps)
        chosen = auto.choose(names, docs, running)
    return inv, graph, auto.merge(docs, chosen)


def _target_kinds(inv, graph, opts) -> List[kinds.Kind]:
    out = [kinds.VM, kinds.PVC, kinds.RESOURCEQUOTA]
    present = {k for node in graph.nodes.values() for k in node.deps}
    present |= {"NetworkAttachmentDefinition" for node in graph.nodes.values()
                if any(net.split("/")[0] == opts.target for net in node.multus_networks if "/" in net)}
    for kind_name in graphmod.DEPENDENCY_KINDS + graphmod.SELECTING_KINDS:
        if kind_name == "Service" and not opts.services:
            continue
        if kind_name in present:
            out.append(kinds.by_kind(kind_name))
    if kinds.NETWORKPOLICY not in out and inv.of(kinds.NETWORKPOLICY):
        out.append(kinds.NETWORKPOLICY)    # the target's own policies, compared with those of the source
    # No DataVolume list: a clone's DataVolume and its claim share the name, so the claim list finds conflicts.
    return out


def dry_run_probe(api, doc) -> Optional[dict]:
    """Create one target VM with dryRun=All: the server's validation and webhooks (KubeMacPool among them) answer
    without anything being stored. The VM with MAC addresses is preferred, since that is what KubeMacPool checks."""
    from ...kube import errors as kerr

    plan = planmod.MovePlan(doc)
    vms = plan.vms
    entry = next((v for v in vms if v["macAddresses"]), vms[0] if vms else None)
    if entry is None:
        return None
    create = next((s for s in entry["steps"] if s["action"] == "create" and s["kind"] == "VirtualMachine"), None)
    if create is None:
        return None
    result = {"vm": entry["name"], "ok": False}
    try:
        api.create(kinds.VM, create["object"], namespace=plan.target, dry_run=True)
        result["ok"] = True
    except kerr.AlreadyExists:
        result["conflict"] = True
    except kerr.Forbidden:
        return None        # reported by the permission checks
    except kerr.ApiError as err:
        result["message"] = err.message
        text = err.message.lower()
        if "mac" in text and ("allocat" in text or "already" in text or "in use" in text):
            result["macRejected"] = True
    return result

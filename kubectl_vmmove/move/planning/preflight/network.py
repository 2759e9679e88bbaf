"""Rules about networks: NetworkAttachmentDefinitions, MAC addresses and KubeMacPool, Services."""

import json
from typing import Dict, List

from ....kube import kinds
from ... import rewrite
from ..inventory import SOURCE, TARGET
from ..moveplan import KMP_OPT_OUT_LABEL, vm_macs
from .base import agreeing, dedupe, finding, vm_names


def networks(ctx) -> List[dict]:
    inv, out = ctx.inv, []
    target_nads = inv.by_name(kinds.NAD, TARGET)
    source_nads = inv.by_name(kinds.NAD, SOURCE)
    multus_missing_reported = False
    for name, node in ctx.graph.nodes.items():
        if node.multus_networks and not inv.serves(kinds.NAD):
            if not multus_missing_reported:
                out.append(finding("error", "MultusMissing",
                                   "VMs use Multus networks but the cluster does not serve "
                                   "NetworkAttachmentDefinitions", "install Multus, or remove the secondary networks"))
                multus_missing_reported = True
            continue
        for kind, nad, where in node.missing:
            if kind != "NetworkAttachmentDefinition":
                continue
            if nad in target_nads:
                out.append(finding("info", "NadReused",
                                   f'NetworkAttachmentDefinition "{nad}" already exists in "{ctx.dst}"; VM "{name}" '
                                   "will use it", kind="NetworkAttachmentDefinition", name=nad, namespace=ctx.dst))
                continue
            out.append(finding("error", "NadMissing",
                               f'VM "{name}" uses network "{nad}" ({where}), but no NetworkAttachmentDefinition of that '
                               f'name exists in "{ctx.src}" or "{ctx.dst}"',
                               f'create NetworkAttachmentDefinition "{nad}" in "{ctx.dst}"',
                               "NetworkAttachmentDefinition", nad, ctx.src))
        for nad in node.deps.get("NetworkAttachmentDefinition", ()):
            if nad in target_nads:
                out.append(finding("info", "NadReused",
                                   f'NetworkAttachmentDefinition "{nad}" already exists in "{ctx.dst}"; VM "{name}" '
                                   "will use it", kind="NetworkAttachmentDefinition", name=nad, namespace=ctx.dst))
            elif nad in source_nads and ctx.src in (source_nads[nad].get("spec") or {}).get("config", ""):
                config = (source_nads[nad].get("spec") or {}).get("config", "")
                if _names_namespace(config, ctx.src):
                    out.append(finding("info", "NadConfigRewritten",
                                       f'the CNI config of NetworkAttachmentDefinition "{nad}" names "{ctx.src}"; '
                                       f'the copy names "{ctx.dst}"', kind="NetworkAttachmentDefinition", name=nad,
                                       namespace=ctx.src))
        for ns, nad in node.external_nads:
            if ns == ctx.dst:
                if nad not in target_nads and inv.listed(kinds.NAD, TARGET):
                    out.append(finding("error", "NadUnreachable",
                                       f'VM "{name}" uses network "{ns}/{nad}", which does not exist',
                                       f'create it in "{ns}"', "NetworkAttachmentDefinition", nad, ns))
                continue
            if (ns, nad) in inv.external_nads_unreadable:
                out.append(finding("warning", "NadUnverified",
                                   f'cannot read NetworkAttachmentDefinition "{ns}/{nad}" used by VM "{name}"',
                                   "check that it exists and that Multus allows cross-namespace references "
                                   f'from "{ctx.dst}" (namespaceIsolation)', "NetworkAttachmentDefinition", nad, ns))
            elif (ns, nad) in inv.external_nads and inv.external_nads[(ns, nad)] is None:
                out.append(finding("error", "NadUnreachable",
                                   f'VM "{name}" uses network "{ns}/{nad}", which does not exist',
                                   f'create it in "{ns}"', "NetworkAttachmentDefinition", nad, ns))
            elif ns != "default":
                # Multus namespaceIsolation (on by default on OpenShift) refuses NADs of other namespaces unless
                # they are in "default" or globalNamespaces (multus-cni docs/configuration.md).
                out.append(finding("warning", "NadInOtherNamespace",
                                   f'VM "{name}" uses network "{ns}/{nad}" of another namespace; with Multus '
                                   f'namespaceIsolation, pods in "{ctx.dst}" may only use it if "{ns}" is one of '
                                   "the globalNamespaces", f'check the Multus configuration, or copy the '
                                   f'NetworkAttachmentDefinition to "{ctx.dst}"', "NetworkAttachmentDefinition",
                                   nad, ns))
    return dedupe(out)


def _names_namespace(config: str, namespace: str) -> bool:
    try:
        parsed = json.loads(config)
    except ValueError:
        return False
    probe = json.loads(json.dumps(parsed))
    return rewrite._rewrite_nad_names(probe, namespace, namespace + "-")


def macs(ctx) -> List[dict]:
    inv, out = ctx.inv, []
    policy = ctx.move_plan.mac_policy
    target_macs: Dict[str, str] = {}
    for vm in inv.of(kinds.VM, TARGET):
        for mac in vm_macs(vm):
            target_macs[mac] = vm["metadata"]["name"]
    with_macs = [n for n, v in ctx.vm_entries.items() if v["macAddresses"]]
    if policy == "new":
        if with_macs:
            out.append(finding("warning", "MacsChange",
                               f"--mac-policy new: {vm_names(with_macs)} {agreeing(with_macs, 'gets', 'get')} new MAC "
                               "addresses; guests that bind their network configuration or DHCP reservations to a "
                               "MAC need updating",
                               "use --mac-policy keep to keep the addresses"))
        return out
    for name in with_macs:
        for mac in ctx.vm_entries[name]["macAddresses"]:
            other = target_macs.get(mac)
            if other and other != name:
                out.append(finding("error", "MacInUse",
                                   f'MAC {mac} of VM "{name}" is already used by VM "{other}" in "{ctx.dst}"',
                                   "change one of them, or plan with --mac-policy new",
                                   "VirtualMachine", name, ctx.src))
    dry = inv.dry_run or {}
    opted_out = policy == "opt-out" or ((inv.target_namespace or {}).get("metadata", {}).get("labels") or {}) \
        .get(KMP_OPT_OUT_LABEL) == "ignore"
    if dry.get("macRejected") and not opted_out and with_macs:
        out.append(finding("error", "MacRejected",
                           "KubeMacPool refuses a VM whose MAC another VM holds (KubeMacPool older than v0.51): "
                           f"{dry.get('message', '')}",
                           "plan with --mac-policy opt-out (labels the target namespace "
                           f"{KMP_OPT_OUT_LABEL}=ignore) or --mac-policy new (new MAC addresses)",
                           "VirtualMachine", dry.get("vm"), ctx.dst))
    elif with_macs:
        out.append(finding("info", "MacsKept",
                           f"{vm_names(with_macs)} {agreeing(with_macs, 'keeps its', 'keep their')} MAC addresses; source and "
                           + ("target share them only while the live migration hands over (the running guest keeps "
                              "its NICs)" if ctx.strategy == "live" else
                              "target never run at the same time (run stops the source first)")))
    if policy == "opt-out":
        out.append(finding("info", "MacPoolOptOut",
                           f'KubeMacPool will not manage MACs in "{ctx.dst}" ({KMP_OPT_OUT_LABEL}=ignore); MAC '
                           "uniqueness there is up to you", kind="Namespace", name=ctx.dst))
    return out


def services(ctx) -> List[dict]:
    out = []
    svcs = ctx.inv.by_name(kinds.SERVICE)
    selected = sorted({s for n in ctx.graph.nodes.values() for s in n.deps.get("Service", ())})
    if not ctx.move_plan.services:
        if selected:
            out.append(finding("info", "ServicesSkipped",
                               f"--no-services: {len(selected)} Service(s) selecting the VMs stay behind: "
                               + ", ".join(selected)))
        return out
    for name in selected:
        spec = (svcs.get(name) or {}).get("spec") or {}
        pinned = [p.get("nodePort") for p in spec.get("ports") or () if p.get("nodePort")]
        lb_ip = spec.get("loadBalancerIP") or next(
            (v for k, v in ((svcs.get(name) or {}).get("metadata", {}).get("annotations") or {}).items()
             if k in _LB_IP_ANNOTATIONS), None)
        if spec.get("type") == "LoadBalancer" and lb_ip:
            out.append(finding("warning", "LoadBalancerIpPinned",
                               f'Service "{name}" asks for the load-balancer address {lb_ip}, which the source '
                               "Service keeps until cleanup: the copy waits for an address (or gets none) until then",
                               "delete the source Service before the move's cleanup if the address must follow, or "
                               "drop the pinned address from the copy", "Service", name, ctx.src))
        if spec.get("type") in ("NodePort", "LoadBalancer") or pinned:
            out.append(finding("warning", "ServiceAddressChanges",
                               f'Service "{name}" is {spec.get("type", "ClusterIP")}'
                               + (f" with node ports {', '.join(map(str, pinned))}" if pinned else "")
                               + "; the copy gets new node ports and a new external address while the source keeps "
                               "its own", "update clients and DNS records after the move; delete the source Service "
                               "first to reuse a fixed node port", "Service", name, ctx.src))
    for np in ctx.inv.of(kinds.NETWORKPOLICY):
        npname = np["metadata"]["name"]
        if not any(npname in n.deps.get("NetworkPolicy", ()) for n in ctx.graph.nodes.values()):
            continue
        rules = (np.get("spec") or {}).get("ingress", []) + (np.get("spec") or {}).get("egress", [])
        peers = [p for r in rules or () for p in (r.get("from") or []) + (r.get("to") or [])]
        if any("namespaceSelector" in p for p in peers):
            out.append(finding("warning", "NetworkPolicyNamespaceSelector",
                               f'NetworkPolicy "{npname}" selects peers by namespace; in "{ctx.dst}" the same '
                               "rule may admit different traffic", "review the copy after the move",
                               "NetworkPolicy", npname, ctx.src))
    return out


# Load-balancer implementations that pin an address by annotation (MetalLB, kube-vip); spec.loadBalancerIP is the
# deprecated core field (Kubernetes ServiceSpec field docs).
_LB_IP_ANNOTATIONS = ("metallb.universe.tf/loadBalancerIPs", "metallb.io/loadBalancerIPs",
                      "kube-vip.io/loadbalancerIPs")

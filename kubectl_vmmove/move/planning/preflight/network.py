"""Rules about networks: NetworkAttachmentDefinitions, MAC addresses and KubeMacPool, Services."""

import json
from typing import Dict, List

from ....kube import kinds
from ... import rewrite
from ..inventory import SOURCE, TARGET
from ..moveplan import KMP_OPT_OUT_LABEL, vm_macs
from .base import agreeing, dedupe, finding, vm_names


def networks(ctx) -> List[dict]:
    """The NADs of each VM: Multus served at all, then per VM the NADs missing in the source, those it copies or
    reuses, and those of other namespaces."""
    inv, out = ctx.inv, []
    for name, node in ctx.graph.nodes.items():
        if node.multus_networks and not inv.serves(kinds.NAD):
            out.append(finding("error", "MultusMissing",
                               "VMs use Multus networks but the cluster does not serve "
                               "NetworkAttachmentDefinitions", "install Multus, or remove the secondary networks"))
            continue
        out += _missing_nads(ctx, name, node) + _source_nads(ctx, name, node) + _external_nads(ctx, name, node)
    return dedupe(out)


def _nad_reused(ctx, vm_name: str, nad: str) -> dict:
    return finding("info", "NadReused", f'NetworkAttachmentDefinition "{nad}" already exists in "{ctx.dst}"; VM '
                   f'"{vm_name}" will use it', kind="NetworkAttachmentDefinition", name=nad, namespace=ctx.dst)


def _missing_nads(ctx, vm_name: str, node) -> List[dict]:
    """A NAD the VM names that the source does not have: fine when the target has one of that name."""
    out: List[dict] = []
    if not node.missing:
        return out
    target_nads = ctx.inv.by_name(kinds.NAD, TARGET)
    for kind, nad, where in node.missing:
        if kind != "NetworkAttachmentDefinition":
            continue
        if nad in target_nads:
            out.append(_nad_reused(ctx, vm_name, nad))
            continue
        out.append(finding("error", "NadMissing",
                           f'VM "{vm_name}" uses network "{nad}" ({where}), but no NetworkAttachmentDefinition of '
                           f'that name exists in "{ctx.src}" or "{ctx.dst}"',
                           f'create NetworkAttachmentDefinition "{nad}" in "{ctx.dst}"',
                           "NetworkAttachmentDefinition", nad, ctx.src))
    return out


def _source_nads(ctx, vm_name: str, node) -> List[dict]:
    """A source NAD the VM uses: reused when the target has one of that name, else copied (its CNI config
    rewritten when it names the source namespace)."""
    out: List[dict] = []
    if not node.deps.get("NetworkAttachmentDefinition"):
        return out
    target_nads = ctx.inv.by_name(kinds.NAD, TARGET)
    source_nads = ctx.inv.by_name(kinds.NAD, SOURCE)
    for nad in node.deps.get("NetworkAttachmentDefinition", ()):
        config = ((source_nads.get(nad) or {}).get("spec") or {}).get("config", "")
        if nad in target_nads:
            out.append(_nad_reused(ctx, vm_name, nad))
        elif nad in source_nads and ctx.src in config and _names_namespace(config, ctx.src):
            out.append(finding("info", "NadConfigRewritten",
                               f'the CNI config of NetworkAttachmentDefinition "{nad}" names "{ctx.src}"; '
                               f'the copy names "{ctx.dst}"', kind="NetworkAttachmentDefinition", name=nad,
                               namespace=ctx.src))
    return out


def _external_nads(ctx, vm_name: str, node) -> List[dict]:
    """NADs written `<namespace>/<name>` of another namespace: they must exist, and Multus must let the target's
    pods use them."""
    inv = ctx.inv
    out: List[dict] = []
    if not node.external_nads:
        return out
    target_nads = inv.by_name(kinds.NAD, TARGET)
    for ns, nad in node.external_nads:
        if ns == ctx.dst:
            if nad not in target_nads and inv.listed(kinds.NAD, TARGET):
                out.append(finding("error", "NadUnreachable", f'VM "{vm_name}" uses network "{ns}/{nad}", which does '
                                   "not exist", f'create it in "{ns}"', "NetworkAttachmentDefinition", nad, ns))
            continue
        if (ns, nad) in inv.external_nads_unreadable:
            out.append(finding("warning", "NadUnverified",
                               f'cannot read NetworkAttachmentDefinition "{ns}/{nad}" used by VM "{vm_name}"',
                               "check that it exists and that Multus allows cross-namespace references "
                               f'from "{ctx.dst}" (namespaceIsolation)', "NetworkAttachmentDefinition", nad, ns))
        elif (ns, nad) in inv.external_nads and inv.external_nads[(ns, nad)] is None:
            out.append(finding("error", "NadUnreachable", f'VM "{vm_name}" uses network "{ns}/{nad}", which does '
                               "not exist", f'create it in "{ns}"', "NetworkAttachmentDefinition", nad, ns))
        elif ns != "default":
            # Multus namespaceIsolation (on by default on OpenShift) refuses NADs of other namespaces unless
            # they are in "default" or globalNamespaces (multus-cni docs/configuration.md).
            out.append(finding("warning", "NadInOtherNamespace",
                               f'VM "{vm_name}" uses network "{ns}/{nad}" of another namespace; with Multus '
                               f'namespaceIsolation, pods in "{ctx.dst}" may only use it if "{ns}" is one of '
                               "the globalNamespaces", f'check the Multus configuration, or copy the '
                               f'NetworkAttachmentDefinition to "{ctx.dst}"', "NetworkAttachmentDefinition",
                               nad, ns))
    return out


def _names_namespace(config: str, namespace: str) -> bool:
    try:
        parsed = json.loads(config)
    except ValueError:
        return False
    probe = json.loads(json.dumps(parsed))
    return rewrite.rewrite_nad_names(probe, namespace, namespace + "-")


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
            out.append(address_finding(name, spec, pinned, ctx.src, ctx.dst,
                                       source_stays=ctx.graph.is_shared("Service", name)))
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


def address_finding(name: str, spec: dict, pinned: List[int], src: str, dst: str, source_stays: bool = False) -> dict:
    """What happens to a NodePort/LoadBalancer Service's node ports and external address across the move."""
    ports = ", ".join(map(str, pinned))
    text = f'Service "{name}" is {spec.get("type", "ClusterIP")}'
    if pinned and source_stays:
        text += (f" with node port(s) {ports}, which the source keeps (VMs that are not moving use it): the copy in "
                 f'"{dst}" gets new node ports for good')
        pinned = []
    elif pinned:
        # kube-apiserver gives a node port to one Service only ("provided port is already allocated").
        text += (f" with node port(s) {ports}, which the source holds until cleanup: the copy in \"{dst}\" gets new "
                 f"node ports, and cleanup gives {ports} back to it once the source Service is deleted")
    else:
        text += f'; the copy in "{dst}" gets new node ports'
    if spec.get("type") == "LoadBalancer":
        text += ", and a new external address while the source keeps its own"
    if spec.get("healthCheckNodePort"):
        # kube-apiserver refuses to change the health-check node port of an existing Local load balancer.
        text += (f"; its health-check node port {spec['healthCheckNodePort']} cannot be given back (an existing "
                 "Service's cannot change): load-balancer health checks must use the copy's new one")
    if spec.get("externalIPs"):
        text += (f"; its externalIPs {', '.join(spec['externalIPs'])} are set on both Services while the source exists "
                 "(traffic to them may reach either)")
    remedy = "update clients and DNS records that use the new ports or address after the move"
    if pinned:
        remedy = ("clients of the node ports reach the source VMs until cleanup; 'cleanup --keep-new-node-ports' "
                  "keeps the copy's new ports instead")
    return finding("warning", "ServiceAddressChanges", text, remedy, "Service", name, src)


def network_policies(ctx) -> List[dict]:
    """Per VM and direction, a warning when the target's policies (and the copies the plan makes) do not give the
    VM the ingress or egress the source's give it (the plan's per-VM `networkPolicies`)."""
    out = []
    for vm in ctx.vms:
        view = vm.get("networkPolicies") or {}
        for key in ("ingress", "egress"):
            if view.get(key) != "differs":
                continue
            src = ", ".join(f'"{n}"' for n in view["source"]) or "none"
            dst = ", ".join(f'"{n}"' for n in view["target"]) or "none"
            out.append(finding("warning", "NetworkPolicyDiffers",
                               f'VM "{vm["name"]}" gets different {key} in "{ctx.dst}": NetworkPolicies selecting it '
                               f'in "{ctx.src}": {src}; in "{ctx.dst}": {dst}',
                               f'create policies in "{ctx.dst}" that give it the same {key} (policies that select '
                               "moving VMs only are copied with --copy-network-policies; one that selects every pod "
                               "or pods that stay never is)", "VirtualMachine", vm["name"], ctx.src))
    return out


# Load-balancer implementations that pin an address by annotation (MetalLB, kube-vip); spec.loadBalancerIP is the
# deprecated core field (Kubernetes ServiceSpec field docs).
_LB_IP_ANNOTATIONS = ("metallb.universe.tf/loadBalancerIPs", "metallb.io/loadBalancerIPs",
                      "kube-vip.io/loadbalancerIPs")

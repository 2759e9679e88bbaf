"""Floating IPs -> Services of type LoadBalancer that select the VM.

A floating IP forwards every port to the VM and leaves filtering to the security groups; a Service must list its
ports. They are taken from the TCP/UDP/SCTP ingress rules of the groups on the VM's port (a range is expanded when it
is small, else reported). Port forwardings become ports mapping the external port to the internal one. The address
is asked for through `--lb-ip-annotation KEY` (MetalLB's by default; kube-vip, Cilium and cloud controllers each
read their own), or the deprecated `spec.loadBalancerIP` with `--lb-ip-annotation spec.loadBalancerIP`. A Service
with TCP and UDP ports is reported: it needs MixedProtocolLBService. `externalTrafficPolicy: Local` keeps the client address, so the NetworkPolicy made from the
same groups still sees the real source, as OpenStack's security groups did.
"""

from typing import Dict, List, Tuple

from ..report import APPROXIMATED, MAPPED
from . import names
from .netpol import CORE

MAX_EXPANDED_RANGE = 16
# spec.loadBalancerIP is deprecated since Kubernetes 1.24 (its meaning varies by implementation); implementations
# read an annotation instead. MetalLB's is the default; `--lb-ip-annotation spec.loadBalancerIP` writes the field.
DEFAULT_LB_IP_ANNOTATION = "metallb.universe.tf/loadBalancerIPs"
LB_IP_FIELD = "spec.loadBalancerIP"
MIXED_PROTOCOLS = ("TCP and UDP on one LoadBalancer Service: needs MixedProtocolLBService (on by default since "
                   "Kubernetes 1.26) and a load balancer that supports it; else split it into one Service per "
                   "protocol sharing the address")


def mixed_protocol_note(ports: List[dict]) -> str:
    return MIXED_PROTOCOLS if len({p["protocol"] for p in ports}) > 1 else ""


def ports_from_rules(groups) -> Tuple[List[dict], List[str]]:
    """Service ports for what the groups let in, and notes about what could not be listed."""
    seen, notes = {}, []
    for sg in groups:
        for rule in sg.rules:
            if rule.direction != "ingress" or rule.remote_group_id:
                continue  # members of a group reach the VM inside the cluster, not through its floating IP
            if rule.protocol is None:
                notes.append(f"{sg.name}: a rule allows every protocol and port; only listed ports are exposed")
                continue
            proto = CORE.get(rule.protocol)
            if proto is None:
                continue
            if rule.port_min is None:
                notes.append(f"{sg.name}: {proto} on every port is allowed; only listed ports are exposed")
                continue
            hi = rule.port_max if rule.port_max is not None else rule.port_min
            if hi - rule.port_min + 1 > MAX_EXPANDED_RANGE:
                notes.append(f"{sg.name}: {proto} {rule.port_min}-{hi} is too wide for Service ports "
                             f"(more than {MAX_EXPANDED_RANGE}); add them by hand")
                continue
            for p in range(rule.port_min, hi + 1):
                seen[(proto, p)] = {"name": f"{proto.lower()}-{p}", "port": p, "protocol": proto, "targetPort": p}
    return [seen[k] for k in sorted(seen, key=lambda k: (k[1], k[0]))], list(dict.fromkeys(notes))


def service(ctx, ns: str, name: str, vm: str, address: str, ports: List[dict], fip, common_labels: dict) -> dict:
    meta: dict = {"name": name, "namespace": ns, "labels": dict(common_labels),
            "annotations": {"vmmove.io/openstack-id": fip.id, "vmmove.io/openstack-floating-ip": address}}
    spec: dict = {"type": "LoadBalancer", "selector": {"vmmove.io/vm": vm}, "ports": ports,
                  "externalTrafficPolicy": "Local"}
    key = ctx.options.lb_ip_annotation or DEFAULT_LB_IP_ANNOTATION
    if key == LB_IP_FIELD:
        spec["loadBalancerIP"] = address
    else:
        meta["annotations"][key] = address
    dns_name, dns_domain = fip.raw.get("dns_name"), fip.raw.get("dns_domain")
    if dns_name and dns_domain:
        meta["annotations"]["external-dns.alpha.kubernetes.io/hostname"] = f"{dns_name}.{dns_domain.rstrip('.')}"
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def plan_services(ctx, vm_groups: Dict[str, List[str]], common_labels: dict) -> List[dict]:
    """A LoadBalancer Service per floating IP: its port forwardings, or the ports its server's groups open."""
    e, report = ctx.estate, ctx.report
    out: List[dict] = []
    by_ip = _servers_by_ip(e)
    key = ctx.options.lb_ip_annotation or DEFAULT_LB_IP_ANNOTATION
    target_hint = "the address goes " + (f"into annotation {key}" if key != LB_IP_FIELD else
                                         "into spec.loadBalancerIP (deprecated since Kubernetes 1.24)")
    for fip in sorted(e.floating_ips.values(), key=lambda f: (f.address, f.id)):
        report.claim(fip, "floating_ip_address", "port_id", "fixed_ip_address", "port_details", "port_forwardings",
                     "floating_network_id", "router_id")
        if fip.port_forwardings:
            _forwarding_services(ctx, fip, by_ip, target_hint, common_labels, out)
        else:
            _address_service(ctx, fip, by_ip, vm_groups, target_hint, common_labels, out)
    for fip in e.floating_ips.values():
        if fip.raw.get("dns_name"):
            report.mapped(fip, "dns_name", "", "annotation external-dns.alpha.kubernetes.io/hostname")
            report.claim(fip, "dns_domain")
    return out


def _servers_by_ip(e) -> Dict[str, str]:
    """Fixed address -> server id, from the servers' addresses, then from the ports."""
    by_ip: Dict[str, str] = {}
    for server in e.servers.values():
        for a in server.addresses:
            if a.kind == "fixed":
                by_ip.setdefault(a.address, server.id)
    for port in e.ports.values():
        for f in port.fixed_ips:
            if port.device_id:
                by_ip.setdefault(f.ip_address, port.device_id)
    return by_ip


def _forwarding_services(ctx, fip, by_ip: Dict[str, str], target_hint: str, common_labels: dict,
                         out: List[dict]) -> None:
    """A Service per server that the floating IP's port forwardings reach."""
    e, report = ctx.estate, ctx.report
    groups: Dict[str, List] = {}
    for pf in fip.port_forwardings:
        port = e.ports.get(pf.internal_port_id or "")
        server_id = port.device_id if port else by_ip.get(pf.internal_ip or "")
        if server_id is None or server_id not in ctx.vm_names:
            report.dropped(fip, f"port_forwardings.{pf.external_port}",
                           f"internal address {pf.internal_ip} belongs to no converted server")
            continue
        groups.setdefault(server_id, []).append(pf)
    for server_id in sorted(groups, key=lambda s: ctx.vm_names[s]):
        ns, vm = ctx.server_namespace[server_id], ctx.vm_names[server_id]
        ports = []
        for pf in groups[server_id]:
            proto = CORE.get(pf.protocol, "TCP")
            ports.append({"name": f"{proto.lower()}-{pf.external_port}", "port": pf.external_port,
                          "protocol": proto, "targetPort": pf.internal_port})
        base = "fip-" + fip.address.replace(".", "-").replace(":", "-")
        name = ctx.allocate(ns, "Service", names.dns1035_label(base + ("-" + vm if len(groups) > 1 else "")),
                            fip.id + server_id)
        out.append(service(ctx, ns, name, vm, fip.address, ports, fip, common_labels))
        for pf in groups[server_id]:
            report.mapped(fip, f"port_forwardings.{pf.external_port}", f"Service {ns}/{name}",
                          f"{pf.protocol} {pf.external_port} -> {vm}:{pf.internal_port}")
    mixed = next((mixed_protocol_note(out[-i]["spec"]["ports"]) for i in range(1, len(groups) + 1)
                  if mixed_protocol_note(out[-i]["spec"]["ports"])), "")
    if len(groups) > 1:
        report.approximated(fip, "floating_ip_address", "", "; ".join(x for x in (
            f"one address, {len(groups)} Services: the load balancer must allow sharing it (e.g. "
            "metallb.universe.tf/allow-shared-ip)", mixed) if x))
    elif groups:
        report.add(fip, "floating_ip_address", APPROXIMATED if mixed else MAPPED, "",
                   "; ".join(x for x in (target_hint, mixed) if x))


def _address_service(ctx, fip, by_ip: Dict[str, str], vm_groups: Dict[str, List[str]], target_hint: str,
                     common_labels: dict, out: List[dict]) -> None:
    """A Service for the server behind an associated floating IP, with the ports its security groups open."""
    e, report = ctx.estate, ctx.report
    server_id = None
    if fip.port_id and fip.port_id in e.ports:
        server_id = e.ports[fip.port_id].device_id
    if server_id is None and fip.fixed_ip:
        server_id = by_ip.get(fip.fixed_ip)
    if server_id is None and isinstance(fip.raw.get("port_details"), dict):
        server_id = fip.raw["port_details"].get("device_id")
    if not fip.port_id and not fip.fixed_ip and not fip.forwardings_known:
        report.unknown(fip, "port_forwardings", "not associated with a port, and 'openstack floating ip list' "
                                                "does not print port forwardings: whether it forwards ports is "
                                                f"unknown ('{fip.unknown.get('port_forwardings')}' tells, saved "
                                                "in a file named after the address); no Service written")
        report.claim(fip, "floating_ip_address")
        return
    if not fip.port_id and not fip.fixed_ip:
        report.dropped(fip, "floating_ip_address", "not associated with any port: nothing to expose")
        return
    if server_id is None or server_id not in ctx.vm_names:
        report.dropped(fip, "floating_ip_address", "associated with a port of no converted server")
        return
    ns, vm = ctx.server_namespace[server_id], ctx.vm_names[server_id]
    groups = [e.security_groups[g] for g in vm_groups.get(server_id, []) if g in e.security_groups]
    if not groups:
        report.dropped(fip, "floating_ip_address", f"{vm} has no security groups, so every port is open; a "
                                                   "Service must list its ports: add one by hand")
        return
    ports, notes = ports_from_rules(groups)
    if not ports:
        report.dropped(fip, "floating_ip_address", f"the groups of {vm} allow no listed TCP/UDP/SCTP port; "
                                                   + "; ".join(notes))
        return
    name = ctx.allocate(ns, "Service", names.dns1035_label("fip-" + fip.address.replace(".", "-").replace(":", "-")),
                        fip.id)
    out.append(service(ctx, ns, name, vm, fip.address, ports, fip, common_labels))
    if mixed_protocol_note(ports):
        notes.append(MIXED_PROTOCOLS)
    status = APPROXIMATED if notes else MAPPED
    report.add(fip, "floating_ip_address", status, f"Service {ns}/{name}",
               f"LoadBalancer for {vm}, ports {', '.join(str(p['port']) for p in ports)} from its security "
               f"groups; {target_hint}" + ("; " + "; ".join(notes) if notes else ""))

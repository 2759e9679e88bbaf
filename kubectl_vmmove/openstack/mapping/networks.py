"""Server ports -> VM interfaces and networks, and the static network data for cloud-init.

Each Neutron network must be mapped with `--network-map NETWORK=pod|multus:NS/NAD|ignore` (by name or id). A network
without a mapping stops the conversion with a message naming it: silently dropping a NIC (as auto-mappers do) breaks
the guest. At most one interface may use the pod network (masquerade); secondary networks use bridge binding.

MAC addresses are kept (`macAddress`), so guests that pin their NIC configuration to a MAC keep working. With
`--static-ips`, fixed IPs are written as cloud-init network data: OpenStack `network_data.json` for a config drive,
netplan v2 for NoCloud. The pod network keeps DHCP: KubeVirt's masquerade hands the guest its own address.
"""

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ...errors import UsageError, UserError
from ..model import Port
from . import names

POD, MULTUS, IGNORE = "pod", "multus", "ignore"


def parse_network_map(values: List[str]) -> Dict[str, Tuple[str, Optional[str]]]:
    out: Dict[str, Tuple[str, Optional[str]]] = {}
    for item in values or []:
        key, sep, target = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--network-map {item!r}: expected NETWORK=pod|multus:NAMESPACE/NAD|ignore")
        if target == POD or target == IGNORE:
            out[key] = (target, None)
        elif target.startswith("multus:") and len(target) > len("multus:"):
            nad = target[len("multus:"):]
            ns, _, name = nad.rpartition("/")
            if not names.DNS_LABEL.match(name) or (ns and not names.DNS_LABEL.match(ns)):
                raise UsageError(f"--network-map {item!r}: {nad!r} is not NAD or NAMESPACE/NAD")
            out[key] = (MULTUS, nad)
        else:
            raise UsageError(f"--network-map {item!r}: expected pod, ignore or multus:NAMESPACE/NAD after '='")
    return out


@dataclass
class Interface:
    network_id: Optional[str]
    network_name: str
    mac: Optional[str]
    fixed_ips: List[Tuple[str, Optional[str]]] = field(default_factory=list)  # (ip, subnet id)
    port: Optional[Port] = None
    security_group_ids: List[str] = field(default_factory=list)
    port_security: Optional[bool] = True  # None: unknown


def server_interfaces(server, estate, ports_by_device) -> List[Interface]:
    """Ports of the server in Nova's order (the order of its addresses map), else from its addresses alone."""
    ports = list(ports_by_device.get(server.id, []))
    order = []
    for a in server.addresses:
        if a.mac and a.mac.lower() not in order:
            order.append(a.mac.lower())
    if ports:
        ports.sort(key=lambda p: (order.index(p.mac_address) if p.mac_address in order else len(order), p.id))
        out = []
        for p in ports:
            net = estate.networks.get(p.network_id)
            name = net.name if net else next((a.network_name for a in server.addresses
                                              if a.mac and a.mac.lower() == p.mac_address), p.network_id)
            out.append(Interface(p.network_id, name, p.mac_address or None,
                                 [(f.ip_address, f.subnet_id) for f in p.fixed_ips], p,
                                 list(p.security_group_ids) if p.port_security_enabled is not False else [],
                                 p.port_security_enabled))
        return out
    grouped: Dict[Tuple[str, Optional[str]], Interface] = {}
    for a in server.addresses:
        if a.kind != "fixed":
            continue
        key = (a.network_name, a.mac.lower() if a.mac else None)
        if key not in grouped:
            net = estate.network_by_name(a.network_name)
            grouped[key] = Interface(net.id if net else None, a.network_name, key[1])
        grouped[key].fixed_ips.append((a.address, None))
    return list(grouped.values())


def lookup(network_map, iface: Interface):
    for key in (iface.network_id, iface.network_name):
        if key and key in network_map:
            return network_map[key]
    return None


def check_mapped(servers_ifaces, network_map) -> None:
    """One error listing every network that lacks a mapping, with the flag to fix each."""
    missing: Dict[str, set] = {}  # network -> names of the servers on it
    for server, ifaces in servers_ifaces:
        for iface in ifaces:
            if lookup(network_map, iface) is None:
                missing.setdefault(iface.network_name, set()).add(server.name)
    if missing:
        lines = []
        for net in sorted(missing):
            users = sorted(missing[net])
            more = f" and {len(users) - 3} more" if len(users) > 3 else ""
            lines.append(f"  network {net!r} (used by {', '.join(users[:3])}{more})")
        example = sorted(missing)[0]
        raise UserError("these OpenStack networks have no mapping:\n" + "\n".join(lines) +
                        f"\nmap each with --network-map NETWORK=pod|multus:NAMESPACE/NAD|ignore, e.g. "
                        f"--network-map {example}=pod")


def plan_interfaces(ctx, server, ifaces: List[Interface], vm: str, nic_model: Optional[str], target: str):
    """(interfaces, networks, static entries for network data) for one VM."""
    report = ctx.report
    interfaces: List[dict] = []
    networks: List[dict] = []
    statics: List[tuple] = []  # (interface name, Interface, fixed IPs) kept as static addresses
    taken = names.NameAllocator()
    pod_used = None
    for iface in ifaces:
        kind, nad = lookup(ctx.network_map, iface)
        field_name = f"addresses.{iface.network_name}"
        if kind == IGNORE:
            report.dropped(server, field_name, "--network-map says ignore: this NIC is not created")
            continue
        if kind == POD:
            if pod_used is not None:
                raise UserError(f"{server.origin}: server {server.name!r} has two interfaces mapped to the pod network "
                                f"({pod_used!r} and {iface.network_name!r}); a VM has one pod interface: map one of "
                                f"them with --network-map NETWORK=multus:NAMESPACE/NAD or ignore")
            pod_used = iface.network_name
        name = taken.allocate(names.dns_label(iface.network_name, "net"), iface.mac or iface.network_name)
        entry: dict = {"name": name}
        if kind == POD:
            entry["masquerade"] = {}
            networks.append({"name": name, "pod": {}})
        else:
            entry["bridge"] = {}
            networks.append({"name": name, "multus": {"networkName": nad}})
        if iface.mac:
            entry["macAddress"] = iface.mac
        if nic_model:
            entry["model"] = nic_model
        interfaces.append(entry)
        _report_interface(ctx, server, iface, (kind, nad), name, target, statics)
    for a in server.addresses:
        if a.kind == "floating":
            report.mapped(server, f"addresses.{a.network_name}", "", f"floating IP {a.address}: see its Service")
    report.claim(server, "addresses")
    network_data = None
    if statics:
        pod_iface = next((i for i in ifaces if lookup(ctx.network_map, i)[0] == POD and i.mac), None)
        network_data = (config_drive_network_data if server.config_drive else netplan_network_data)(
            statics, pod_iface, ctx.estate)
    return interfaces, networks, network_data



def _report_interface(ctx, server, iface: Interface, mapping: Tuple[str, Optional[str]], name: str, target: str,
                      statics: list) -> None:
    """The report for one created NIC: its network, MAC, vNIC type and fixed IPs (kept in `statics` with
    --static-ips on a Multus network)."""
    report = ctx.report
    kind, nad = mapping
    field_name = f"addresses.{iface.network_name}"
    t = f"{target} spec.template.spec.domain.devices.interfaces"
    how = "pod network (masquerade)" if kind == POD else f"Multus network {nad} (bridge)"
    report.mapped(server, field_name, f"{t}[{name}]", how + (f", MAC {iface.mac} kept" if iface.mac else ""))
    if not iface.mac:
        report.unknown(server, f"{field_name}.mac",
                       "the input names no MAC for this NIC (server output never does; 'openstack port list "
                       f"--server {server.id} --long -f json' tells): KubeVirt assigns a new one, so guest "
                       "configuration pinned to the old MAC needs updating", f"{t}[{name}]")
    if iface.port is not None and iface.port.vnic_type not in ("normal", None):
        report.approximated(iface.port, "binding:vnic_type", f"{t}[{name}]",
                            f"{iface.port.vnic_type}: bridge binding used; SR-IOV needs an sriov NAD and binding")
    ips = iface.fixed_ips
    if ips:
        if kind == POD:
            report.approximated(server, f"{field_name}.fixed_ips", f"{t}[{name}]",
                                f"{', '.join(ip for ip, _ in ips)}: the pod network assigns its own address "
                                "(masquerade NAT); reach the VM through a Service")
        elif ctx.options.static_ips:
            statics.append((name, iface, ips))
            report.mapped(server, f"{field_name}.fixed_ips", f"{target} cloud-init network data",
                          f"{', '.join(ip for ip, _ in ips)} kept as static addresses")
        else:
            report.approximated(server, f"{field_name}.fixed_ips", "",
                                f"{', '.join(ip for ip, _ in ips)}: not kept (add --static-ips to write them "
                                "into cloud-init network data, or give the NAD IPAM these addresses)")
    if iface.port is not None:
        ctx.port_used(iface.port, f"{t}[{name}]")


def _subnet_facts(estate, ip: str, subnet_id: Optional[str], network_id: Optional[str]):
    """(prefix length, gateway, dns servers) from the subnet that holds the address, if it is known."""
    addr = ipaddress.ip_address(ip)
    candidates = [estate.subnets[subnet_id]] if subnet_id in estate.subnets else [
        s for s in estate.subnets.values() if not network_id or s.network_id == network_id]
    for s in candidates:
        try:
            net = ipaddress.ip_network(s.cidr, strict=False)
        except ValueError:
            continue
        if addr in net:
            return net.prefixlen, s.gateway_ip, list(s.dns_nameservers)
    return (32 if addr.version == 4 else 128), None, []


def netplan_network_data(statics, pod_iface, estate) -> str:
    import yaml

    ethernets = {}
    if pod_iface is not None:
        ethernets["pod"] = {"match": {"macaddress": pod_iface.mac}, "dhcp4": True}
    for name, iface, ips in statics:
        entry: dict = {"addresses": []}
        if iface.mac:
            entry["match"] = {"macaddress": iface.mac}
            entry["set-name"] = name[:15]
        routes: List[dict] = []
        dns: List[str] = []
        for ip, subnet_id in ips:
            prefix, gw, servers = _subnet_facts(estate, ip, subnet_id, iface.network_id)
            entry["addresses"].append(f"{ip}/{prefix}")
            if gw and not routes and pod_iface is None:
                routes.append({"to": "default", "via": gw})
            dns.extend(x for x in servers if x not in dns)
        if routes:
            entry["routes"] = routes
        if dns:
            entry["nameservers"] = {"addresses": dns}
        ethernets[name] = entry
    return yaml.safe_dump({"version": 2, "ethernets": ethernets}, sort_keys=True, default_flow_style=False)


def config_drive_network_data(statics, pod_iface, estate) -> str:
    links, networks, services = [], [], []
    if pod_iface is not None:
        links.append({"id": "pod", "type": "phy", "ethernet_mac_address": pod_iface.mac})
        networks.append({"id": "pod-dhcp", "link": "pod", "type": "ipv4_dhcp"})
    for name, iface, ips in statics:
        links.append({"id": name, "type": "phy", **({"ethernet_mac_address": iface.mac} if iface.mac else {})})
        for i, (ip, subnet_id) in enumerate(ips):
            prefix, gw, servers = _subnet_facts(estate, ip, subnet_id, iface.network_id)
            addr = ipaddress.ip_address(ip)
            net: dict = {"id": f"{name}-{i}", "link": name, "type": f"ipv{addr.version}", "ip_address": ip,
                         "netmask": str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).netmask)}
            if iface.network_id:
                net["network_id"] = iface.network_id
            if gw and pod_iface is None:
                zero = "0.0.0.0" if addr.version == 4 else "::"
                net["routes"] = [{"network": zero, "netmask": zero, "gateway": gw}]
            networks.append(net)
            for s in servers:
                if {"type": "dns", "address": s} not in services:
                    services.append({"type": "dns", "address": s})
    return json.dumps({"links": links, "networks": networks, "services": services}, sort_keys=True)

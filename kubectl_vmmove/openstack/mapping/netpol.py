"""Security groups -> NetworkPolicy (networking.k8s.io/v1), plus Calico policies for what core policy cannot say.

OpenStack semantics, reproduced: a port with security groups drops all ingress its groups do not allow and allows
the union of what they allow; egress is dropped unless an egress rule allows it (the default group's allow-all egress
rules make it open). So each group becomes one policy per namespace that selects the VMs labelled with the group,
with both policyTypes set (an empty egress list then denies egress, as an SG without egress rules does), and the
union across policies gives the union across groups.

Port security as Neutron enforces it, per port: port security off means no filtering (the VM is selected by no
policy); port security on with no security group drops everything (the VM gets the `vmmove.io/deny-all` label, and
a policy selecting that label with both policyTypes and no rules denies all its traffic). Only the port on the pod
network decides: NetworkPolicy selects pods, not interfaces, and filters the pod network only, so the groups of a
Multus-mapped port never filter the pod NIC; each such port is reported with what OpenStack enforced on it.

Core NetworkPolicy has TCP, UDP and SCTP only; ICMP and other IP protocols go into a Calico
`projectcalico.org/v3` NetworkPolicy with `--calico`, otherwise they are reported as dropped. NetworkPolicy filters
the pod network only: groups on ports mapped to Multus networks are reported as not enforced there.
"""

import ipaddress
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

from ..report import APPROXIMATED, DROPPED, MAPPED, UNKNOWN
from . import names, networks

CORE = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP", "6": "TCP", "17": "UDP", "132": "SCTP"}
ICMP = {"icmp": "ICMP", "1": "ICMP", "ipv6-icmp": "ICMPv6", "icmpv6": "ICMPv6", "58": "ICMPv6"}
PROTOCOL_NUMBERS = {"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "igmp": 2, "ipip": 4, "ipv6-encap": 41,
                    "ipv6-frag": 44, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113,
                    "rsvp": 46, "udplite": 136, "vrrp": 112}
ANY = {"IPv4": "0.0.0.0/0", "IPv6": "::/0"}
NAME_LABEL = "kubernetes.io/metadata.name"
DENY_ALL_LABEL = "vmmove.io/deny-all"


@dataclass
class PodFilter:
    """What filters one VM's pod network, as OpenStack filtered the port that becomes the pod NIC."""

    groups: List[str] = field(default_factory=list)  # security group ids whose policies select the VM
    deny_all: bool = False  # port security on and no group: OpenStack drops all traffic
    status: str = MAPPED
    reason: str = ""
    notes: List[str] = field(default_factory=list)  # approximations: other NICs, groups not in the input


def pod_filter(server, ifaces, network_map, estate) -> PodFilter:
    """The security of the pod NIC from its port, else (no port listing) from the server's group names."""
    out = PodFilter()
    pod = [i for i in ifaces if (networks.lookup(network_map, i) or ("",))[0] == networks.POD]
    if any(i.port is not None for i in ifaces):
        if pod:
            _from_port(pod[0], estate, out)
        else:
            out.reason = "no NIC on the pod network: no NetworkPolicy applies"
    else:
        _from_names(server, ifaces, estate, out)
    for iface in ifaces:
        kind = (networks.lookup(network_map, iface) or ("",))[0]
        if kind == networks.MULTUS and iface.port is not None and iface.port.port_security_enabled is not False:
            _note_multus(iface, network_map, estate, out)
    if out.notes and out.status == MAPPED:
        out.status = APPROXIMATED
    return out


def _group_names(ids, estate) -> str:
    return ", ".join(estate.security_groups[g].name if g in estate.security_groups else g for g in ids)


def _from_port(iface, estate, out: PodFilter) -> None:
    port = iface.port
    where = f"pod NIC ({iface.network_name}, port {port.id})"
    if port.port_security_enabled is False:
        out.reason = f"port security off on the {where}: no NetworkPolicy selects it, all traffic is allowed, as in OpenStack"
        return
    if port.port_security_enabled is None and not port.security_group_ids:
        out.deny_all = True
        out.status = UNKNOWN
        out.reason = (f"port security of the {where} unknown (the port listing does not print it; 'openstack port "
                      f"show {port.id} -f json' tells) and no security group: denied all traffic, as OpenStack does "
                      "with port security on; if it is off there, remove the label " + DENY_ALL_LABEL)
        return
    known = [g for g in port.security_group_ids if g in estate.security_groups]
    missing = [g for g in port.security_group_ids if g not in estate.security_groups]
    if missing:
        out.notes.append(f"security groups {', '.join(missing)} of the {where} are not in the input: their rules "
                         "are not converted (add 'openstack security group show <group> -f json')")
    out.groups = sorted(dict.fromkeys(known), key=lambda g: (estate.security_groups[g].name, g))
    if not out.groups:
        out.deny_all = True
        why = "no security group" if not missing else "no security group in the input"
        out.reason = (f"port security on and {why} on the {where}: OpenStack drops all its traffic, so a deny-all "
                      f"NetworkPolicy selects it (label {DENY_ALL_LABEL})")
        return
    out.reason = f"selected by the NetworkPolicies of {_group_names(out.groups, estate)} ({where})"


def _from_names(server, ifaces, estate, out: PodFilter) -> None:
    """Without ports, Nova's `security_groups` lists group names of all the server's ports together."""
    ask = f"'openstack port list --server {server.id} --long -f json' or 'openstack port show <port> -f json'"
    for sg_name in server.security_group_names:
        candidates = [g for g in estate.security_groups.values() if g.name == sg_name]
        same_project = [g for g in candidates if g.project_id == server.project_id]
        pick = sorted(same_project or candidates, key=lambda g: g.id)
        if pick and pick[0].id not in out.groups:
            out.groups.append(pick[0].id)
        elif not pick:
            out.notes.append(f"security group {sg_name!r} is not in the input: its rules are not converted")
    out.groups.sort(key=lambda g: (estate.security_groups[g].name, g))
    if not out.groups and not server.security_group_names:
        out.deny_all = True
        out.status = UNKNOWN
        out.reason = (f"no security group named and no port in the input, so port security is unknown ({ask} "
                      "tells): denied all traffic, as OpenStack does with port security on and no group; if it is "
                      "off there, remove the label " + DENY_ALL_LABEL)
        return
    if out.groups:
        out.reason = f"selected by the NetworkPolicies of {_group_names(out.groups, estate)}"
    if len(ifaces) > 1:
        out.notes.append(f"groups read by name from the server, not per port: which NIC has which group is unknown "
                         f"({ask} tells); all of them are applied to the pod network")


def _note_multus(iface, network_map, estate, out: PodFilter) -> None:
    nad = networks.lookup(network_map, iface)[1]
    where = f"NIC on {iface.network_name} (Multus {nad}, port {iface.port.id})"
    if iface.security_group_ids:
        out.notes.append(f"{where}: security groups {_group_names(iface.security_group_ids, estate)} are not "
                         "enforced: NetworkPolicy filters the pod network only (filter it in the NAD's CNI or with "
                         "a MultiNetworkPolicy)")
    elif iface.port.port_security_enabled is None:
        out.notes.append(f"{where}: port security unknown ('openstack port show {iface.port.id} -f json' tells) and "
                         "no security group; not filtered: NetworkPolicy filters the pod network only")
    else:
        out.notes.append(f"{where}: port security on and no security group, so OpenStack drops all its traffic; "
                         "not enforced: NetworkPolicy filters the pod network only")


def deny_all_policies(ctx, namespaces, common_labels: dict) -> List[dict]:
    """One policy per namespace that selects the VMs whose pod NIC OpenStack closed entirely."""
    out = []
    for ns in sorted(namespaces):
        name = ctx.allocate(ns, "NetworkPolicy", "openstack-deny-all", "deny-all")
        out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": name, "namespace": ns, "labels": dict(common_labels),
                                 "annotations": {"vmmove.io/openstack-reason": "port security on and no security "
                                                                                "group: all traffic dropped"}},
                    "spec": {"podSelector": {"matchLabels": {DENY_ALL_LABEL: "true"}},
                             "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}})
    return out


def sg_label_keys(groups) -> Dict[str, str]:
    """A label key per security group, unique across the estate (remote-group rules cross projects)."""
    alloc = names.NameAllocator()
    out = {}
    for sg in sorted(groups, key=lambda g: (g.name, g.id)):
        out[sg.id] = "vmmove.io/" + alloc.allocate(names.dns_label("sg-" + sg.name, "sg"), sg.id)
    return out


def _ports(rule) -> Tuple[Optional[list], str, str]:
    """(NetworkPolicy ports or None for all, status, reason); None status means not core."""
    proto = rule.protocol
    rng = {}
    if rule.port_min is not None:
        rng["port"] = rule.port_min
        if rule.port_max is not None and rule.port_max > rule.port_min:
            rng["endPort"] = rule.port_max
    if proto is None:
        if rng:
            return [{"protocol": "TCP", **rng}, {"protocol": "UDP", **rng}], APPROXIMATED, \
                "a port range without a protocol: read as TCP and UDP"
        return None, MAPPED, ""
    if proto in CORE:
        return [{"protocol": CORE[proto], **rng}], MAPPED, ""
    return [], "", ""


def _peer_for_group(remote_id: str, labels: Dict[str, str], members_ns: Dict[str, set], home_ns: str) -> Optional[dict]:
    key = labels.get(remote_id)
    if key is None:
        return None
    spaces = sorted(members_ns.get(remote_id) or {home_ns})
    return {"podSelector": {"matchLabels": {key: "true"}},
            "namespaceSelector": {"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": spaces}]}}


def _cidr(prefix: str) -> Tuple[Optional[str], bool]:
    try:
        net = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return None, False
    return str(net), str(net) == prefix


class PolicyBuilder:
    """Rules of one security group in NetworkPolicy and Calico form, computed once, stamped per namespace."""

    def __init__(self, ctx, sg, labels, members_ns):
        self.ctx, self.sg, self.labels, self.members_ns = ctx, sg, labels, members_ns
        self.home_ns = ctx.namespace_of(sg.project_id)
        self.core = {"ingress": [], "egress": []}
        self.calico = {"ingress": [], "egress": []}
        self.notes: List[Tuple[object, str, str]] = []  # (rule, status, reason)

    def build(self):
        any_rules: Dict[tuple, dict] = {}
        for rule in self.sg.rules:
            direction = "egress" if rule.direction == "egress" else "ingress"
            ports, status, reason = _ports(rule)
            single_family_group = rule.remote_group_id and not self._mirrored(rule)
            if status == "" or (single_family_group and self.ctx.options.calico):
                self._calico_rule(rule, direction)
                continue
            peers, pstatus, preason = self._peers(rule)
            if peers is None:
                self.notes.append((rule, DROPPED, preason))
                continue
            status = APPROXIMATED if APPROXIMATED in (status, pstatus) else MAPPED
            reason = "; ".join(r for r in (reason, preason) if r)
            if peers == "any":
                key = (direction, repr(ports))
                slot = any_rules.setdefault(key, {"families": set(), "rules": [], "ports": ports})
                slot["families"].add(rule.ethertype)
                slot["rules"].append((rule, status, reason))
                continue
            self._add_core(direction, peers, ports)
            self.notes.append((rule, status, reason))
        for (direction, _), slot in any_rules.items():
            if slot["families"] >= {"IPv4", "IPv6"}:
                self._add_core(direction, [], slot["ports"])
                for rule, status, reason in slot["rules"]:
                    self.notes.append((rule, status, reason or "any address, IPv4 and IPv6: no peer restriction"))
            else:
                fam = next(iter(slot["families"]))
                self._add_core(direction, [{"ipBlock": {"cidr": ANY[fam]}}], slot["ports"])
                for rule, _status, reason in slot["rules"]:
                    self.notes.append((rule, APPROXIMATED, "; ".join(x for x in (
                        reason, f"any {fam} address as ipBlock {ANY[fam]}: some CNIs do not match pod addresses with "
                                "ipBlock") if x)))
        return self

    def _add_core(self, direction: str, peers: list, ports: Optional[list]) -> None:
        rule: dict = {}
        if peers:
            rule["from" if direction == "ingress" else "to"] = peers
        if ports:
            rule["ports"] = ports
        if rule not in self.core[direction]:
            self.core[direction].append(rule)

    def _peers(self, rule):
        """("any" | list of peers | None when nothing can be expressed, status, reason)."""
        if rule.remote_group_id:
            peer = _peer_for_group(rule.remote_group_id, self.labels, self.members_ns, self.home_ns)
            if peer is None:
                return None, DROPPED, f"remote group {rule.remote_group_id} is not in the input"
            notes = []
            if rule.remote_address_group_id:
                notes.append("remote_address_group_id ignored: remote_group_id is set too")
            notes.append(f"members of the group, {rule.ethertype} only in OpenStack; a pod selector matches both "
                         "families (add --calico for a policy restricted to the family)")
            if self._mirrored(rule):
                return [peer], MAPPED, "members of the group (IPv4 and IPv6 rules)"
            return [peer], APPROXIMATED, "; ".join(notes)
        if rule.remote_address_group_id:
            ag = self.ctx.estate.address_groups.get(rule.remote_address_group_id)
            if ag is None:
                return None, DROPPED, f"address group {rule.remote_address_group_id} is not in the input"
            blocks = []
            for a in ag.addresses:
                cidr, _ = _cidr(a)
                if cidr and (":" in cidr) == (rule.ethertype == "IPv6"):
                    blocks.append({"ipBlock": {"cidr": cidr}})
            if not blocks:
                return None, DROPPED, f"address group {ag.label} has no {rule.ethertype} addresses"
            return blocks, MAPPED, f"address group {ag.name}"
        if rule.remote_ip_prefix:
            cidr, exact = _cidr(rule.remote_ip_prefix)
            if cidr is None:
                return None, DROPPED, f"remote_ip_prefix {rule.remote_ip_prefix!r} is not a CIDR"
            if cidr in ("0.0.0.0/0", "::/0"):
                return "any", MAPPED, ""
            peers = [{"ipBlock": {"cidr": cidr}}]
            notes = [] if exact else [f"{rule.remote_ip_prefix} normalised to {cidr}"]
            tenant = self._tenant_subnets(cidr)
            if tenant:
                selectors, who = self._vm_peers(cidr)
                subnets = ", ".join(f"{sub.cidr} ({net_name})" for sub, net_name in tenant)
                if self.ctx.options.translate_tenant_cidrs and selectors:
                    peers += selectors
                    notes.append(f"covers tenant subnet {subnets}, mapped to the pod network: translated, the VMs "
                                 f"that had those addresses ({who}) are selected by name, the prefix is kept")
                else:
                    would = (f"selecting the VMs that had those addresses ({who}) would express it: add "
                             "--translate-tenant-cidrs") if selectors else                         "no converted VM had an address there, so nothing would select them"
                    notes.append(f"covers tenant subnet {subnets}, mapped to the pod network: after the move those "
                                 f"peers have pod addresses, which this ipBlock does not match; {would}")
                return peers, APPROXIMATED, "; ".join(notes)
            return peers, MAPPED if exact else APPROXIMATED, "; ".join(notes)
        return "any", MAPPED, ""

    def _mirrored(self, rule) -> bool:
        """A remote-group rule with a twin of the other family: together they mean both families."""
        return any(r is not rule and r.remote_group_id == rule.remote_group_id and r.direction == rule.direction
                   and r.protocol == rule.protocol and r.port_min == rule.port_min and r.port_max == rule.port_max
                   and r.ethertype != rule.ethertype for r in self.sg.rules)

    def _tenant_subnets(self, cidr: str):
        """Subnets of pod-mapped networks that the prefix overlaps: their addresses become pod addresses."""
        net = ipaddress.ip_network(cidr)
        out = []
        for sub in self.ctx.estate.subnets.values():
            network = self.ctx.estate.networks.get(sub.network_id)
            iface = networks.Interface(sub.network_id, network.name if network else "", None)
            if (networks.lookup(self.ctx.network_map, iface) or ("",))[0] != networks.POD:
                continue
            try:
                sub_net = ipaddress.ip_network(sub.cidr, strict=False)
            except ValueError:
                continue
            if sub_net.version == net.version and sub_net.overlaps(net):
                out.append((sub, network.name if network else sub.network_id))
        return sorted(out, key=lambda x: x[0].cidr)

    def _vm_peers(self, cidr: str):
        """(peers selecting the converted VMs with a pod-network address in the prefix, their names)."""
        net = ipaddress.ip_network(cidr)
        found: Dict[str, List[str]] = {}
        for server in self.ctx.estate.servers.values():
            if server.id not in self.ctx.vm_names:
                continue
            for a in server.addresses:
                if a.kind != "fixed":
                    continue
                iface = networks.Interface(None, a.network_name, None)
                if (networks.lookup(self.ctx.network_map, iface) or ("",))[0] != networks.POD:
                    continue
                try:
                    inside = ipaddress.ip_address(a.address) in net
                except ValueError:
                    inside = False
                if inside:
                    found.setdefault(self.ctx.server_namespace[server.id], []).append(self.ctx.vm_names[server.id])
        peers = [{"podSelector": {"matchExpressions": [{"key": "vmmove.io/vm", "operator": "In",
                                                        "values": sorted(set(vms))}]},
                  "namespaceSelector": {"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": [ns]}]}}
                 for ns, vms in sorted(found.items())]
        who = ", ".join(f"{ns}/{vm}" for ns, vms in sorted(found.items()) for vm in sorted(set(vms)))
        return peers, who

    def _calico_rule(self, rule, direction: str) -> None:
        proto = rule.protocol
        if not self.ctx.options.calico:
            self.notes.append((rule, DROPPED, f"protocol {proto} has no core NetworkPolicy equivalent; add --calico "
                                              "for a projectcalico.org/v3 policy"))
            return
        cproto: Union[str, int, None]
        if proto is None:
            cproto = None
        elif proto in CORE:
            cproto = CORE[proto]
        elif proto in ICMP:
            cproto = "ICMPv6" if rule.ethertype == "IPv6" else ICMP[proto]
        elif proto in PROTOCOL_NUMBERS:
            cproto = PROTOCOL_NUMBERS[proto]
        elif str(proto).isdigit():
            cproto = int(proto)
        else:
            self.notes.append((rule, DROPPED, f"unknown protocol {proto!r}"))
            return
        crule: dict = {"action": "Allow", **({"protocol": cproto} if cproto is not None else {}),
                       "ipVersion": 6 if rule.ethertype == "IPv6" else 4}
        if cproto in ("ICMP", "ICMPv6") and rule.port_min is not None:
            crule["icmp"] = {"type": rule.port_min, **({"code": rule.port_max} if rule.port_max is not None else {})}
        dest_ports = None
        if cproto in ("TCP", "UDP", "SCTP") and rule.port_min is not None:
            hi = rule.port_max if rule.port_max is not None else rule.port_min
            dest_ports = [rule.port_min if hi == rule.port_min else f"{rule.port_min}:{hi}"]
        peer: dict = {}
        reason = ""
        if rule.remote_group_id:
            key = self.labels.get(rule.remote_group_id)
            if key is None:
                self.notes.append((rule, DROPPED, f"remote group {rule.remote_group_id} is not in the input"))
                return
            spaces = sorted(self.members_ns.get(rule.remote_group_id) or {self.home_ns})
            peer = {"selector": f"{key} == 'true'",
                    "namespaceSelector": f"{NAME_LABEL} in {{{', '.join(repr(s) for s in spaces)}}}"}
        elif rule.remote_address_group_id:
            ag = self.ctx.estate.address_groups.get(rule.remote_address_group_id)
            if ag is None:
                self.notes.append((rule, DROPPED, f"address group {rule.remote_address_group_id} is not in the input"))
                return
            peer = {"nets": [c for c in (_cidr(a)[0] for a in ag.addresses) if c]}
        elif rule.remote_ip_prefix:
            cidr, _ = _cidr(rule.remote_ip_prefix)
            if cidr is None:
                self.notes.append((rule, DROPPED, f"remote_ip_prefix {rule.remote_ip_prefix!r} is not a CIDR"))
                return
            peer = {"nets": [cidr]}
        if rule.remote_group_id and not reason:
            reason = f"members of the group, {rule.ethertype} only (ipVersion {crule['ipVersion']})"
        if peer:
            crule["source" if direction == "ingress" else "destination"] = peer
        if dest_ports:
            crule["destination"] = {**crule.get("destination", {}), "ports": dest_ports}
        if crule not in self.calico[direction]:
            self.calico[direction].append(crule)
        self.notes.append((rule, MAPPED, reason or "in the Calico policy"))

    def policies(self, ns: str, name: str, common_labels: dict) -> List[dict]:
        key = self.labels[self.sg.id]
        meta = {"name": name, "namespace": ns, "labels": dict(common_labels),
                "annotations": {"vmmove.io/openstack-id": self.sg.id, "vmmove.io/openstack-name": self.sg.name}}
        out = [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
                "spec": {"podSelector": {"matchLabels": {key: "true"}}, "policyTypes": ["Ingress", "Egress"],
                         "ingress": self.core["ingress"], "egress": self.core["egress"]}}]
        if self.calico["ingress"] or self.calico["egress"]:
            types = [t.capitalize() for t in ("ingress", "egress") if self.calico[t]]
            spec = {"selector": f"{key} == 'true'", "types": types}
            for t in ("ingress", "egress"):
                if self.calico[t]:
                    spec[t] = self.calico[t]
            cmeta = {**meta, "name": names.dns_label(name + "-calico", "sg", 253)}
            out.append({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy", "metadata": cmeta,
                        "spec": spec})
        return out


def rule_summary(rule) -> str:
    if rule.protocol in ICMP:  # Neutron keeps the ICMP type in port_range_min and the code in port_range_max
        ports = "" if rule.port_min is None else f" type {rule.port_min}" + (
            f" code {rule.port_max}" if rule.port_max is not None else "")
    else:
        ports = "" if rule.port_min is None else f" {rule.port_min}" + (
            f"-{rule.port_max}" if rule.port_max not in (None, rule.port_min) else "")
    remote = rule.remote_ip_prefix or (f"group {rule.remote_group_id}" if rule.remote_group_id else "") or (
        f"address group {rule.remote_address_group_id}" if rule.remote_address_group_id else "any")
    return f"{rule.direction} {rule.ethertype} {rule.protocol or 'any'}{ports} from/to {remote}"


RULE_FIELDS = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix",
               "remote_group_id", "remote_address_group_id", "ip_protocol", "from_port", "to_port", "ip_range", "group")


def plan_policies(ctx, vm_groups: Dict[str, List[str]], common_labels: dict) -> List[dict]:
    """vm_groups: server id -> security group ids on its pod-facing ports. Returns all policies."""
    e, report = ctx.estate, ctx.report
    members_ns: Dict[str, set] = {}
    for server_id, sg_ids in vm_groups.items():
        for sg_id in sg_ids:
            members_ns.setdefault(sg_id, set()).add(ctx.server_namespace[server_id])
    labels = ctx.sg_labels
    out = []
    for sg in sorted(e.security_groups.values(), key=lambda g: g.id):
        spaces = sorted(members_ns.get(sg.id, ()))
        if not spaces:
            report.dropped(sg, "security_group_rules", "no converted server uses this group")
            for rule in sg.rules:
                report.claim(rule, *RULE_FIELDS)
                report.dropped(rule, "rule", "its group is used by no converted server")
            report.claim(sg, "name")
            continue
        builder = PolicyBuilder(ctx, sg, labels, members_ns).build()
        policy_names = []
        for ns in spaces:
            name = ctx.allocate(ns, "NetworkPolicy", names.dns_label("sg-" + sg.name, "sg", 253), sg.id)
            policy_names.append(f"{ns}/{name}")
            out.extend(builder.policies(ns, name, common_labels))
        where = ", ".join(policy_names)
        report.mapped(sg, "name", f"NetworkPolicy {where}", f"selects VMs labelled {labels[sg.id]}=true")
        report.mapped(sg, "security_group_rules", f"NetworkPolicy {where} spec",
                      f"{len(sg.rules)} rules; policyTypes Ingress and Egress: traffic no rule allows is denied")
        if not sg.stateful:
            report.approximated(sg, "stateful", "", "stateless group: NetworkPolicy is always stateful")
        for rule, status, reason in builder.notes:
            report.claim(rule, *RULE_FIELDS)
            report.add(rule, "rule", status, f"NetworkPolicy {where}", "; ".join(
                x for x in (rule_summary(rule), reason) if x))
    return out

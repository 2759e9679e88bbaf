"""A small evaluator of Kubernetes NetworkPolicy (and the allow-only subset of Calico v3 NetworkPolicy the
converter writes) for traffic probes, written from the API's documented semantics, independent of the converter:

- A pod is isolated for ingress (egress) when at least one NetworkPolicy in its namespace selects it and lists
  Ingress (Egress) in policyTypes; policyTypes defaults to Ingress, plus Egress when the policy has egress rules.
- An isolated direction allows what the union of the selecting policies' rules allows; a rule without `from`/`to`
  matches every peer, a rule without `ports` every port and protocol; a port entry's protocol defaults to TCP and
  `endPort` makes a range. A connection needs the source's egress and the destination's ingress allowed.
- A peer with only podSelector means pods of the policy's namespace; with namespaceSelector, pods of the selected
  namespaces (all pods if podSelector is absent); an ipBlock matches by address (`except` carves out), here for pods
  too (what most CNIs do; the API leaves it to the implementation).
- Calico policies (projectcalico.org/v3, no order): evaluated after the Kubernetes ones (order 1000); with only Allow
  rules the outcome is again the union, and a Calico policy that selects a pod isolates the types it lists. A rule's
  `destination.ports` (ints or "lo:hi") are the destination's ports in both directions.
  Selectors handled: `key == 'value'`, `key in {'a', 'b'}`, joined by `&&`.

Namespaces carry `kubernetes.io/metadata.name` (set by the apiserver since 1.21).
"""

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass
class Pod:
    namespace: str
    labels: Dict[str, str]
    ip: str


@dataclass
class External:
    ip: str


@dataclass
class Probe:
    src: object
    dst: object
    protocol: str = "TCP"  # TCP UDP SCTP ICMP ICMPv6 or a number as a string
    port: Optional[int] = None
    icmp_type: Optional[int] = None
    icmp_code: Optional[int] = None


@dataclass
class Cluster:
    policies: List[dict]
    namespace_labels: Dict[str, Dict[str, str]] = field(default_factory=dict)

    def ns_labels(self, ns: str) -> Dict[str, str]:
        return {NAME_LABEL: ns, **self.namespace_labels.get(ns, {})}

    def allowed(self, probe: Probe) -> bool:
        if isinstance(probe.src, Pod) and not self._direction_allows(probe.src, "Egress", probe.dst, probe):
            return False
        if isinstance(probe.dst, Pod) and not self._direction_allows(probe.dst, "Ingress", probe.src, probe):
            return False
        return True

    # ------------------------------------------------------------------------------------------------ core

    def _direction_allows(self, pod: Pod, direction: str, peer, probe: Probe) -> bool:
        isolated = False
        for pol in self.policies:
            if pol["metadata"]["namespace"] != pod.namespace:
                continue
            if pol["apiVersion"] == "networking.k8s.io/v1":
                spec = pol["spec"]
                if not _label_selector_matches(spec.get("podSelector") or {}, pod.labels):
                    continue
                types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if spec.get("egress") else []))
                if direction not in types:
                    continue
                isolated = True
                rules = spec.get("ingress" if direction == "Ingress" else "egress") or []
                for rule in rules:
                    peers = rule.get("from" if direction == "Ingress" else "to")
                    if peers and not any(self._peer_matches(p, peer, pod.namespace) for p in peers):
                        continue
                    if _ports_match(rule.get("ports"), probe):
                        return True
            elif pol["apiVersion"] == "projectcalico.org/v3":
                spec = pol["spec"]
                if not _calico_selector_matches(spec.get("selector", ""), pod.labels):
                    continue
                if direction not in spec.get("types", []):
                    continue
                isolated = True
                for rule in spec.get(direction.lower()) or []:
                    assert rule["action"] == "Allow"
                    if self._calico_rule_matches(rule, direction, peer, pod.namespace, probe):
                        return True
            else:
                raise AssertionError(f"unknown policy API {pol['apiVersion']}")
        return not isolated

    def _peer_matches(self, peer_spec: dict, peer, policy_ns: str) -> bool:
        if "ipBlock" in peer_spec:
            block = peer_spec["ipBlock"]
            addr = ipaddress.ip_address(peer.ip)
            net = ipaddress.ip_network(block["cidr"])
            if addr.version != net.version or addr not in net:
                return False
            return not any(addr in ipaddress.ip_network(x) for x in block.get("except") or []
                           if ipaddress.ip_network(x).version == addr.version)
        if not isinstance(peer, Pod):
            return False
        if "namespaceSelector" in peer_spec:
            if not _label_selector_matches(peer_spec["namespaceSelector"], self.ns_labels(peer.namespace)):
                return False
        elif peer.namespace != policy_ns:
            return False
        if "podSelector" in peer_spec:
            return _label_selector_matches(peer_spec["podSelector"], peer.labels)
        return True

    # ------------------------------------------------------------------------------------------------ calico

    def _calico_rule_matches(self, rule: dict, direction: str, peer, policy_ns: str, probe: Probe) -> bool:
        proto = rule.get("protocol")
        if proto is not None and str(proto) != probe.protocol:
            return False
        if "ipVersion" in rule and ipaddress.ip_address(_ip_of(peer)).version != rule["ipVersion"]:
            return False
        icmp = rule.get("icmp")
        if icmp is not None:
            if "type" in icmp and icmp["type"] != probe.icmp_type:
                return False
            if "code" in icmp and icmp["code"] != probe.icmp_code:
                return False
        ports = (rule.get("destination") or {}).get("ports")  # ports are the destination's in both directions
        if ports is not None:
            if probe.port is None or not any(_calico_port_matches(p, probe.port) for p in ports):
                return False
        side = rule.get("source" if direction == "Ingress" else "destination") or {}
        if "nets" in side:
            addr = ipaddress.ip_address(_ip_of(peer))
            if not any(addr.version == ipaddress.ip_network(n).version and addr in ipaddress.ip_network(n)
                       for n in side["nets"]):
                return False
        if "selector" in side or "namespaceSelector" in side:
            if not isinstance(peer, Pod):
                return False
            if "namespaceSelector" in side:
                if not _calico_selector_matches(side["namespaceSelector"], self.ns_labels(peer.namespace)):
                    return False
            elif peer.namespace != policy_ns:
                return False
            if "selector" in side and not _calico_selector_matches(side["selector"], peer.labels):
                return False
        return True


def _calico_port_matches(spec, port: int) -> bool:
    if isinstance(spec, int):
        return spec == port
    lo, _, hi = str(spec).partition(":")
    return int(lo) <= port <= int(hi or lo)


def _ip_of(endpoint) -> str:
    return endpoint.ip


def _label_selector_matches(selector: dict, labels: Dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _ports_match(ports, probe: Probe) -> bool:
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != probe.protocol:
            continue
        if "port" not in p:
            return True
        if probe.port is None:
            continue
        lo = p["port"]
        hi = p.get("endPort", lo)
        if lo <= probe.port <= hi:
            return True
    return False


_EQ = re.compile(r"^\s*([\w./-]+)\s*==\s*'([^']*)'\s*$")
_IN = re.compile(r"^\s*([\w./-]+)\s+in\s+\{([^}]*)\}\s*$")


def _calico_selector_matches(selector: str, labels: Dict[str, str]) -> bool:
    if selector.strip() in ("", "all()"):
        return True
    for part in selector.split("&&"):
        m = _EQ.match(part)
        if m:
            if labels.get(m.group(1)) != m.group(2):
                return False
            continue
        m = _IN.match(part)
        if m:
            values = [v.strip().strip("'\"") for v in m.group(2).split(",") if v.strip()]
            if labels.get(m.group(1)) not in values:
                return False
            continue
        raise AssertionError(f"selector form not understood: {part!r}")
    return True


def pods_of(objects: List[dict], ips: Dict[str, str]) -> Dict[str, Pod]:
    """The virt-launcher pod of each VirtualMachine (its template labels), with the pod IP given by VM name."""
    out = {}
    for o in objects:
        if o["kind"] == "VirtualMachine":
            name = o["metadata"]["name"]
            out[name] = Pod(o["metadata"]["namespace"], dict(o["spec"]["template"]["metadata"].get("labels") or {}),
                            ips.get(name, "10.244.0.1"))
    return out


def cluster_of(objects: List[dict]) -> Cluster:
    return Cluster([o for o in objects if o["kind"] == "NetworkPolicy"])

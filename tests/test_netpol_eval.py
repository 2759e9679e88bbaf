"""The test NetworkPolicy evaluator against hand-written policies whose outcome the Kubernetes documentation
states (concepts/services-networking/network-policies: isolation, default policyTypes, peer selectors, ipBlock
except, endPort)."""

from tests.netpol_eval import Cluster, External, Pod, Probe


def pol(ns, spec, api="networking.k8s.io/v1"):
    return {"apiVersion": api, "kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": ns}, "spec": spec}


A = Pod("a", {"app": "db"}, "10.0.0.1")
B = Pod("a", {"app": "web"}, "10.0.0.2")
C = Pod("b", {"app": "web"}, "10.0.1.2")


def test_no_policy_allows_everything_and_a_selecting_policy_isolates_its_types():
    assert Cluster([]).allowed(Probe(B, A, "TCP", 5432))
    deny_in = Cluster([pol("a", {"podSelector": {"matchLabels": {"app": "db"}}})])  # policyTypes default: Ingress
    assert not deny_in.allowed(Probe(B, A, "TCP", 5432))
    assert deny_in.allowed(Probe(A, B, "TCP", 80)), "egress of A is not isolated"


def test_pod_selector_alone_means_the_policy_namespace_and_with_namespace_selector_those_namespaces():
    only_same = Cluster([pol("a", {"podSelector": {"matchLabels": {"app": "db"}},
                                   "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]})])
    assert only_same.allowed(Probe(B, A, "TCP", 1)) and not only_same.allowed(Probe(C, A, "TCP", 1))
    any_ns = Cluster([pol("a", {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"from": [
        {"podSelector": {"matchLabels": {"app": "web"}}, "namespaceSelector": {}}]}]})])
    assert any_ns.allowed(Probe(C, A, "TCP", 1))


def test_ip_block_except_and_port_ranges():
    c = Cluster([pol("a", {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "192.0.2.0/24",
                                                                                 "except": ["192.0.2.128/25"]}}],
                                                            "ports": [{"port": 8000, "endPort": 8010}]}]})])
    assert c.allowed(Probe(External("192.0.2.5"), A, "TCP", 8005))
    assert not c.allowed(Probe(External("192.0.2.200"), A, "TCP", 8005))
    assert not c.allowed(Probe(External("192.0.2.5"), A, "TCP", 8011))
    assert not c.allowed(Probe(External("192.0.2.5"), A, "UDP", 8005)), "protocol defaults to TCP"


def test_egress_needs_the_source_side_and_ingress_the_destination_side():
    c = Cluster([pol("a", {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"], "egress": []})])
    assert not c.allowed(Probe(B, A, "TCP", 1)) and c.allowed(Probe(A, B, "TCP", 1))

"""Security-group scenarios: the generated policies, evaluated by tests/netpol_eval.py (Kubernetes NetworkPolicy and
the Calico subset, from their documented semantics), let through exactly the probes (pod, namespace, address, port,
protocol) that Neutron's security groups let through.

Neutron semantics used as the expectation (networking-guide "Security groups", the API reference of security group
rules): ingress is dropped unless a rule of a group on the port allows it, egress likewise; rules are unioned across
the port's groups; a rule with no protocol matches every protocol, with no port range every port; an ICMP rule's
port_range_min/max are the type/code; remote_group_id matches the addresses of ports in that group, of the rule's
ethertype only; a port with port security on and no group drops everything; a port with port security off is not
filtered.
"""

from kubectl_vmmove.openstack.convert import Options
from tests.netpol_eval import External, Probe, cluster_of, pods_of
from tests.test_openstack_convert_netpol import default_group, rule, run, run_multi, server, two_nic_server


def net_of(result, ips):
    return cluster_of(result.objects), pods_of(result.objects, ips)


INTERNET = External("198.51.100.20")


def test_default_group_remote_group_self_rules():
    r = run([server("a", 1, ["sg-default"]), server("b", 2, ["sg-default"]), server("c", 3, ["sg-other"])],
            [default_group(), {"id": "sg-other", "name": "other", "security_group_rules": [rule("o1", "egress")]}])
    net, p = net_of(r, {"a": "10.244.0.1", "b": "10.244.0.2", "c": "10.244.0.3"})
    assert net.allowed(Probe(p["a"], p["b"], "TCP", 5432)) and net.allowed(Probe(p["b"], p["a"], "UDP", 53))
    assert net.allowed(Probe(p["a"], p["b"], "ICMP", icmp_type=8, icmp_code=0)), "protocol any among members"
    assert not net.allowed(Probe(p["c"], p["a"], "TCP", 22)), "not a member"
    assert not net.allowed(Probe(INTERNET, p["a"], "TCP", 22))
    assert net.allowed(Probe(p["a"], INTERNET, "TCP", 443)) and net.allowed(Probe(p["a"], External("2001:db8::1"),
                                                                                  "TCP", 443))


def test_egress_only_to_a_prefix():
    g = {"id": "sg-out", "name": "out", "security_group_rules": [
        rule("e1", "egress", protocol="tcp", lo=443, hi=443, prefix="192.0.2.0/24")]}
    r = run([server("a", 1, ["sg-out"])], [g])
    net, p = net_of(r, {"a": "10.244.0.1"})
    assert net.allowed(Probe(p["a"], External("192.0.2.10"), "TCP", 443))
    assert not net.allowed(Probe(p["a"], External("192.0.2.10"), "TCP", 80))
    assert not net.allowed(Probe(p["a"], External("198.51.100.1"), "TCP", 443))
    assert not net.allowed(Probe(External("192.0.2.10"), p["a"], "TCP", 443)), "no ingress rule: nothing in"


def test_ipv6_only_rules():
    g = {"id": "sg-v6", "name": "v6", "security_group_rules": [
        rule("s1", ethertype="IPv6", protocol="tcp", lo=22, hi=22, prefix="2001:db8::/32"),
        rule("h1", ethertype="IPv6", protocol="tcp", lo=443, hi=443)]}
    r = run([server("a", 1, ["sg-v6"])], [g])
    net, p = net_of(r, {"a": "10.244.0.1"})
    assert net.allowed(Probe(External("2001:db8::5"), p["a"], "TCP", 22))
    assert not net.allowed(Probe(External("2001:db9::5"), p["a"], "TCP", 22))
    assert not net.allowed(Probe(External("192.0.2.5"), p["a"], "TCP", 22))
    assert net.allowed(Probe(External("2a00::1"), p["a"], "TCP", 443))
    assert not net.allowed(Probe(External("192.0.2.5"), p["a"], "TCP", 443)), "any IPv6 is not any IPv4"


def test_port_ranges():
    g = {"id": "sg-r", "name": "r", "security_group_rules": [rule("r1", protocol="tcp", lo=8000, hi=8100)]}
    net, p = net_of(run([server("a", 1, ["sg-r"])], [g]), {"a": "10.244.0.1"})
    for port, ok in ((7999, False), (8000, True), (8050, True), (8100, True), (8101, False)):
        assert net.allowed(Probe(INTERNET, p["a"], "TCP", port)) is ok, port
    assert not net.allowed(Probe(INTERNET, p["a"], "UDP", 8050))


def test_protocol_any_from_a_prefix():
    g = {"id": "sg-any", "name": "any", "security_group_rules": [rule("a1", prefix="203.0.113.0/24")]}
    net, p = net_of(run([server("a", 1, ["sg-any"])], [g]), {"a": "10.244.0.1"})
    inside = External("203.0.113.9")
    assert net.allowed(Probe(inside, p["a"], "TCP", 1)) and net.allowed(Probe(inside, p["a"], "UDP", 53))
    assert net.allowed(Probe(inside, p["a"], "ICMP", icmp_type=8, icmp_code=0))
    assert not net.allowed(Probe(INTERNET, p["a"], "TCP", 1))


def test_icmp_with_and_without_calico():
    g = {"id": "sg-i", "name": "i", "security_group_rules": [rule("i1", protocol="icmp", lo=8, hi=0)]}
    echo = dict(protocol="ICMP", icmp_type=8, icmp_code=0)
    net, p = net_of(run([server("a", 1, ["sg-i"])], [g]), {"a": "10.244.0.1"})
    assert not net.allowed(Probe(INTERNET, p["a"], **echo)), "core policy cannot say ICMP: it stays closed"
    net, p = net_of(run([server("a", 1, ["sg-i"])], [g], Options(calico=True)), {"a": "10.244.0.1"})
    assert net.allowed(Probe(INTERNET, p["a"], **echo))
    assert not net.allowed(Probe(INTERNET, p["a"], "ICMP", icmp_type=13, icmp_code=0)), "only echo request"
    assert not net.allowed(Probe(INTERNET, p["a"], "TCP", 22))


def test_remote_group_in_another_project():
    db = {"id": "sg-db", "name": "db", "project_id": "p2", "security_group_rules": [
        rule("d1", protocol="tcp", lo=5432, hi=5432, group="sg-web"),
        rule("d2", ethertype="IPv6", protocol="tcp", lo=5432, hi=5432, group="sg-web")]}
    web = {"id": "sg-web", "name": "web", "project_id": "p1", "security_group_rules": [rule("w1", "egress"),
                                                                                        rule("w2", "egress", "IPv6")]}
    other = {"id": "sg-o", "name": "o", "project_id": "p2", "security_group_rules": [rule("o1", "egress")]}
    r = run([server("web", 1, ["sg-web"], "p1"), server("db", 2, ["sg-db"], "p2"), server("batch", 3, ["sg-o"], "p2")],
            [db, web, other])
    net, p = net_of(r, {"web": "10.244.0.1", "db": "10.244.0.2", "batch": "10.244.0.3"})
    assert p["web"].namespace != p["db"].namespace
    assert net.allowed(Probe(p["web"], p["db"], "TCP", 5432))
    assert not net.allowed(Probe(p["web"], p["db"], "TCP", 22))
    assert not net.allowed(Probe(p["batch"], p["db"], "TCP", 5432)), "same namespace, not in the remote group"


def test_two_groups_on_one_server_are_unioned():
    web = {"id": "sg-web", "name": "web", "security_group_rules": [rule("w1", protocol="tcp", lo=80, hi=80)]}
    ssh = {"id": "sg-ssh", "name": "ssh", "security_group_rules": [rule("s1", protocol="tcp", lo=22, hi=22,
                                                                         prefix="192.0.2.0/24")]}
    net, p = net_of(run([server("a", 1, ["sg-web", "sg-ssh"])], [web, ssh]), {"a": "10.244.0.1"})
    assert net.allowed(Probe(INTERNET, p["a"], "TCP", 80))
    assert net.allowed(Probe(External("192.0.2.4"), p["a"], "TCP", 22))
    assert not net.allowed(Probe(INTERNET, p["a"], "TCP", 22))
    assert not net.allowed(Probe(p["a"], INTERNET, "TCP", 443)), "neither group allows egress"


def test_no_groups_with_port_security_on_drops_everything():
    net, p = net_of(run([server("a", 1, []), server("b", 2, ["sg-default"])], [default_group()]),
                    {"a": "10.244.0.1", "b": "10.244.0.2"})
    assert not net.allowed(Probe(p["b"], p["a"], "TCP", 22))
    assert not net.allowed(Probe(p["a"], p["b"], "TCP", 22))
    assert not net.allowed(Probe(p["a"], INTERNET, "UDP", 53))


def test_port_security_off_on_one_nic():
    web = {"id": "sg-web", "name": "web", "security_group_rules": [rule("w1", protocol="tcp", lo=80, hi=80)]}
    # off on the Multus NIC: the pod NIC keeps its group
    r = run_multi([two_nic_server("a", 1, ["sg-web"], [], multus_security=False)], [web])
    net, p = net_of(r, {"a": "10.244.0.1"})
    assert net.allowed(Probe(INTERNET, p["a"], "TCP", 80)) and not net.allowed(Probe(INTERNET, p["a"], "TCP", 22))
    # off on the pod NIC: the pod network is open whatever the other NIC has
    r = run_multi([two_nic_server("a", 1, [], ["sg-web"], pod_security=False)], [web])
    net, p = net_of(r, {"a": "10.244.0.1"})
    assert net.allowed(Probe(INTERNET, p["a"], "TCP", 22))


def test_groups_on_a_multus_nic():
    store = {"id": "sg-store", "name": "store", "security_group_rules": [rule("s1", protocol="tcp", lo=3260, hi=3260)]}
    web = {"id": "sg-web", "name": "web", "security_group_rules": [rule("w1", protocol="tcp", lo=80, hi=80),
                                                                    rule("w2", "egress")]}
    r = run_multi([two_nic_server("a", 1, ["sg-web"], ["sg-store"])], [web, store])
    net, p = net_of(r, {"a": "10.244.0.1"})
    assert net.allowed(Probe(INTERNET, p["a"], "TCP", 80))
    assert not net.allowed(Probe(INTERNET, p["a"], "TCP", 3260))
    assert net.allowed(Probe(p["a"], INTERNET, "TCP", 443)), "the storage group's missing egress does not apply"

"""Security groups -> NetworkPolicy with OpenStack's semantics; floating IPs -> LoadBalancer Services."""

from kubectl_vmmove.openstack.convert import Options, convert
from kubectl_vmmove.openstack.read.inputs import RawInput, read_data
from kubectl_vmmove.openstack.read.normalise import normalise
from kubectl_vmmove.openstack.report import iter_entries
from tests.netpol_eval import External, Probe, cluster_of, pods_of

NET = "net-1"


def rule(rid, direction="ingress", ethertype="IPv4", protocol=None, lo=None, hi=None, prefix=None, group=None, ag=None):
    return {"id": rid, "direction": direction, "ethertype": ethertype, "protocol": protocol, "port_range_min": lo,
            "port_range_max": hi, "remote_ip_prefix": prefix, "remote_group_id": group, "remote_address_group_id": ag}


def default_group(gid="sg-default", project="p1"):
    return {"id": gid, "name": "default", "project_id": project, "security_group_rules": [
        rule(gid + "-e4", "egress"), rule(gid + "-e6", "egress", "IPv6"),
        rule(gid + "-i4", group=gid), rule(gid + "-i6", ethertype="IPv6", group=gid)]}


def server(name, n, groups, project="p1", port_security=True):
    sid = f"00000000-0000-0000-0000-00000000000{n}"
    mac = f"fa:16:3e:00:00:0{n}"
    srv = {"id": sid, "name": name, "status": "ACTIVE", "tenant_id": project, "image": "",
           "flavor": {"original_name": "f", "vcpus": 1, "ram": 512, "disk": 1, "extra_specs": {}},
           "addresses": {"private": [{"addr": f"10.0.0.{n}", "OS-EXT-IPS-MAC:mac_addr": mac}]}}
    port = {"id": f"port-{n}", "network_id": NET, "mac_address": mac, "device_id": sid, "device_owner": "compute:nova",
            "fixed_ips": [{"ip_address": f"10.0.0.{n}", "subnet_id": "sub"}], "security_groups": groups,
            "port_security_enabled": port_security, "project_id": project}
    return srv, port


def run(servers_ports, groups, options=None, **resources):
    servers = [s for s, _ in servers_ports]
    ports = [p for _, p in servers_ports]
    doc = {"apiVersion": "vmmove.io/v1alpha1", "kind": "OpenStackExport", "resources": {
        "servers": servers, "ports": ports, "security_groups": groups,
        "networks": [{"id": NET, "name": "private"}],
        "projects": [{"id": "p1", "name": "a", "domain_id": "d"}, {"id": "p2", "name": "b", "domain_id": "d"}],
        "domains": [{"id": "d", "name": "dom"}], **resources}}
    out = RawInput()
    read_data(doc, "t.yaml", out)
    opts = options or Options()
    opts.network_map = {"private": ("pod", None)}
    return convert(normalise(out), opts)


def policies(result, api="networking.k8s.io/v1"):
    return {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in result.objects
            if o["kind"] == "NetworkPolicy" and o["apiVersion"] == api}


def rule_status(result):
    return {i: (s, r) for k, i, f, s, _, r in iter_entries(result.report) if k == "SecurityGroupRule" and f == "rule"}


def test_default_group_allows_all_egress_and_ingress_from_its_members_only():
    r = run([server("a", 1, ["sg-default"])], [default_group()])
    (pol,) = policies(r).values()
    spec = pol["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["podSelector"] == {"matchLabels": {"vmmove.io/sg-default": "true"}}
    assert spec["egress"] == [{}], "IPv4 and IPv6 allow-all egress is one rule without peers"
    assert spec["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"vmmove.io/sg-default": "true"}},
                                          "namespaceSelector": {"matchExpressions": [{
                                              "key": "kubernetes.io/metadata.name", "operator": "In",
                                              "values": ["dom-a"]}]}}]}]
    vm = next(o for o in r.objects if o["kind"] == "VirtualMachine")
    assert vm["spec"]["template"]["metadata"]["labels"]["vmmove.io/sg-default"] == "true"


def test_group_without_egress_rules_denies_egress():
    web = {"id": "sg-web", "name": "web", "security_group_rules": [rule("w1", protocol="tcp", lo=80, hi=80)]}
    r = run([server("a", 1, ["sg-web"])], [web])
    spec = policies(r)[("dom-a", "sg-web")]["spec"]
    assert spec["egress"] == [] and spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 80}]}]
    assert rule_status(r)["w1"][0] == "approximated", "IPv4-only 'any' is an ipBlock, which is reported"


def test_port_range_uses_end_port_and_prefix_becomes_ip_block():
    g = {"id": "sg-x", "name": "x", "security_group_rules": [
        rule("x1", protocol="udp", lo=5000, hi=5100, prefix="192.0.2.0/24"),
        rule("x2", ethertype="IPv6", protocol="tcp", lo=22, hi=22, prefix="2001:db8::/32")]}
    spec = policies(run([server("a", 1, ["sg-x"])], [g]))[("dom-a", "sg-x")]["spec"]
    assert spec["ingress"] == [
        {"from": [{"ipBlock": {"cidr": "192.0.2.0/24"}}], "ports": [{"protocol": "UDP", "port": 5000, "endPort": 5100}]},
        {"from": [{"ipBlock": {"cidr": "2001:db8::/32"}}], "ports": [{"protocol": "TCP", "port": 22}]}]


def test_remote_group_across_projects_selects_the_members_namespaces():
    db = {"id": "sg-db", "name": "db", "project_id": "p2", "security_group_rules": [
        rule("d1", protocol="tcp", lo=5432, hi=5432, group="sg-web"),
        rule("d2", ethertype="IPv6", protocol="tcp", lo=5432, hi=5432, group="sg-web")]}
    web = {"id": "sg-web", "name": "web", "project_id": "p1", "security_group_rules": []}
    r = run([server("web", 1, ["sg-web"], "p1"), server("db", 2, ["sg-db"], "p2")], [db, web])
    spec = policies(r)[("dom-b", "sg-db")]["spec"]
    assert spec["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"vmmove.io/sg-web": "true"}},
                                          "namespaceSelector": {"matchExpressions": [{
                                              "key": "kubernetes.io/metadata.name", "operator": "In",
                                              "values": ["dom-a"]}]}}],
                                "ports": [{"protocol": "TCP", "port": 5432}]}]
    assert rule_status(r)["d1"][0] == "mapped"


def test_address_group_becomes_ip_blocks_of_the_rule_family():
    g = {"id": "sg-x", "name": "x", "security_group_rules": [rule("x1", protocol="tcp", lo=443, hi=443, ag="ag1")]}
    ag = {"id": "ag1", "name": "campus", "addresses": ["10.0.1.34/32", "192.168.100.0/24", "2001:db8::/48"]}
    spec = policies(run([server("a", 1, ["sg-x"])], [g], address_groups=[ag]))[("dom-a", "sg-x")]["spec"]
    assert spec["ingress"][0]["from"] == [{"ipBlock": {"cidr": "10.0.1.34/32"}}, {"ipBlock": {"cidr": "192.168.100.0/24"}}]


def test_unknown_address_group_is_reported_not_opened_up():
    g = {"id": "sg-x", "name": "x", "security_group_rules": [rule("x1", protocol="tcp", lo=443, hi=443, ag="nope")]}
    r = run([server("a", 1, ["sg-x"])], [g])
    assert policies(r)[("dom-a", "sg-x")]["spec"]["ingress"] == []
    assert rule_status(r)["x1"][0] == "dropped"


def test_icmp_is_dropped_without_calico_and_a_calico_policy_with_it():
    g = {"id": "sg-x", "name": "x", "security_group_rules": [
        rule("x1", protocol="icmp", lo=8, hi=0, prefix="0.0.0.0/0"), rule("x2", ethertype="IPv6", protocol="ipv6-icmp")]}
    r = run([server("a", 1, ["sg-x"])], [g])
    assert not policies(r, "projectcalico.org/v3")
    assert rule_status(r)["x1"][0] == "dropped" and "--calico" in rule_status(r)["x1"][1]
    r = run([server("a", 1, ["sg-x"])], [g], Options(calico=True))
    (cal,) = policies(r, "projectcalico.org/v3").values()
    assert cal["metadata"]["name"] == "sg-x-calico"
    assert cal["spec"]["selector"] == "vmmove.io/sg-x == 'true'" and cal["spec"]["types"] == ["Ingress"]
    assert cal["spec"]["ingress"] == [
        {"action": "Allow", "protocol": "ICMP", "ipVersion": 4, "icmp": {"type": 8, "code": 0},
         "source": {"nets": ["0.0.0.0/0"]}},
        {"action": "Allow", "protocol": "ICMPv6", "ipVersion": 6}]


def test_vm_without_groups_or_port_security_is_selected_by_no_policy():
    r = run([server("open", 1, [], port_security=False), server("b", 2, ["sg-default"])], [default_group()])
    vm = next(o for o in r.objects if o["kind"] == "VirtualMachine" and o["metadata"]["name"] == "open")
    assert not any(k.startswith("vmmove.io/sg-") for k in vm["spec"]["template"]["metadata"]["labels"])
    reason = [r_ for k, i, f, s, _, r_ in iter_entries(r.report)
              if k == "Server" and i.endswith("01") and f == "security_groups"]
    assert len(reason) == 1 and "all traffic is allowed" in reason[0]


def test_one_policy_per_group_and_namespace():
    r = run([server("a", 1, ["sg-default"], "p1"), server("b", 2, ["sg-default"], "p2")], [default_group()])
    assert sorted(policies(r)) == [("dom-a", "sg-default"), ("dom-b", "sg-default")]


def test_floating_ip_becomes_a_load_balancer_with_ports_from_the_groups():
    web = {"id": "sg-web", "name": "web", "security_group_rules": [
        rule("w1", protocol="tcp", lo=80, hi=80), rule("w2", protocol="tcp", lo=8000, hi=8002),
        rule("w3", protocol="tcp", lo=10000, hi=20000), rule("w4", protocol="tcp", lo=22, hi=22, group="sg-web")]}
    fip = {"id": "f1", "floating_ip_address": "203.0.113.5", "port_id": "port-1", "fixed_ip_address": "10.0.0.1"}
    r = run([server("web", 1, ["sg-web"])], [web], Options(lb_ip_annotation="metallb.universe.tf/loadBalancerIPs"),
            floating_ips=[fip])
    (svc,) = [o for o in r.objects if o["kind"] == "Service"]
    assert svc["metadata"]["name"] == "fip-203-0-113-5"
    assert svc["metadata"]["annotations"]["metallb.universe.tf/loadBalancerIPs"] == "203.0.113.5"
    assert svc["spec"]["type"] == "LoadBalancer" and svc["spec"]["selector"] == {"vmmove.io/vm": "web"}
    assert [p["port"] for p in svc["spec"]["ports"]] == [80, 8000, 8001, 8002], "22 is only open to group members"
    (status, reason), = [(s, r_) for k, _, f, s, _, r_ in iter_entries(r.report) if k == "FloatingIP"
                         and f == "floating_ip_address"]
    assert status == "approximated" and "10000-20000" in reason


def test_port_forwardings_map_external_to_internal_ports():
    fip = {"id": "f1", "floating_ip_address": "203.0.113.6", "port_forwardings": [
        {"protocol": "tcp", "internal_port_id": "port-1", "internal_ip_address": "10.0.0.1", "internal_port": 25,
         "external_port": 2225}]}
    r = run([server("mail", 1, [])], [], floating_ips=[fip])
    (svc,) = [o for o in r.objects if o["kind"] == "Service"]
    assert svc["spec"]["ports"] == [{"name": "tcp-2225", "port": 2225, "protocol": "TCP", "targetPort": 25}]
    # spec.loadBalancerIP is deprecated (Kubernetes 1.24): the address goes into an annotation by default
    assert "loadBalancerIP" not in svc["spec"]
    assert svc["metadata"]["annotations"]["metallb.universe.tf/loadBalancerIPs"] == "203.0.113.6"
    r = run([server("mail", 1, [])], [], Options(lb_ip_annotation="spec.loadBalancerIP"), floating_ips=[fip])
    (svc,) = [o for o in r.objects if o["kind"] == "Service"]
    assert svc["spec"]["loadBalancerIP"] == "203.0.113.6"


def test_unassociated_floating_ip_is_reported():
    fip = {"id": "f1", "floating_ip_address": "203.0.113.7"}
    r = run([server("a", 1, [])], [], floating_ips=[fip])
    assert not [o for o in r.objects if o["kind"] == "Service"]
    assert [s for k, _, f, s, _, _ in iter_entries(r.report) if k == "FloatingIP" and f == "floating_ip_address"] == \
        ["dropped"]


# ------------------------------------------------------------------------------ port security as Neutron enforces it
# Neutron: a port with port_security_enabled and no security groups drops all traffic (the firewall driver installs
# its default drop and no allow); a port with port security off is not filtered at all (Neutron refuses to disable
# it while groups are attached). NetworkPolicy filters the pod network only, so groups on a Multus NIC say nothing
# about the pod NIC.

STORAGE = "net-storage"


def two_nic_server(name, n, pod_groups, multus_groups, pod_security=True, multus_security=True, project="p1"):
    srv, port = server(name, n, pod_groups, project, pod_security)
    mac2 = f"fa:16:3e:00:01:0{n}"
    srv["addresses"]["storage"] = [{"addr": f"192.168.50.{n}", "OS-EXT-IPS-MAC:mac_addr": mac2}]
    port2 = {"id": f"port-s{n}", "network_id": STORAGE, "mac_address": mac2, "device_id": srv["id"],
             "device_owner": "compute:nova", "fixed_ips": [{"ip_address": f"192.168.50.{n}"}],
             "security_groups": multus_groups, "port_security_enabled": multus_security, "project_id": project}
    return srv, port, port2


def run_multi(entries, groups, options=None, **resources):
    servers, ports = [], []
    for srv, *p in entries:
        servers.append(srv)
        ports.extend(p)
    doc = {"apiVersion": "vmmove.io/v1alpha1", "kind": "OpenStackExport", "resources": {
        "servers": servers, "ports": ports, "security_groups": groups,
        "networks": [{"id": NET, "name": "private"}, {"id": STORAGE, "name": "storage"}],
        "projects": [{"id": "p1", "name": "a", "domain_id": "d"}, {"id": "p2", "name": "b", "domain_id": "d"}],
        "domains": [{"id": "d", "name": "dom"}], **resources}}
    out = RawInput()
    read_data(doc, "t.yaml", out)
    opts = options or Options()
    opts.network_map = {"private": ("pod", None), "storage": ("multus", "infra/storage")}
    return convert(normalise(out), opts)


def server_notes(result, field="security_groups"):
    return [(s, r_) for k, i, f, s, _, r_ in iter_entries(result.report) if k == "Server" and f == field]


WEB = {"id": "sg-web", "name": "web", "security_group_rules": [rule("w1", protocol="tcp", lo=80, hi=80),
                                                                rule("w2", "egress")]}
STORE = {"id": "sg-store", "name": "store", "security_group_rules": [rule("s1", protocol="tcp", lo=3260, hi=3260)]}


def test_port_security_on_without_groups_denies_all_traffic_of_the_vm():
    r = run([server("sealed", 1, []), server("client", 2, ["sg-default"])], [default_group()])
    pods = pods_of(r.objects, {"sealed": "10.244.0.1", "client": "10.244.0.2"})
    net = cluster_of(r.objects)
    outside = External("198.51.100.7")
    for proto, port in (("TCP", 22), ("UDP", 53), ("TCP", 443)):
        assert not net.allowed(Probe(outside, pods["sealed"], proto, port))
        assert not net.allowed(Probe(pods["client"], pods["sealed"], proto, port))
        assert not net.allowed(Probe(pods["sealed"], outside, proto, port))
    assert not net.allowed(Probe(pods["sealed"], outside, "ICMP"))
    notes = [x for x in server_notes(r) if "deny" in x[1]]
    assert notes and "as in OpenStack" not in notes[0][1] and "port security" in notes[0][1]


def test_port_security_off_on_the_pod_nic_leaves_the_vm_open():
    r = run([server("open", 1, [], port_security=False)], [])
    pods = pods_of(r.objects, {"open": "10.244.0.1"})
    net = cluster_of(r.objects)
    assert net.allowed(Probe(External("198.51.100.7"), pods["open"], "TCP", 22))
    assert net.allowed(Probe(pods["open"], External("198.51.100.7"), "UDP", 53))


def test_groups_on_a_multus_nic_never_filter_the_pod_network():
    r = run_multi([two_nic_server("vm", 1, [], ["sg-store"], pod_security=False)], [STORE])
    vm = next(o for o in r.objects if o["kind"] == "VirtualMachine")
    assert "vmmove.io/sg-store" not in vm["spec"]["template"]["metadata"]["labels"]
    pods = pods_of(r.objects, {"vm": "10.244.0.1"})
    net = cluster_of(r.objects)
    assert net.allowed(Probe(External("198.51.100.7"), pods["vm"], "TCP", 22)), "the pod NIC is open in OpenStack"
    assert net.allowed(Probe(pods["vm"], External("198.51.100.7"), "TCP", 443))
    notes = [rsn for s, rsn in server_notes(r) if s == "approximated"]
    assert notes and "storage" in notes[0] and "store" in notes[0] and "Multus" in notes[0]


def test_pod_nic_groups_filter_the_pod_network_and_multus_groups_do_not_add_to_them():
    r = run_multi([two_nic_server("vm", 1, ["sg-web"], ["sg-store"])], [WEB, STORE])
    vm = next(o for o in r.objects if o["kind"] == "VirtualMachine")
    labels = vm["spec"]["template"]["metadata"]["labels"]
    assert labels.get("vmmove.io/sg-web") == "true" and "vmmove.io/sg-store" not in labels
    pods = pods_of(r.objects, {"vm": "10.244.0.1"})
    net = cluster_of(r.objects)
    assert net.allowed(Probe(External("198.51.100.7"), pods["vm"], "TCP", 80))
    assert not net.allowed(Probe(External("198.51.100.7"), pods["vm"], "TCP", 3260)), "iSCSI is open on storage only"


def test_multus_nic_with_port_security_and_no_groups_is_reported_not_applied_to_the_pod_nic():
    r = run_multi([two_nic_server("vm", 1, ["sg-web"], [], multus_security=True)], [WEB])
    pods = pods_of(r.objects, {"vm": "10.244.0.1"})
    net = cluster_of(r.objects)
    assert net.allowed(Probe(External("198.51.100.7"), pods["vm"], "TCP", 80))
    notes = [rsn for s, rsn in server_notes(r) if s == "approximated"]
    assert notes and "storage" in notes[0] and "drops all" in notes[0]


def test_mixed_tcp_and_udp_service_is_reported_as_needing_mixed_protocol_load_balancers():
    dns = {"id": "sg-dns", "name": "dns", "security_group_rules": [rule("t", protocol="tcp", lo=53, hi=53),
                                                                    rule("u", protocol="udp", lo=53, hi=53)]}
    fip = {"id": "f1", "floating_ip_address": "203.0.113.8", "port_id": "port-1", "fixed_ip_address": "10.0.0.1"}
    r = run([server("dns", 1, ["sg-dns"])], [dns], floating_ips=[fip])
    (svc,) = [o for o in r.objects if o["kind"] == "Service"]
    assert sorted(p["protocol"] for p in svc["spec"]["ports"]) == ["TCP", "UDP"]
    (status, reason), = [(s, r_) for k, _, f, s, _, r_ in iter_entries(r.report) if k == "FloatingIP"
                         and f == "floating_ip_address"]
    assert status == "approximated" and "MixedProtocolLBService" in reason


def test_icmp_rule_summary_names_type_and_code():
    g = {"id": "sg-x", "name": "x", "security_group_rules": [rule("x1", protocol="icmp", lo=8, hi=0),
                                                              rule("x2", protocol="icmp", lo=3)]}
    r = run([server("a", 1, ["sg-x"])], [g], Options(calico=True))
    assert "icmp type 8 code 0" in rule_status(r)["x1"][1]
    assert "icmp type 3 " in rule_status(r)["x2"][1] and "code" not in rule_status(r)["x2"][1].split("from/to")[0]


# ------------------------------------------------------------------------------ addresses that change meaning


SUBNETS = [{"id": "sub", "network_id": NET, "cidr": "10.0.0.0/24", "ip_version": 4}]


def test_prefix_covering_a_pod_mapped_tenant_subnet_is_reported_with_the_selector_that_expresses_it():
    admin = {"id": "sg-admin", "name": "admin", "security_group_rules": [
        rule("a1", protocol="tcp", lo=22, hi=22, prefix="10.0.0.0/24")]}
    r = run([server("bastion", 1, ["sg-default"]), server("app", 2, ["sg-admin"])], [admin, default_group()],
            subnets=SUBNETS)
    status, reason = rule_status(r)["a1"]
    assert status == "approximated" and "pod network" in reason and "--translate-tenant-cidrs" in reason
    assert "bastion" in reason
    pods = pods_of(r.objects, {"bastion": "10.244.1.7", "app": "10.244.2.9"})
    assert not cluster_of(r.objects).allowed(Probe(pods["bastion"], pods["app"], "TCP", 22)), \
        "without the flag the ipBlock stays: pod addresses are outside it"


def test_translate_tenant_cidrs_selects_the_vms_that_had_those_addresses():
    admin = {"id": "sg-admin", "name": "admin", "security_group_rules": [
        rule("a1", protocol="tcp", lo=22, hi=22, prefix="10.0.0.0/25")]}
    r = run([server("bastion", 1, ["sg-default"]), server("app", 2, ["sg-admin"])], [admin, default_group()],
            Options(translate_tenant_cidrs=True), subnets=SUBNETS)
    pods = pods_of(r.objects, {"bastion": "10.244.1.7", "app": "10.244.2.9"})
    net = cluster_of(r.objects)
    assert net.allowed(Probe(pods["bastion"], pods["app"], "TCP", 22))
    assert not net.allowed(Probe(pods["bastion"], pods["app"], "TCP", 23))
    assert net.allowed(Probe(External("10.0.0.77"), pods["app"], "TCP", 22)), "the prefix itself is kept"
    assert rule_status(r)["a1"][0] == "approximated"


def test_prefix_outside_tenant_subnets_is_not_touched():
    g = {"id": "sg-x", "name": "x", "security_group_rules": [rule("x1", protocol="tcp", lo=22, hi=22,
                                                                   prefix="192.0.2.0/24")]}
    r = run([server("a", 1, ["sg-x"])], [g], Options(translate_tenant_cidrs=True), subnets=SUBNETS)
    assert rule_status(r)["x1"][0] == "mapped"


def ipv4_only_db():
    return {"id": "sg-db", "name": "db", "security_group_rules": [
        rule("d1", protocol="tcp", lo=5432, hi=5432, group="sg-web")]}


def test_single_family_remote_group_rule_becomes_a_family_restricted_calico_rule():
    web = {"id": "sg-web", "name": "web", "security_group_rules": [rule("w-e", "egress"), rule("w-e6", "egress",
                                                                                                 "IPv6")]}
    r = run([server("web", 1, ["sg-web"]), server("db", 2, ["sg-db"])], [ipv4_only_db(), web], Options(calico=True))
    core = policies(r)[("dom-a", "sg-db")]["spec"]
    assert core["ingress"] == [], "the family-restricted rule is not widened to both families in core policy"
    (cal,) = [p for p in policies(r, "projectcalico.org/v3").values()]
    (crule,) = cal["spec"]["ingress"]
    assert crule["ipVersion"] == 4 and crule["protocol"] == "TCP" and crule["destination"] == {"ports": [5432]}
    pods = pods_of(r.objects, {"web": "10.244.0.5", "db": "10.244.0.6"})
    net = cluster_of(r.objects)
    assert net.allowed(Probe(pods["web"], pods["db"], "TCP", 5432))
    pods["web"].ip = "fd00::5"
    assert not net.allowed(Probe(pods["web"], pods["db"], "TCP", 5432)), "IPv6 from a member stays closed"
    assert rule_status(r)["d1"][0] == "mapped"


def test_single_family_remote_group_rule_without_calico_is_approximated_and_says_so():
    web = {"id": "sg-web", "name": "web", "security_group_rules": []}
    r = run([server("web", 1, ["sg-web"]), server("db", 2, ["sg-db"])], [ipv4_only_db(), web])
    status, reason = rule_status(r)["d1"]
    assert status == "approximated" and "--calico" in reason

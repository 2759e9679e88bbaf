"""The NetworkPolicy semantics the plan relies on (Kubernetes NetworkPolicy API reference): policyTypes defaults,
isolation and the union of rules, and what makes a policy the namespace's rather than a VM's."""

from kubectl_vmmove.move.planning import policies


def _np(name, selector, **spec):
    return {"metadata": {"name": name}, "spec": dict(podSelector=selector, **spec)}


WEB = {"app": "web", "kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": "web"}
HTTP = {"ports": [{"protocol": "TCP", "port": 80}]}
SSH = {"ports": [{"protocol": "TCP", "port": 22}]}


def test_policy_types_default_to_ingress_plus_egress_when_egress_rules_are_given():
    assert policies.policy_types(_np("a", {})) == ["Ingress"]
    assert policies.policy_types(_np("a", {}, egress=[HTTP])) == ["Ingress", "Egress"]
    assert policies.policy_types(_np("a", {}, policyTypes=["Egress"])) == ["Egress"]


def test_same_traffic_is_the_same_isolation_and_the_same_union_of_rules():
    src = [_np("deny", {}, ingress=[]), _np("web", {"matchLabels": {"app": "web"}}, ingress=[HTTP, SSH])]
    # The same rules split differently over policies of other names admit the same traffic.
    dst = [_np("http", {"matchLabels": {"app": "web"}}, ingress=[HTTP]),
           _np("ssh", {"matchLabels": {"app": "web"}}, ingress=[SSH])]
    assert policies.view(src, dst, WEB) == {"source": ["deny", "web"], "target": ["http", "ssh"],
                                            "ingress": "same", "egress": "same"}
    # Not isolated at all in the target: every connection is admitted.
    assert policies.view(src, [], WEB)["ingress"] == "differs"
    # Isolated for egress in the target only.
    assert policies.view(src, dst + [_np("out", {}, policyTypes=["Egress"])], WEB)["egress"] == "differs"


def test_a_policy_is_copyable_only_when_it_selects_moving_vms_and_nothing_else():
    web_pod = {"metadata": {"name": "virt-launcher-web-x", "labels": WEB}}
    exporter = {"metadata": {"name": "exporter", "labels": {"app": "web"}}}
    web_only = _np("web", {"matchLabels": {"app": "web"}})
    assert policies.copyable(web_only, [], [web_pod], {"web"})
    assert not policies.copyable(web_only, [], [web_pod, exporter], {"web"})     # a pod that stays
    assert not policies.copyable(web_only, ["web2"], [web_pod], {"web"})         # a VM that stays
    assert not policies.copyable(_np("all", {}), [], [web_pod], {"web"})         # every pod, now and later
    assert policies.staying_selected(web_only, [web_pod, exporter], {"web"}) == ["exporter"]

"""NetworkPolicies are the namespace's, not a VM's: one that selects every pod (`podSelector: {}`) or pods that are
not moving is never copied with a VM (in the target it would select every pod already there) and never deleted by
cleanup. `plan` shows which source policies select each VM and whether the target's own give it the same ingress
and egress; `--copy-network-policies` copies the policies that select moving VMs only."""

import yaml

from tests.move_run_support import VM, move_id, names, run_move, seed_basic

NP = "networkpolicies.networking.k8s.io"


def _policy(name, ns, selector, ingress=None, egress=None):
    spec = {"podSelector": selector, "policyTypes": []}
    if ingress is not None:
        spec["ingress"], spec["policyTypes"] = ingress, spec["policyTypes"] + ["Ingress"]
    if egress is not None:
        spec["egress"], spec["policyTypes"] = egress, spec["policyTypes"] + ["Egress"]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


WEB_HTTP = [{"ports": [{"protocol": "TCP", "port": 80}]}]


def _pod(name, ns, labels):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"containers": [{"name": "main", "image": "registry.example/tool:1"}]}}


def _policies(kubesim, ns):
    return {p["metadata"]["name"]: (p["metadata"]["uid"], p["spec"]) for p in kubesim.list(NP, ns)}


def _move_verify_cleanup(kubesim, capsys, *flags):
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes", *flags)
    assert code == 0, err
    mid = move_id(kubesim)
    code, out, err = run_move(kubesim, capsys, "verify", mid)
    assert code == 0, out + err
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--yes")
    assert code == 0, out + err
    return out


def test_namespace_wide_policies_are_neither_copied_nor_deleted(kubesim, capsys):
    seed_basic(kubesim, running=(), extra=[
        _policy("default-deny-ingress", "src", {}, ingress=[]),
        # Selects the web VM and a pod that stays.
        _policy("app-web", "src", {"matchLabels": {"app": "web"}}, ingress=WEB_HTTP),
        _pod("web-exporter", "src", {"app": "web"}),
        _pod("frontend", "dst", {"app": "frontend"})])
    before = _policies(kubesim, "src")
    for flags in ((), ("--copy-network-policies",)):
        code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "-o", "yaml",
                                  *flags)
        doc = yaml.safe_load(out)
        copied = [s for s in doc["spec"]["prepare"] + [s for v in doc["spec"]["vms"] for s in v["steps"]]
                  if s["kind"] == "NetworkPolicy"]
        assert copied == [], (flags, copied)
    _move_verify_cleanup(kubesim, capsys, "--copy-network-policies")
    assert names(kubesim, VM, "dst") == ["db", "web"] and names(kubesim, VM, "src") == []
    assert _policies(kubesim, "dst") == {}           # the frontend pod in "dst" is not suddenly isolated
    assert _policies(kubesim, "src") == before       # the pods that stay keep their policies


def test_plan_shows_the_policies_of_each_vm_and_says_when_the_target_differs(kubesim, capsys):
    seed_basic(kubesim, running=(), extra=[
        _policy("default-deny-ingress", "src", {}, ingress=[]),
        _policy("web-http", "src", {"matchLabels": {"app": "web"}}, ingress=WEB_HTTP)])
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "-o", "yaml")
    doc = yaml.safe_load(out)
    vms = {v["name"]: v for v in doc["spec"]["vms"]}
    assert vms["web"]["networkPolicies"]["source"] == ["default-deny-ingress", "web-http"]
    assert vms["db"]["networkPolicies"]["source"] == ["default-deny-ingress"]
    assert vms["web"]["networkPolicies"]["target"] == []
    assert vms["web"]["networkPolicies"]["ingress"] == "differs"
    assert vms["web"]["networkPolicies"]["egress"] == "same"
    differ = [f for f in doc["status"]["findings"] if f["code"] == "NetworkPolicyDiffers"]
    assert sorted(v for f in differ for v in f["vms"]) == ["db", "web"]
    web = next(f for f in differ if f["vms"] == ["web"])
    assert "ingress" in web["message"] and '"default-deny-ingress"' in web["message"]
    # A second plan of the same cluster is the same document, apart from the move id and time.
    code, again, _ = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "-o", "yaml")
    again_doc = yaml.safe_load(again)
    assert [v["networkPolicies"] for v in again_doc["spec"]["vms"]] == [v["networkPolicies"]
                                                                         for v in doc["spec"]["vms"]]

    # The target's own policies give the same ingress: no finding.
    kubesim.apply([_policy("deny-all", "dst", {}, ingress=[]),
                   _policy("http", "dst", {"matchLabels": {"app": "web"}}, ingress=WEB_HTTP)])
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "-o", "yaml")
    doc = yaml.safe_load(out)
    web = next(v for v in doc["spec"]["vms"] if v["name"] == "web")
    assert web["networkPolicies"] == {"source": ["default-deny-ingress", "web-http"], "target": ["deny-all", "http"],
                                      "ingress": "same", "egress": "same"}
    assert not [f for f in doc["status"]["findings"] if f["code"] == "NetworkPolicyDiffers"]


def test_copy_network_policies_copies_those_that_select_only_moving_vms(kubesim, capsys):
    seed_basic(kubesim, running=(), extra=[
        _policy("web-http", "src", {"matchLabels": {"app": "web"}}, ingress=WEB_HTTP),
        _policy("db-egress", "src", {"matchLabels": {"app": "db"}}, egress=[])])
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "-o", "yaml")
    doc = yaml.safe_load(out)
    assert not [s for v in doc["spec"]["vms"] for s in v["steps"] if s["kind"] == "NetworkPolicy"]

    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--yes",
                            "--copy-network-policies")
    assert code == 0, err
    assert sorted(_policies(kubesim, "dst")) == ["web-http"]
    mid = move_id(kubesim)
    assert run_move(kubesim, capsys, "verify", mid)[0] == 0
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--yes")
    assert code == 0, out + err
    assert sorted(_policies(kubesim, "src")) == ["db-egress"]    # web-http selected the moved VM only


def test_cleanup_keeps_a_copied_policy_that_now_selects_a_pod_that_stays(kubesim, capsys):
    seed_basic(kubesim, running=(), extra=[
        _policy("web-http", "src", {"matchLabels": {"app": "web"}}, ingress=WEB_HTTP)])
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--yes",
                            "--copy-network-policies")
    assert code == 0, err
    kubesim.apply(_pod("web-debug", "src", {"app": "web"}))      # started after the plan was made
    mid = move_id(kubesim)
    assert run_move(kubesim, capsys, "verify", mid)[0] == 0
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--yes")
    assert code == 0, out + err
    assert "web-http" in _policies(kubesim, "src")
    assert "kept" in out and "web-debug" in out

"""Nothing unreadable is silently left out: a NetworkAttachmentDefinition, Secret or ConfigMap that a VM names and
that the user may not list is an error finding (DependencyUnreadable) for that VM, with the `kubectl auth can-i`
line to check the access. On a real cluster the namespace `admin` role carries no NetworkAttachmentDefinition
rights (Multus aggregates none) and `view` no Secret rights (Kubernetes bootstrap roles)."""

import pytest
import yaml

from tests.move_run_support import VM, names, run_move, seed_basic, snapshot

RBAC = "rbac.authorization.k8s.io"


def _grant(kubesim, user, role_by_namespace):
    kubesim.apply([{"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
                    "metadata": {"name": f"{user}-{role}", "namespace": ns},
                    "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
                    "subjects": [{"apiGroup": RBAC, "kind": "User", "name": user}]}
                   for ns, role in role_by_namespace.items()])


def _state(kubesim):
    """Every object a move touches, by uid and content (statuses move on with simulated time)."""
    return {k: (o["metadata"]["uid"], o.get("spec"), o["metadata"].get("labels")) for k, o in snapshot(kubesim).items()}


def _unreadable(doc):
    return [f for f in doc["status"]["findings"] if f["code"] == "DependencyUnreadable"]


@pytest.mark.parametrize("network_name", ["db-net", "src/db-net"])
def test_a_nad_the_user_may_not_list_blocks_its_vm_and_nothing_changes(kubesim, capsys, tmp_path, network_name):
    seed_basic(kubesim, running=())
    vm = kubesim.get(VM, "db", "src")
    for net in vm["spec"]["template"]["spec"]["networks"]:
        if net.get("multus"):
            net["multus"]["networkName"] = network_name
    kubesim.apply(vm)
    _grant(kubesim, "alice", {"src": "admin", "dst": "admin"})
    config = kubesim.write_kubeconfig(str(tmp_path / "alice"), user="alice", namespace="src")
    before = _state(kubesim)

    code, out, err = run_move(kubesim, capsys, "--kubeconfig", config, "plan", "--to", "dst", "db", "-o", "yaml")
    assert code == 1, err
    found = _unreadable(yaml.safe_load(out))
    assert [(f["severity"], f["subject"]["kind"], f["subject"]["name"], f["vms"]) for f in found] == \
        [("error", "NetworkAttachmentDefinition", "db-net", ["db"])]
    assert "kubectl auth can-i list network-attachment-definitions.k8s.cni.cncf.io -n src" in found[0]["remedy"]

    code, _, err = run_move(kubesim, capsys, "--kubeconfig", config, "run", "--to", "dst", "db", "--yes")
    assert code == 1 and "Traceback" not in err
    assert names(kubesim, VM, "dst") == []
    assert _state(kubesim) == before


def test_secrets_a_view_user_may_not_list_block_the_vms_that_name_them(kubesim, capsys, tmp_path):
    seed_basic(kubesim, running=())
    _grant(kubesim, "bob", {"src": "view", "dst": "admin"})
    config = kubesim.write_kubeconfig(str(tmp_path / "bob"), user="bob", namespace="src")

    code, out, err = run_move(kubesim, capsys, "--kubeconfig", config, "plan", "--to", "dst", "web", "-o", "yaml")
    assert code == 1
    found = {(f["subject"]["kind"], f["subject"]["name"]): f for f in _unreadable(yaml.safe_load(out))}
    assert {("Secret", "web-ci"), ("Secret", "shared-ca")} <= set(found)
    assert all(f["severity"] == "error" and f["vms"] == ["web"] for f in found.values())
    assert "kubectl auth can-i list secrets -n src" in found[("Secret", "web-ci")]["remedy"]

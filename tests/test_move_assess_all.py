"""`assess -A/--all-namespaces` against kubesim: one table per namespace, a List of assessments, requests that
depend on neither the VMs nor the namespaces, and the users who may not list cluster-wide."""

import json

from kubectl_vmmove import cli
from tests.kubesim import builders as kb


def run(sim, capsys, *args, kubeconfig=None):
    rc = cli.main(["--kubeconfig", kubeconfig or sim.kubeconfig_path, *args])
    out, err = capsys.readouterr()
    return rc, out, err


def seed(sim, vms_per_namespace):
    objs = kb.namespace("empty")
    for ns, n in zip(("alpha", "beta", "gamma"), vms_per_namespace):
        objs += kb.sample_namespace(ns, vms=n, running_every=2 if ns == "beta" else 0)
    sim.apply(objs)
    sim.settle(timeout=60)


def _binding(name, namespace, role, user="alice", kind="ClusterRole"):
    meta = {"name": name, "namespace": namespace} if namespace else {"name": name}
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding" if namespace else "ClusterRoleBinding",
            "metadata": meta, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]}


def test_one_table_per_namespace_that_holds_vms(kubesim, capsys):
    seed(kubesim, (2, 2, 1))
    rc, out, err = run(kubesim, capsys, "assess", "-A")
    assert rc == 0, err
    blocks = out.split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == ["Namespace: alpha", "Namespace: beta", "Namespace: gamma"]
    for block, names in zip(blocks, (["vm-0001", "vm-0002"], ["vm-0001", "vm-0002"], ["vm-0001"])):
        lines = block.splitlines()
        assert lines[1].split()[:3] == ["NAME", "STATUS", "RUN-STRATEGY"]
        assert [line.split()[0] for line in lines[2:]] == names
    beta = blocks[1].splitlines()
    # Each namespace is judged on its own: only beta's second VM runs.
    assert "VmRunning" in beta[3] and "VmRunning" not in beta[2] and "VmRunning" not in out.replace(blocks[1], "")
    # Shared is within the namespace: gamma's single VM shares its common Secret with nobody.
    assert "secret/common-cloud-config" in blocks[0] and "<none>" in blocks[2].splitlines()[2]


def test_json_is_a_list_of_per_namespace_assessments(kubesim, capsys):
    seed(kubesim, (1, 2, 1))
    rc, out, err = run(kubesim, capsys, "assess", "--all-namespaces", "-o", "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "List"
    assert [(a["kind"], a["metadata"]["namespace"]) for a in doc["items"]] == [
        ("Assessment", "alpha"), ("Assessment", "beta"), ("Assessment", "gamma")]
    beta = doc["items"][1]
    assert [v["name"] for v in beta["vms"]] == ["vm-0001", "vm-0002"]
    assert [d["claim"] for d in beta["vms"][0]["disks"]] == ["vm-0001-rootdisk", "vm-0001-data1"]
    assert {"kind": "Secret", "name": "vm-0001-cloud-init"} in [
        {"kind": d["kind"], "name": d["name"]} for d in beta["vms"][0]["dependencies"]]
    assert beta["summary"]["needsAttention"] == 2


def test_selector_across_namespaces_keeps_the_namespaces_with_matches(kubesim, capsys):
    seed(kubesim, (1, 1, 1))
    kubesim.apply(kb.vm("db", "gamma", labels={"tier": "db"}))
    kubesim.settle(timeout=60)
    rc, out, err = run(kubesim, capsys, "assess", "-A", "-l", "tier=db", "-o", "yaml")
    assert rc == 0, err
    import yaml
    doc = yaml.safe_load(out)
    assert [(a["metadata"]["namespace"], [v["name"] for v in a["vms"]]) for a in doc["items"]] == [("gamma", ["db"])]
    rc, out, err = run(kubesim, capsys, "assess", "-A", "-l", "tier=none")
    assert (rc, out, err) == (0, "", "No resources found\n")       # a listing, as kubectl get: empty, not failed


def test_requests_depend_on_neither_vms_nor_namespaces(kubesim_factory, capsys):
    counts = []
    for sizes in ((1, 1, 1), (20, 15, 25)):
        sim = kubesim_factory()
        seed(sim, sizes)
        sim.requests.reset()
        rc, out, err = run(sim, capsys, "assess", "-A", "-o", "json")
        assert rc == 0, err
        assert len(json.loads(out)["items"]) == 3
        counts.append(len(sim.requests.entries))
        # One cluster-wide list per kind: nothing is read per namespace or per VM.
        assert not [e for e in sim.requests.entries if e.namespace], sim.requests.entries
    sim.requests.reset()
    assert run(sim, capsys, "assess", "-n", "alpha", "-o", "json")[0] == 0
    # As many requests as assessing one namespace: a -A run costs what a -n run does.
    assert counts[0] == counts[1] == len(sim.requests.entries)


def test_usage_errors(kubesim, capsys):
    rc, out, err = run(kubesim, capsys, "assess", "-A", "-n", "alpha")
    assert rc == 2 and "-A/--all-namespaces and -n/--namespace cannot be used together" in err
    rc, out, err = run(kubesim, capsys, "assess", "-A", "vm-0001")
    assert rc == 2 and "VM names need one namespace" in err
    assert kubesim.requests.count() == 0


def test_user_who_may_not_list_vms_cluster_wide_is_told_to_use_n(kubesim, capsys, tmp_path):
    seed(kubesim, (1, 1, 0))
    kubesim.apply([_binding("alice-admin", "alpha", "admin")])
    config = kubesim.write_kubeconfig(str(tmp_path / "alice"), user="alice", namespace="alpha")
    rc, out, err = run(kubesim, capsys, "assess", "-A", kubeconfig=config)
    assert rc == 1 and out == "" and "Traceback" not in err
    assert err.startswith("error: ") and "virtualmachines" in err and "-n NAMESPACE" in err
    rc, out, err = run(kubesim, capsys, "assess", kubeconfig=config)
    assert rc == 0, err


def test_a_kind_forbidden_cluster_wide_is_listed_per_namespace(kubesim, capsys, tmp_path):
    # view everywhere (VMs, claims, Services, but no Secrets); edit in two namespaces, which may list Secrets.
    seed(kubesim, (1, 1, 0))
    kubesim.apply([_binding("alice-view", None, "view"), _binding("alice-edit", "alpha", "edit"),
                   _binding("alice-edit", "beta", "edit")])
    config = kubesim.write_kubeconfig(str(tmp_path / "alice"), user="alice", namespace="alpha")
    kubesim.requests.reset()
    rc, out, err = run(kubesim, capsys, "assess", "-A", "-o", "json", kubeconfig=config)
    assert rc == 0, err
    doc = json.loads(out)
    for assessment in doc["items"]:
        vm = assessment["vms"][0]
        assert {"kind": "Secret", "name": "vm-0001-cloud-init"} in [
            {"kind": d["kind"], "name": d["name"]} for d in vm["dependencies"]]
        # (view does not read StorageClasses, a cluster-scoped ListForbidden of its own, the same as with -n)
        assert not [f for f in vm["findings"] if f["code"] == "MissingDependency" or "secrets" in f["message"]]
    secret_lists = [(e.namespace or "") for e in kubesim.requests.entries if e.resource == "secrets"]
    assert sorted(secret_lists) == ["", "alpha", "beta"]


def test_claims_that_cannot_be_listed_are_said_so_not_given_a_state(kubesim, capsys, tmp_path):
    seed(kubesim, (1,))
    # alice reads everything in alpha but PersistentVolumeClaims.
    core = ["configmaps", "secrets", "services", "serviceaccounts", "events", "resourcequotas", "pods"]
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "no-claims", "namespace": "alpha"},
            "rules": [{"apiGroups": [""], "resources": core, "verbs": ["get", "list", "watch"]},
                      {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]}
    role["rules"] = [role["rules"][0]] + [{"apiGroups": [g], "resources": ["*"], "verbs": ["get", "list", "watch"]}
                                          for g in ("kubevirt.io", "cdi.kubevirt.io", "k8s.cni.cncf.io", "apps",
                                                    "networking.k8s.io", "instancetype.kubevirt.io",
                                                    "snapshot.kubevirt.io", "pool.kubevirt.io")]
    kubesim.apply([role, _binding("alice", "alpha", "no-claims", kind="Role")])
    config = kubesim.write_kubeconfig(str(tmp_path / "alice"), user="alice")
    rc, out, err = run(kubesim, capsys, "assess", "-n", "alpha", "-o", "wide", kubeconfig=config)
    assert rc == 0, err
    row = next(line for line in out.splitlines() if line.startswith("vm-0001 "))
    assert "ListForbidden" in row and "DataVolumeNotReady" not in row and "ClaimMissing" not in row
    assert 'could not be read: persistentvolumeclaims is forbidden' in row   # MESSAGE: what blocks it
    assert "has no claim yet" not in out and "does not exist" not in out
    rc, out, err = run(kubesim, capsys, "assess", "-n", "alpha", "-o", "json", kubeconfig=config)
    findings = [f for v in json.loads(out)["vms"] for f in v.get("findings", [])] + json.loads(out).get("findings", [])
    claims = [f for f in findings if (f.get("subject") or {}).get("kind") in ("PersistentVolumeClaim", "DataVolume")]
    assert claims and all(f["code"] == "ListForbidden" for f in claims)
    assert all("could not be read" in f["message"] for f in claims)

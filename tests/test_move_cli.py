"""`assess` and `plan` end to end against kubesim: output, request counts, bad input, RBAC, KubeMacPool."""

import json

import yaml

from kubectl_vmmove import cli
from kubectl_vmmove.move.planning import moveplan as planmod
from tests.kubesim import builders as b
from tests.kubesim import builders as kb

MUTATING = ("create", "update", "patch", "delete")


def run(sim, capsys, *args, kubeconfig=None):
    rc = cli.main(["--kubeconfig", kubeconfig or sim.kubeconfig_path, *args])
    out, err = capsys.readouterr()
    return rc, out, err


def seed(sim, objs):
    sim.apply(objs)
    sim.settle(timeout=60)


def _writes(sim):
    """Requests that could change something, other than access reviews and the one dry-run VM create (the log
    does not show the query; the test checks separately that no VM was stored)."""
    return [e for e in sim.requests.entries if e.verb in MUTATING and not e.resource.endswith("reviews")
            and (e.verb, e.resource, e.namespace) != ("create", "virtualmachines", "dst")]


def test_plan_yaml_is_a_complete_valid_plan_without_secret_values(kubesim, capsys):
    seed(kubesim, kb.sample_namespace("src", vms=3, running_every=2) + kb.namespace("dst"))
    kubesim.requests.reset()
    rc, out, err = run(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "-o", "yaml",
                       "--move-id", "e2e001")
    assert rc == 0, err
    doc = planmod.load(out)
    spec = doc["spec"]
    assert spec["moveId"] == "e2e001" and [v["name"] for v in spec["vms"]] == ["vm-0001", "vm-0002", "vm-0003"]
    assert [(s["action"], s["name"]) for s in spec["prepare"]] == [("copy", "common-cloud-config")]
    vm2 = spec["vms"][1]
    assert vm2["running"] and vm2["targetRunStrategy"] == "Always"
    assert [s["name"] for s in vm2["steps"] if s["action"] == "clone"] == ["vm-0002-rootdisk", "vm-0002-data1"]
    assert {"kind": "Secret", "name": "vm-0002-cloud-init"} in vm2["dependencies"]
    assert {"kind": "Service", "name": "vm-0002-ssh"} in vm2["dependencies"]
    for obj in planmod.target_manifests(doc):
        assert b.schema_errors(obj) == [], obj["metadata"]["name"]
    assert kb.SSH_KEY.split()[1] not in out and "BEGIN CERTIFICATE" not in out
    # Planning changed nothing: reads, access reviews and one dry run only.
    assert _writes(kubesim) == []
    assert kubesim.list("virtualmachines.kubevirt.io", "dst") == []


def test_plan_table_shows_vms_and_findings(kubesim, capsys):
    seed(kubesim, kb.sample_namespace("src", vms=2, running_every=1) + kb.namespace("dst"))
    rc, out, err = run(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "vm-0001")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Plan for move ") and "src -> dst" in lines[0]
    header = next(line for line in lines if line.startswith("VM "))
    assert header.split()[:4] == ["VM", "STATUS", "DISKS", "SIZE"]
    row = next(line for line in lines if line.startswith("vm-0001"))
    # Two 10Gi disks imported through the DataVolume `storage` API: CDI asks for 6% more on Filesystem claims.
    assert "Running" in row and "21.2Gi" in row
    assert any(line.startswith("warning") and "VmRunning" in line for line in lines)
    assert "SharedDependency" in out      # common-cloud-config is also used by vm-0002, which stays
    assert lines[-1].startswith("0 error(s)")


def test_request_count_does_not_grow_with_the_number_of_vms(kubesim_factory, capsys):
    counts = []
    for n in (3, 60):
        sim = kubesim_factory()
        seed(sim, kb.sample_namespace("src", vms=n) + kb.namespace("dst"))
        sim.requests.reset()
        rc, out, err = run(sim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "-o", "json")
        assert rc == 0, err
        counts.append(len(sim.requests.entries))
    assert counts[0] == counts[1] <= 25


def test_assess_table_and_graph(kubesim, capsys):
    seed(kubesim, kb.sample_namespace("src", vms=2) + kb.vm("lonely", "src", disks=(("root", "5Gi"),),
                                                            disk_mode="pvc", configmap="lonely-cfg",
                                                            storage_class="ceph-rbd"))
    rc, out, err = run(kubesim, capsys, "assess", "-n", "src")
    assert rc == 0, err
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(rows) == {"vm-0001", "vm-0002", "lonely"}
    assert "movable" in rows["lonely"] and "cm=1" in rows["lonely"]
    assert "secret/common-cloud-config" in rows["vm-0001"]        # shared with vm-0002 (assess moves nothing)
    # kubesim's default class clones by host copy (no snapshot class): worth knowing before a move.
    assert "needs attention (SlowClone)" in rows["vm-0001"]
    rc, out, err = run(kubesim, capsys, "assess", "-n", "src", "lonely", "-o", "json")
    import json
    report = json.loads(out)
    vm = report["vms"][0]
    assert report["kind"] == "Assessment" and vm["verdict"] == "movable"
    assert [d["claim"] for d in vm["disks"]] == ["lonely-root"] and vm["disks"][0]["size"] == 5 * 2 ** 30
    assert {"kind": "ConfigMap", "name": "lonely-cfg"} in vm["dependencies"]


def _only_reads(sim):
    return all(e.verb in ("get", "list", "") for e in sim.requests.entries)


def test_bad_input_is_a_clear_error_after_reads_only(kubesim, capsys, tmp_path):
    seed(kubesim, kb.sample_namespace("src", vms=1) + kb.namespace("dst"))
    cases = [
        (["plan", "-n", "nosuch", "--to", "dst", "--all"], 'namespace "nosuch" not found'),
        (["plan", "-n", "src", "--to", "dst", "ghost"], 'virtualmachine "ghost" not found in namespace "src"'),
        (["plan", "-n", "src", "--to", "dst", "-l", "app=none"], 'match the selector "app=none"'),
        (["plan", "-n", "src", "--to", "src", "--all"], 'source and target namespace are both "src"'),
        (["plan", "-n", "src", "--to", "dst", "-f", str(tmp_path / "missing.txt")], "does not exist"),
        (["assess", "-n", "nosuch"], 'namespace "nosuch" not found'),
    ]
    for args, message in cases:
        kubesim.requests.reset()
        rc, out, err = run(kubesim, capsys, *args)
        assert rc == 1 and out == "", args
        assert err.startswith("error: ") and message in err and "Traceback" not in err, (args, err)
        assert _only_reads(kubesim), args


def test_assess_of_nothing_is_an_empty_listing_as_in_kubectl_get(kubesim, capsys):
    seed(kubesim, kb.sample_namespace("src", vms=1) + kb.namespace("empty"))
    for args in (["assess", "-n", "empty"], ["assess", "-n", "src", "-l", "app=none"]):
        rc, out, err = run(kubesim, capsys, *args)
        namespace = args[2]
        assert (rc, out, err) == (0, "", f"No resources found in {namespace} namespace.\n"), args
    rc, out, err = run(kubesim, capsys, "assess", "-n", "empty", "-o", "json")
    assert rc == 0 and json.loads(out) == {"apiVersion": "v1", "items": [], "kind": "List",
                                           "metadata": {"resourceVersion": ""}}
    # A named VM that is not there stays an error, and so does planning nothing.
    assert run(kubesim, capsys, "assess", "-n", "src", "ghost")[0] == 1
    rc, _, err = run(kubesim, capsys, "plan", "-n", "empty", "--to", "src", "--all")
    assert rc == 1 and 'no VirtualMachines found in namespace "empty"' in err


def test_usage_errors_exit_2(kubesim, capsys):
    rc, _, err = run(kubesim, capsys, "plan", "-n", "src", "--all")
    assert rc == 2 and "--to NAMESPACE is required" in err
    rc, _, err = run(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "a", "--all")
    assert rc == 2 and "choose VMs one way" in err
    rc, _, err = run(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--storage-class-map", "x")
    assert rc == 2 and "OLD=NEW" in err


def test_missing_target_is_an_error_but_the_plan_is_printed(kubesim, capsys, tmp_path):
    seed(kubesim, kb.sample_namespace("src", vms=1))
    move_list = tmp_path / "vms.txt"
    move_list.write_text("# the only one\nvm-0001\n")
    rc, out, err = run(kubesim, capsys, "plan", "-n", "src", "--to", "newns", "-f", str(move_list), "-o", "yaml")
    assert rc == 1 and "the plan has 1 error(s)" in err
    doc = yaml.safe_load(out)
    assert [f["code"] for f in doc["status"]["findings"] if f["severity"] == "error"] == ["TargetNamespaceMissing"]
    assert doc["spec"]["selection"] == {"names": ["vm-0001"], "moveList": str(move_list)}
    rc, out, err = run(kubesim, capsys, "plan", "-n", "src", "--to", "newns", "vm-0001", "--create-namespace",
                       "-o", "yaml")
    assert rc == 0, err
    assert yaml.safe_load(out)["spec"]["prepare"][0]["object"]["kind"] == "Namespace"


def test_missing_permissions_are_found_with_access_reviews(kubesim, capsys, tmp_path):
    seed(kubesim, kb.sample_namespace("src", vms=1) + kb.namespace("dst") + [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "alice-admin", "namespace": "src"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "alice-view", "namespace": "dst"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]}])
    config = kubesim.write_kubeconfig(str(tmp_path / "alice"), user="alice", namespace="src")
    rc, out, err = run(kubesim, capsys, "plan", "--to", "dst", "--all", "-o", "yaml", kubeconfig=config)
    assert rc == 1
    denied = [f["message"] for f in yaml.safe_load(out)["status"]["findings"] if f["code"] == "PermissionDenied"]
    assert 'you may not create virtualmachines in API group "kubevirt.io" in namespace "dst"' in denied
    assert 'you may not create datavolumes in API group "cdi.kubevirt.io" in namespace "dst"' in denied
    assert not [m for m in denied if '"src"' in m]    # admin in the source may stop VMs and clone from it


def test_kubemacpool_that_rejects_duplicate_macs_is_detected(kubesim_factory, capsys):
    sim = kubesim_factory(kubemacpool="reject")
    seed(sim, kb.namespace("src") + kb.namespace("dst") + kb.vm("web", "src", mac="02:00:00:00:0a:01"))
    rc, out, err = run(sim, capsys, "plan", "-n", "src", "--to", "dst", "web", "-o", "yaml")
    doc = yaml.safe_load(out)
    codes = [f["code"] for f in doc["status"]["findings"]]
    assert rc == 1 and "MacRejected" in codes
    assert doc["spec"]["kubemacpool"]["rejectsDuplicateMacs"] is True
    rc, out, err = run(sim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--mac-policy", "opt-out",
                       "-o", "yaml")
    assert rc == 0, err
    assert "MacRejected" not in out


def test_manifests_for_gitops(kubesim, capsys):
    seed(kubesim, kb.namespace("src") + kb.namespace("dst") +
         kb.vm("web", "src", cloud_init_secret="web-ci", configmap="web-cfg", service=True))
    rc, out, err = run(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--manifests")
    assert rc == 0, err
    docs = list(yaml.safe_load_all(out))
    assert [d["kind"] for d in docs] == ["ConfigMap", "DataVolume", "VirtualMachine", "Service"]
    assert docs[0]["data"] == {"app.properties": "name=web\n"}
    for d in docs:
        assert b.schema_errors(d) == [], d["kind"]
    assert "secret/web-ci" in err and "never outputs secret values" in err
    assert "userdata" not in out
    rc, out, err = run(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--manifests", "-o", "json")
    assert rc == 0 and yaml.safe_load(out)["kind"] == "List"


def test_clone_method_follows_the_storage_profile_and_the_class_map(kubesim, capsys):
    seed(kubesim, kb.namespace("src") + kb.namespace("dst") + kb.vm("db", "src", storage_class="ceph-rbd") +
         kb.vm("web", "src"))
    rc, out, err = run(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "db", "web", "-o", "yaml",
                       "--storage-class-map", "standard=ceph-rbd")
    doc = yaml.safe_load(out)
    disks = {v["name"]: v["disks"][0] for v in doc["spec"]["vms"]}
    assert disks["db"]["method"] == "csi-clone" and disks["db"]["targetStorageClass"] == "ceph-rbd"
    # Mapping hostpath to Ceph crosses CSI drivers: CDI falls back to a host-assisted copy.
    assert disks["web"]["method"] == "copy" and "IncompatibleProvisioners" in disks["web"]["methodReason"]
    assert disks["web"]["targetStorageClass"] == "ceph-rbd"
    clone = next(s for v in doc["spec"]["vms"] if v["name"] == "web" for s in v["steps"] if s["action"] == "clone")
    assert clone["object"]["spec"]["pvc"]["storageClassName"] == "ceph-rbd"

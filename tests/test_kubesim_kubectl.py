"""Conformance of kubesim with the real kubectl binary: what kubectl users and the plugin's documentation rely on."""

import json
import subprocess
import threading

import pytest
import yaml

VM = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: vm1
  namespace: ns1
  labels: {app: web}
spec:
  runStrategy: Halted
  template:
    spec:
      domain:
        devices: {}
        memory: {guest: 1Gi}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: ns1}
data: {a: "1"}
"""


@pytest.fixture
def sim(kubesim):
    kubesim.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns1"}})
    return kubesim


def kubectl(sim, *args, ok=True, stdin=None, timeout=30):
    r = subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig_path, *args], capture_output=True, text=True,
                       input=stdin, timeout=timeout)
    if ok:
        assert r.returncode == 0, f"kubectl {' '.join(args)}: {r.stderr}"
    return r


def test_apply_create_then_update_and_get_outputs(sim, tmp_path):
    path = tmp_path / "vm.yaml"
    path.write_text(VM)
    out = kubectl(sim, "apply", "-f", str(path)).stdout
    assert out.splitlines() == ["virtualmachine.kubevirt.io/vm1 created", "configmap/cfg created"]
    path.write_text(VM.replace("runStrategy: Halted", "runStrategy: Always").replace('a: "1"', 'a: "2"'))
    out = kubectl(sim, "apply", "-f", str(path)).stdout
    assert out.splitlines() == ["virtualmachine.kubevirt.io/vm1 configured", "configmap/cfg configured"]
    got = json.loads(kubectl(sim, "get", "vm", "vm1", "-n", "ns1", "-o", "json").stdout)
    assert got["spec"]["runStrategy"] == "Always" and got["metadata"]["generation"] == 2
    last = json.loads(got["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["runStrategy"] == "Always"
    assert yaml.safe_load(kubectl(sim, "get", "cm", "cfg", "-n", "ns1", "-o", "yaml").stdout)["data"] == {"a": "2"}
    table = kubectl(sim, "get", "vms", "-n", "ns1", "-o", "wide").stdout.splitlines()
    assert table[0].split() == ["NAME", "AGE", "STATUS", "READY"] and table[1].startswith("vm1 ")
    names = kubectl(sim, "get", "vm,cm", "-n", "ns1", "-o", "name").stdout.split()
    assert names == ["virtualmachine.kubevirt.io/vm1", "configmap/cfg", "configmap/kube-root-ca.crt"]
    assert kubectl(sim, "get", "virtualmachine", "-n", "ns1", "-l", "app=web", "--no-headers").stdout.startswith(
        "vm1")


def test_create_patch_label_annotate(sim, tmp_path):
    path = tmp_path / "vm.yaml"
    path.write_text(VM)
    dry = kubectl(sim, "create", "-f", str(path), "--dry-run=server").stdout
    assert "created (server dry run)" in dry
    assert kubectl(sim, "get", "vm", "-n", "ns1", ok=False).stderr.strip() == "No resources found in ns1 namespace."
    kubectl(sim, "create", "-f", str(path))
    kubectl(sim, "patch", "vm", "vm1", "-n", "ns1", "--type=merge", "-p", '{"spec":{"runStrategy":"Manual"}}')
    kubectl(sim, "patch", "vm", "vm1", "-n", "ns1", "--type=json",
            "-p", '[{"op":"replace","path":"/spec/runStrategy","value":"Always"}]')
    r = kubectl(sim, "patch", "vm", "vm1", "-n", "ns1", "--type=json",
                "-p", '[{"op":"test","path":"/spec/runStrategy","value":"Halted"}]', ok=False)
    assert r.returncode == 1 and "testing value /spec/runStrategy failed" in r.stderr
    kubectl(sim, "patch", "cm", "cfg", "-n", "ns1", "-p", '{"data":{"b":"2"}}')   # strategic for a core kind
    r = kubectl(sim, "patch", "vm", "vm1", "-n", "ns1", "-p", '{"spec":{}}', ok=False)
    assert "application/strategic-merge-patch+json is not supported" in r.stderr
    kubectl(sim, "label", "vm", "vm1", "-n", "ns1", "tier=gold")
    kubectl(sim, "annotate", "vm", "vm1", "-n", "ns1", "owner=team-a")
    got = json.loads(kubectl(sim, "get", "vm", "vm1", "-n", "ns1", "-o", "json").stdout)
    assert got["spec"]["runStrategy"] == "Always"
    assert got["metadata"]["labels"] == {"app": "web", "tier": "gold"}
    assert got["metadata"]["annotations"]["owner"] == "team-a"
    assert json.loads(kubectl(sim, "get", "cm", "cfg", "-n", "ns1", "-o", "json").stdout)["data"] == {"a": "1",
                                                                                                      "b": "2"}
    r = kubectl(sim, "create", "-f", str(path), ok=False)
    assert 'virtualmachines.kubevirt.io "vm1" already exists' in r.stderr


def test_invalid_manifest_is_rejected_like_the_real_server(sim, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(VM.split("---")[0].replace("runStrategy: Halted", "runStrategy: 3"))
    r = kubectl(sim, "apply", "-f", str(path), ok=False)
    assert r.returncode == 1
    assert ('The VirtualMachine "vm1" is invalid: spec.runStrategy: Invalid value: "integer": spec.runStrategy in '
            'body must be of type string: "integer"') in r.stderr
    path.write_text(VM.split("---")[0].replace("runStrategy: Halted", "runStrategy: Halted\n  runStrategi: x"))
    r = kubectl(sim, "apply", "-f", str(path), ok=False)
    assert 'strict decoding error: unknown field "spec.runStrategi"' in r.stderr


def _until_watching(sim, resource):
    """Block until a kubectl started in the background has opened its watch (kubectl wait lists, then watches)."""
    started = threading.Event()
    for _ in range(400):
        if sim.requests.count(verb="watch", resource=resource):
            return
        started.wait(0.025)
    raise AssertionError(f"no watch on {resource} was opened")


def test_delete_with_finalizer_and_wait(sim, tmp_path):
    path = tmp_path / "vm.yaml"
    path.write_text(VM.split("---")[0].replace("labels: {app: web}", "finalizers: [example.com/hold]"))
    kubectl(sim, "apply", "-f", str(path))
    out = kubectl(sim, "delete", "vm", "vm1", "-n", "ns1", "--wait=false").stdout
    assert out.strip() == 'virtualmachine.kubevirt.io "vm1" deleted'
    got = json.loads(kubectl(sim, "get", "vm", "vm1", "-n", "ns1", "-o", "json").stdout)
    assert got["metadata"]["deletionTimestamp"]
    waiter = subprocess.Popen(["kubectl", "--kubeconfig", sim.kubeconfig_path, "wait", "--for=delete", "vm/vm1",
                               "-n", "ns1", "--timeout=20s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    _until_watching(sim, "virtualmachines.kubevirt.io")
    kubectl(sim, "patch", "vm", "vm1", "-n", "ns1", "--type=json",
            "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    out, err = waiter.communicate(timeout=25)
    assert waiter.returncode == 0, err
    assert out.strip() == "virtualmachine.kubevirt.io/vm1 condition met"


def test_wait_for_condition(sim, tmp_path):
    # The KubeVirt controller starts a VM with runStrategy Always and reports Ready once its VMI runs.
    path = tmp_path / "vm.yaml"
    path.write_text(VM.split("---")[0].replace("runStrategy: Halted", "runStrategy: Always"))
    kubectl(sim, "apply", "-f", str(path))
    r = kubectl(sim, "wait", "--for=condition=Ready", "vm/vm1", "-n", "ns1", "--timeout=30s", timeout=40)
    assert r.stdout.strip() == "virtualmachine.kubevirt.io/vm1 condition met"
    row = kubectl(sim, "get", "vm", "vm1", "-n", "ns1", "--no-headers").stdout.split()
    assert row[0] == "vm1" and row[2:] == ["Running", "True"]


def test_auth_can_i_with_rbac_and_impersonation(sim):
    assert kubectl(sim, "auth", "can-i", "create", "vm", "-n", "ns1").stdout.strip() == "yes"
    r = kubectl(sim, "auth", "can-i", "get", "vm", "-n", "ns1", "--as", "dave", ok=False)
    assert r.returncode == 1 and r.stdout.strip() == "no"
    sim.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "dave-view", "namespace": "ns1"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
               "subjects": [{"kind": "User", "name": "dave", "apiGroup": "rbac.authorization.k8s.io"}]})
    sim.settle()
    assert kubectl(sim, "auth", "can-i", "get", "vm", "-n", "ns1", "--as", "dave").stdout.strip() == "yes"
    r = kubectl(sim, "auth", "can-i", "create", "datavolumes", "--subresource=source", "-n", "ns1", "--as", "dave")
    assert r.stdout.strip() == "yes"
    r = kubectl(sim, "auth", "can-i", "delete", "vm", "-n", "ns1", "--as", "dave", ok=False)
    assert r.stdout.strip() == "no"
    dave = sim.write_kubeconfig(sim.kubeconfig_path + ".dave", user="dave", namespace="ns1")
    r = subprocess.run(["kubectl", "--kubeconfig", dave, "get", "secrets"], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip() == ('Error from server (Forbidden): secrets is forbidden: User "dave" cannot list '
                                'resource "secrets" in API group "" in the namespace "ns1"')


def test_get_watch_streams_changes(sim, tmp_path):
    proc = subprocess.Popen(["kubectl", "--kubeconfig", sim.kubeconfig_path, "get", "cm", "-n", "ns1", "--watch",
                             "--output-watch-events"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    done = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line.split())
            if len([x for x in lines if "kube-root-ca.crt" not in x]) >= 3:
                done.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        watching = threading.Event()
        for _ in range(200):
            if sim.requests.count(verb="watch", resource="configmaps", namespace="ns1"):
                watching.set()
                break
            watching.wait(0.05)
        assert watching.is_set(), "kubectl never started its watch"
        sim.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w1", "namespace": "ns1"}})
        sim.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w1", "namespace": "ns1"},
                   "data": {"x": "1"}})
        assert done.wait(20), (lines, proc.stderr.read() if proc.poll() is not None else "")
    finally:
        proc.kill()
        proc.wait()
    assert lines[0] == ["EVENT", "NAME", "DATA", "AGE"]
    rows = [(row[0], row[1], row[2]) for row in lines[1:] if row[1] != "kube-root-ca.crt"]
    assert rows[:2] == [("ADDED", "w1", "0"), ("MODIFIED", "w1", "1")]


def test_create_namespace_and_core_objects_through_typed_commands(sim):
    kubectl(sim, "create", "namespace", "made-by-kubectl")
    kubectl(sim, "create", "configmap", "c", "-n", "made-by-kubectl", "--from-literal=k=v")
    kubectl(sim, "create", "secret", "generic", "s", "-n", "made-by-kubectl", "--from-literal=password=hunter2")
    secret = sim.get("secrets", "s", "made-by-kubectl")
    assert secret["data"] == {"password": "aHVudGVyMg=="} and secret["type"] == "Opaque"
    assert sim.get("configmaps", "c", "made-by-kubectl")["data"] == {"k": "v"}
    out = kubectl(sim, "get", "ns", "made-by-kubectl", "--no-headers").stdout.split()
    assert out[:2] == ["made-by-kubectl", "Active"]



def test_rbac_through_typed_create_commands(sim):
    # kubectl sends these bodies as protobuf; the grant must take effect as on a real cluster.
    kubectl(sim, "create", "role", "cm-reader", "-n", "ns1", "--verb=get,list", "--resource=configmaps",
            "--resource-name=cfg")
    kubectl(sim, "create", "rolebinding", "erin-cm", "-n", "ns1", "--role=cm-reader", "--user=erin",
            "--serviceaccount=ns1:robot")
    role = sim.get("roles.rbac.authorization.k8s.io", "cm-reader", "ns1")
    assert role["rules"] == [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps"],
                              "resourceNames": ["cfg"]}]
    binding = sim.get("rolebindings.rbac.authorization.k8s.io", "erin-cm", "ns1")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"}
    assert binding["subjects"] == [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "erin"},
                                   {"kind": "ServiceAccount", "name": "robot", "namespace": "ns1"}]
    assert kubectl(sim, "auth", "can-i", "get", "configmaps/cfg", "-n", "ns1", "--as", "erin").stdout.strip() == "yes"

    kubectl(sim, "create", "clusterrole", "vm-lister", "--verb=list", "--resource=virtualmachines.kubevirt.io")
    kubectl(sim, "create", "clusterrolebinding", "erin-vms", "--clusterrole=vm-lister", "--user=erin",
            "--group=auditors")
    assert sim.get("clusterroles.rbac.authorization.k8s.io", "vm-lister")["rules"] == [
        {"verbs": ["list"], "apiGroups": ["kubevirt.io"], "resources": ["virtualmachines"]}]
    assert [s["name"] for s in sim.get("clusterrolebindings.rbac.authorization.k8s.io", "erin-vms")["subjects"]] \
        == ["erin", "auditors"]
    r = kubectl(sim, "auth", "can-i", "list", "virtualmachines.kubevirt.io", "-A", "--as", "erin")
    assert r.stdout.strip() == "yes"
    r = kubectl(sim, "auth", "can-i", "delete", "virtualmachines.kubevirt.io", "-A", "--as", "erin", ok=False)
    assert r.stdout.strip() == "no"
    kubectl(sim, "create", "clusterrole", "agg", "--aggregation-rule=team=vm")
    selectors = sim.get("clusterroles.rbac.authorization.k8s.io", "agg")["aggregationRule"]["clusterRoleSelectors"]
    assert selectors == [{"matchLabels": {"team": "vm"}}]


def test_namespaces_of_installed_components_are_active(sim):
    rows = [line.split() for line in kubectl(sim, "get", "ns", "--no-headers").stdout.splitlines()]
    assert {"cdi", "kubevirt", "default"} <= {r[0] for r in rows}
    assert all(r[1] == "Active" for r in rows), rows

def test_standalone_server_serves_kubectl_until_terminated(tmp_path):
    import signal
    import sys
    kubeconfig = tmp_path / "kubeconfig"
    seed = tmp_path / "seed.yaml"
    seed.write_text('apiVersion: v1\nkind: Namespace\nmetadata: {name: seeded}\n')
    proc = subprocess.Popen([sys.executable, "-m", "tests.kubesim", "--port", "0", "--kubeconfig", str(kubeconfig),
                             "--seed", str(seed), "--speed", "100"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("https://127.0.0.1:")
        r = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "get", "ns", "seeded", "-o", "name"],
                           capture_output=True, text=True, timeout=30)
        assert r.stdout.strip() == "namespace/seeded", r.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0

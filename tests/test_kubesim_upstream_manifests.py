"""Real KubeVirt/CDI manifests written by others (shared/fixtures/upstream/kubevirt, see its MANIFEST.md) applied to
kubesim with the real kubectl: what a real cluster with KubeVirt and CDI accepts applies cleanly, and what it
rejects is rejected at the same stage (client-side parse, resource mapping, schema, admission)."""

import os
import subprocess

import pytest

from tests import shared

ROOT = str(shared.FIXTURES / "kubevirt")
PLACEHOLDER = "{{KVP_STORAGE_CLASS}}"

# file -> objects it creates (kind/name as kubectl -o name prints them, with the namespace)
ACCEPTED = {
    "cdi/blank-datavolume.yaml": [("default", "datavolume.cdi.kubevirt.io/blank-image-datavolume")],
    "cdi/import-http-datavolume-secretref.yaml": [("default", "datavolume.cdi.kubevirt.io/my-data-volume")],
    "cdi/vm-dv-v1alpha3.yaml": [("default", "virtualmachine.kubevirt.io/vm-cirros-datavolume")],
    "oadp-e2e/cirros-test-list.yaml": [("cirros-test", "virtualmachine.kubevirt.io/cirros-test")],
    "upstream-examples/instancetype-clarge.yaml": [
        ("default", "virtualmachineinstancetype.instancetype.kubevirt.io/clarge")],
    "upstream-examples/preference-windows.yaml": [
        ("default", "virtualmachinepreference.instancetype.kubevirt.io/windows")],
    "upstream-examples/vm-alpine-datavolume.yaml": [("default", "virtualmachine.kubevirt.io/vm-alpine-datavolume")],
    "upstream-examples/vm-alpine-multipvc.yaml": [("default", "virtualmachine.kubevirt.io/vm-alpine-multipvc")],
    "upstream-examples/vm-cirros-cluster-csmall.yaml": [
        ("default", "virtualmachine.kubevirt.io/vm-cirros-cluster-csmall")],
    "upstream-examples/vm-cirros-sidecar-hook-configmap.yaml": [
        ("default", "virtualmachine.kubevirt.io/vm-cirros-with-sidecar-hook-configmap")],
    "upstream-examples/vm-cirros.yaml": [("default", "virtualmachine.kubevirt.io/vm-cirros")],
    "upstream-examples/vm-pool-cirros.yaml": [("default", "virtualmachinepool.pool.kubevirt.io/vm-pool-cirros")],
    "upstream-examples/vm-windows-clarge-windows.yaml": [
        ("default", "virtualmachine.kubevirt.io/vm-windows-clarge-windows")],
    "upstream-examples/vmi-multus-multiple-net.yaml": [
        ("default", "virtualmachineinstance.kubevirt.io/vmi-multus-multiple-net")],
    "user-guide/networkpolicy-allow-http-https.yaml": [("default", "networkpolicy.networking.k8s.io/allow-http-https")],
    "user-guide/networkpolicy-allow-same-namespace.yaml": [
        ("default", "networkpolicy.networking.k8s.io/allow-same-namespace")],
    "user-guide/service-nodeport-pinned.yaml": [("default", "service/nodeport")],
    "user-guide/vm-accesscredentials-nocloud.yaml": [("default", "virtualmachine.kubevirt.io/testvm")],
    "user-guide/vm-cirros-userdatabase64.yaml": [("default", "virtualmachine.kubevirt.io/vm-cirros")],
    "user-guide/vm-dv-template-storage-api.yaml": [("default", "virtualmachine.kubevirt.io/vm-dv")],
    "user-guide/vm-ignition-configdrive-v1alpha3.yaml": [("default", "virtualmachine.kubevirt.io/ign-demo")],
    "user-guide/vm-multus-macvtap-binding.yaml": [("default", "virtualmachine.kubevirt.io/vm-net-binding-macvtap")],
    "velero-plugin-fixtures/access-credentials-secret.yaml": [("default", "secret/test-access-credentials-secret")],
    "velero-plugin-fixtures/configmap.yaml": [("default", "configmap/test-configmap")],
    "velero-plugin-fixtures/dv-for-pvc.yaml": [("default", "datavolume.cdi.kubevirt.io/test-pvc")],
    "velero-plugin-fixtures/secret.yaml": [("default", "secret/test-secret")],
    "velero-plugin-fixtures/vm-with-access-credentials.yaml": [
        ("default", "virtualmachine.kubevirt.io/test-vm-with-access-credentials")],
    "velero-plugin-fixtures/vm-with-different-volume-types.yaml": [
        ("default", "virtualmachine.kubevirt.io/test-vm-with-different-volume-types")],
    "velero-plugin-fixtures/vm-with-dv-and-dvtemplate.yaml": [
        ("default", "virtualmachine.kubevirt.io/test-vm-with-dv-and-dvtemplate")],
    "velero-plugin-fixtures/vm-with-pvc.yaml": [("default", "virtualmachine.kubevirt.io/test-vm-with-pvc")],
}

# file -> a fragment of kubectl's stderr: how the real stack refuses it
REJECTED = {
    # Unparseable YAML fails in kubectl before any request.
    "user-guide/vm-hotplug-iface-snippet.MALFORMED.yaml": "error converting YAML to JSON",
    # Kinds and versions a KubeVirt cluster without OpenShift does not serve.
    "common-templates/template-rhel9-server-small.yaml":
        'no matches for kind "Template" in version "template.openshift.io/v1"',
    "common-templates/template-windows11-desktop-medium.yaml":
        'no matches for kind "Template" in version "template.openshift.io/v1"',
    "upstream-examples/vm-template-fedora.openshift-template.yaml":
        'no matches for kind "Template" in version "template.openshift.io/v1"',
    "user-guide/vm-hugepages-v1alpha1-legacy.yaml": 'no matches for kind "VirtualMachine" in version "kubevirt.io/v1alpha1"',
    # A documentation fragment with no metadata at all.
    "user-guide/vm-sriov-partial.yaml": "resource name may not be empty",
    # A fragment with neither running nor runStrategy: KubeVirt's validating webhook refuses it.
    "user-guide/vm-persistent-tpm.fragment.yaml": "RunStrategy must be specified",
    # `storage:` is null: the server prunes a null that the schema does not allow, which leaves neither storage nor
    # pvc, and CDI's validating webhook refuses that.
    "cdi/clone-datavolume-cross-namespace.yaml": "Missing Data volume PVC",
    # The API round-trip fixture: fuzzer values and fields newer than the served KubeVirt v1.6 schema.
    "upstream-examples/apitesting-vm-every-field.yaml": "strict decoding error: unknown field",
}


def _all_files():
    out = []
    for d in sorted(os.listdir(ROOT)):
        for f in sorted(os.listdir(os.path.join(ROOT, d))):
            out.append(f"{d}/{f}")
    return out


def test_every_upstream_kubevirt_file_is_classified():
    classified = set(ACCEPTED) | set(REJECTED) | {"oadp-e2e/fedora-todolist-list.yaml",
                                                  "oadp-e2e/live-datavolume-after-velero-restore.yaml"}
    assert set(_all_files()) == classified


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from tests.kubesim import KubeSim
    sim = KubeSim(speed=1000.0).start()
    for ns in ("cirros-test", "cirros-test-cont", "source-ns", "namespacevalue"):
        sim.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    # The cross-namespace clone example clones an existing claim.
    sim.apply({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": "source-datavolume", "namespace": "source-ns"},
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    work = tmp_path_factory.mktemp("manifests")
    try:
        yield sim, work
    finally:
        sim.stop()


def _prepared(work, rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        text = f.read().replace(PLACEHOLDER, "standard")
    path = work / rel.replace("/", "__")
    path.write_text(text)
    return str(path)


def _kubectl(sim, *args):
    return subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig_path, *args], capture_output=True, text=True,
                          timeout=60)


def test_manifests_a_real_cluster_accepts_apply_cleanly(cluster):
    sim, work = cluster
    args = []
    for rel in ACCEPTED:
        args += ["-f", _prepared(work, rel)]
    r = _kubectl(sim, "apply", *args)
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr
    by_ns = {}
    for objects in ACCEPTED.values():
        for ns, name in objects:
            by_ns.setdefault(ns, set()).add(name)
    for ns, names in by_ns.items():
        got = _kubectl(sim, "get", *sorted(names), "-n", ns, "-o", "name")
        assert got.returncode == 0, got.stderr
        assert set(got.stdout.split()) == names


def test_live_object_dump_with_a_dangling_owner_is_garbage_collected(cluster):
    sim, work = cluster
    r = _kubectl(sim, "apply", "-f", _prepared(work, "oadp-e2e/live-datavolume-after-velero-restore.yaml"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "datavolume.cdi.kubevirt.io/cirros-test-cont-1-dv created"
    # Its ownerReference names a VirtualMachine uid that does not exist here: the garbage collector removes it.
    sim.settle()
    assert sim.get("datavolumes.cdi.kubevirt.io", "cirros-test-cont-1-dv", "cirros-test-cont") is None


def test_list_with_openshift_kinds_applies_everything_a_plain_cluster_serves(cluster):
    sim, work = cluster
    r = _kubectl(sim, "apply", "-f", _prepared(work, "oadp-e2e/fedora-todolist-list.yaml"))
    assert r.returncode == 1
    assert 'no matches for kind "SecurityContextConstraints" in version "security.openshift.io/v1"' in r.stderr
    assert 'no matches for kind "Route" in version "route.openshift.io/v1"' in r.stderr
    created = {line.split()[0] for line in r.stdout.splitlines()}
    assert {"namespace/mysql-persistent", "serviceaccount/mysql-persistent-sa", "persistentvolumeclaim/mysql",
            "service/mysql", "deployment.apps/mysql", "virtualmachine.kubevirt.io/fedora-todolist"} <= created


@pytest.mark.parametrize("rel", sorted(REJECTED))
def test_manifests_a_real_cluster_rejects_are_rejected(cluster, rel):
    sim, work = cluster
    r = _kubectl(sim, "apply", "-f", _prepared(work, rel))
    assert r.returncode != 0
    assert REJECTED[rel] in r.stderr


def test_wrong_types_in_an_upstream_vm_are_422(cluster):
    sim, work = cluster
    path = _prepared(work, "upstream-examples/vm-cirros.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    bad = work / "vm-cirros-bad.yaml"
    bad.write_text(text.replace("name: vm-cirros\n", "name: vm-cirros-bad\n", 1)
                   .replace("runStrategy: Halted", "runStrategy: [Halted]"))
    r = _kubectl(sim, "apply", "-f", str(bad))
    assert r.returncode == 1
    assert ('The VirtualMachine "vm-cirros-bad" is invalid: spec.runStrategy: Invalid value: "array": '
            'spec.runStrategy in body must be of type string: "array"') in r.stderr

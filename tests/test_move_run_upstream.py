"""A full move of VMs from the upstream KubeVirt fixtures (shared/fixtures/upstream/kubevirt) with every
dependency kind they use, by both strategies, then verify and cleanup, checked object by object."""

import copy

import pytest

from tests.kubesim import builders
from tests.kubesim.builders import load_fixture
from tests.kubesim.controllers.testing import run_until
from tests.move_run_support import DV, PVC, VM, VMI, identity, move_id, names, run_move

NAD = "network-attachment-definitions.k8s.cni.cncf.io"
IT = "virtualmachineinstancetypes.instancetype.kubevirt.io"
PREF = "virtualmachinepreferences.instancetype.kubevirt.io"


def upstream_objects():
    objs = []
    for rel in ("upstream-examples/instancetype-clarge.yaml", "upstream-examples/preference-windows.yaml",
                "upstream-examples/vm-windows-clarge-windows.yaml", "upstream-examples/vm-alpine-multipvc.yaml",
                "user-guide/vm-accesscredentials-nocloud.yaml",
                "velero-plugin-fixtures/vm-with-different-volume-types.yaml",
                "user-guide/networkpolicy-allow-http-https.yaml"):
        objs += load_fixture(rel, storage_class="standard")
    for obj in objs:
        obj["metadata"]["namespace"] = "src"
    # What the fixtures refer to but do not carry.
    objs += builders.pvc("disk-alpine", "src", "1Gi") + builders.pvc("disk-custom", "src", "2Gi")
    objs += builders.pvc("disk-windows", "src", "3Gi")
    objs += builders.secret("my-pub-key", "src", {"key1": builders.SSH_KEY})
    objs += builders.secret("test-secret", "src", {"token": "upstream-test"})
    objs += builders.configmap("test-configmap", "src", {"settings": "a=b"})
    objs += [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "src"}}]
    objs += builders.service("testvm-ssh", "src", {"kubevirt.io/domain": "testvm"})
    for obj in objs:
        if obj["kind"] == "VirtualMachine" and obj["metadata"]["name"] == "testvm":
            obj["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {})["kubevirt.io/domain"] = \
                "testvm"
    return objs


@pytest.mark.parametrize("strategy", ["clone", "transfer"])
def test_upstream_vms_move_verify_and_clean_up(kubesim, capsys, strategy):
    objs = upstream_objects()
    kubesim.apply(builders.namespace("src") + builders.namespace("dst") +
                  [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default",
                                                                              "namespace": "dst"}}])
    kubesim.apply(objs)
    vms = sorted(o["metadata"]["name"] for o in objs if o["kind"] == "VirtualMachine")
    running = [o["metadata"]["name"] for o in objs if o["kind"] == "VirtualMachine"
               and o["spec"].get("runStrategy") == "Always"]
    run_until(kubesim, lambda: all((kubesim.get(VMI, n, "src") or {}).get("status", {}).get("phase") == "Running"
                                   for n in running))
    source = {(o["kind"], o["metadata"]["name"]): copy.deepcopy(kubesim.get(_resource(o["kind"]),
                                                                             o["metadata"]["name"], "src"))
              for o in objs if o["kind"] != "Namespace"}

    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes", "--strategy",
                              strategy)
    assert code == 0, out + err
    mid = move_id(kubesim)

    # Object by object: every VM with its identity and spec, every dependency with its content.
    assert names(kubesim, VM, "dst") == vms
    for name in vms:
        moved = kubesim.get(VM, name, "dst")
        src_vm = source[("VirtualMachine", name)]
        assert identity(moved) == identity(src_vm)
        assert moved["spec"]["template"]["spec"]["volumes"] == src_vm["spec"]["template"]["spec"]["volumes"]
        assert moved["spec"]["runStrategy"] == src_vm["spec"]["runStrategy"]
    for name in running:
        assert kubesim.get(VMI, name, "dst")["status"]["phase"] == "Running"
    assert kubesim.get(IT, "clarge", "dst")["spec"] == source[("VirtualMachineInstancetype", "clarge")]["spec"]
    assert kubesim.get(PREF, "windows", "dst")["spec"] == source[("VirtualMachinePreference", "windows")]["spec"]
    for kind, resource in (("Secret", "secrets"), ("ConfigMap", "configmaps")):
        for name in ("my-pub-key", "test-secret") if kind == "Secret" else ("test-configmap",):
            assert kubesim.get(resource, name, "dst")["data"] == source[(kind, name)]["data"]
    assert kubesim.get("services", "testvm-ssh", "dst")["spec"]["selector"] == {"kubevirt.io/domain": "testvm"}
    claims = ["disk-alpine", "disk-custom", "disk-windows", "test-dv"]
    for claim in claims:
        pvc = kubesim.get(PVC, claim, "dst")
        assert pvc["status"]["phase"] == "Bound"
        if strategy == "transfer":
            assert pvc["spec"]["volumeName"] == source.get(("PersistentVolumeClaim", claim), {}).get(
                "spec", {}).get("volumeName", pvc["spec"]["volumeName"])
    revisions = names(kubesim, "controllerrevisions.apps", "dst")
    assert any(r.startswith("vm-windows-clarge-windows-clarge") for r in revisions)

    code, out, err = run_move(kubesim, capsys, "verify", mid)
    assert code == 0, out + err
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--yes")
    assert code == 0, out + err
    assert names(kubesim, VM, "src") == []
    for gone in ("my-pub-key", "test-secret"):
        assert gone not in names(kubesim, "secrets", "src")
    assert names(kubesim, "services", "src") == []
    assert "default" in names(kubesim, "serviceaccounts", "src")       # never deleted: not the move's own
    if strategy == "clone":
        assert names(kubesim, DV, "src") == [] or all(
            dv["metadata"].get("deletionTimestamp") for dv in kubesim.list(DV, "src"))
    # The moved VMs are untouched by the cleanup.
    for name in running:
        assert kubesim.get(VMI, name, "dst")["status"]["phase"] == "Running"
    assert run_move(kubesim, capsys, "verify", mid)[0] == 0


def _resource(kind):
    return {"VirtualMachine": VM, "PersistentVolumeClaim": PVC, "Secret": "secrets", "ConfigMap": "configmaps",
            "Service": "services", "ServiceAccount": "serviceaccounts", "NetworkPolicy":
            "networkpolicies.networking.k8s.io", "VirtualMachineInstancetype": IT,
            "VirtualMachinePreference": PREF, "NetworkAttachmentDefinition": NAD}[kind]

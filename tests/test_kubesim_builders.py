"""The seeding builders: realistic shapes that the emulated cluster accepts and that match KubeVirt's schema."""

import json
import pathlib

import jsonschema
import pytest

from tests.kubesim import KubeSim, builders
from tests.kubesim.controllers.testing import run_until

SCHEMA = pathlib.Path(__file__).parent / "kubesim" / "schemas" / "kubevirt.io" / "virtualmachine_v1.json"


@pytest.fixture(scope="module")
def vm_schema():
    return json.loads(SCHEMA.read_text())


def by_kind(objs):
    out = {}
    for o in objs:
        out.setdefault(o["kind"], []).append(o)
    return out


def test_vm_with_everything_it_uses(vm_schema):
    objs = builders.vm("web", "prod", disks=(("rootdisk", "20Gi"), ("data", "5Gi")), running=True,
                       cloud_init_secret="web-ci", service=True, nad="blue", instancetype="u1.medium",
                       preference="fedora", tpm=True, efi_persistent=True, ssh_key_secret="web-ssh",
                       configmap="web-cfg", labels={"tier": "frontend"})
    kinds = by_kind(objs)
    assert sorted(kinds) == ["ConfigMap", "NetworkAttachmentDefinition", "Secret", "Service", "VirtualMachine"]
    [vm] = kinds["VirtualMachine"]
    jsonschema.validate(vm, vm_schema)
    spec = vm["spec"]
    assert spec["runStrategy"] == "Always"
    assert [t["metadata"]["name"] for t in spec["dataVolumeTemplates"]] == ["web-rootdisk", "web-data"]
    assert spec["dataVolumeTemplates"][0]["spec"]["source"]["registry"]["url"].startswith("docker://")
    assert spec["instancetype"] == {"kind": "VirtualMachineClusterInstancetype", "name": "u1.medium"}
    tspec = spec["template"]["spec"]
    assert tspec["domain"]["devices"]["tpm"] == {"persistent": True}
    assert tspec["domain"]["firmware"]["bootloader"]["efi"]["persistent"] is True
    assert {"name": "net1", "multus": {"networkName": "blue"}} in tspec["networks"]
    volumes = {v["name"]: v for v in tspec["volumes"]}
    assert volumes["cloudinitdisk"]["cloudInitNoCloud"]["secretRef"]["name"] == "web-ci"
    assert tspec["accessCredentials"][0]["sshPublicKey"]["source"]["secret"]["secretName"] == "web-ssh"
    [svc] = kinds["Service"]
    assert svc["spec"]["selector"] == {"kubevirt.io/domain": "web"}
    assert svc["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("mode,kind", [("pvc", "PersistentVolumeClaim"), ("dv", "DataVolume")])
def test_disks_can_be_precreated(mode, kind):
    objs = builders.vm("web", "prod", disks=(("rootdisk", "1Gi"),), disk_mode=mode)
    assert by_kind(objs)[kind][0]["metadata"]["name"] == "web-rootdisk"
    assert "dataVolumeTemplates" not in objs[-1]["spec"]


def test_the_cluster_accepts_and_runs_what_the_builders_make():
    sim = KubeSim(speed=0, seed=2)
    sim.apply(builders.namespace("prod"))
    sim.apply(builders.vm("web", "prod", disks=(("rootdisk", "1Gi"),), image=None, running=True,
                          cloud_init_secret="web-ci", service=True, nad="blue", ssh_key_secret="web-ssh",
                          configmap="web-cfg", tpm=True))
    run_until(sim, lambda: (sim.get("virtualmachineinstances.kubevirt.io", "web", "prod") or {})
              .get("status", {}).get("phase") == "Running")
    pod = next(p for p in sim.list("pods", "prod"))
    svc = sim.get("services", "web-ssh", "prod")
    assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()


def test_sample_namespace_shapes_and_scale():
    objs = builders.sample_namespace("bench", vms=2000, disks_per_vm=2)
    kinds = by_kind(objs)
    assert len(kinds["VirtualMachine"]) == 2000 and len(kinds["Service"]) == 2000
    assert len(kinds["Namespace"]) == 1
    # One Secret shared by every VM plus one cloud-init Secret each.
    assert len(kinds["Secret"]) == 2001
    names = [vm["metadata"]["name"] for vm in kinds["VirtualMachine"]]
    assert names[0] == "vm-0001" and names[-1] == "vm-2000" and len(set(names)) == 2000
    shared = [v for v in kinds["VirtualMachine"][5]["spec"]["template"]["spec"]["volumes"] if "secret" in v]
    assert shared == [{"name": "shared", "secret": {"secretName": "common-cloud-config"}}]


def test_sample_namespace_runs_every_nth_vm():
    sim = KubeSim(speed=0, seed=3)
    sim.apply(builders.sample_namespace("demo", vms=4, disks_per_vm=1, running_every=2, image=None,
                                        disk_size="1Gi"))

    def vmis():
        return sorted(v["metadata"]["name"] for v in sim.list("virtualmachineinstances.kubevirt.io", "demo"))
    run_until(sim, lambda: vmis() == ["vm-0002", "vm-0004"])

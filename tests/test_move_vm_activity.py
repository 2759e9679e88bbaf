"""What a VM is doing when it is planned: a live migration that has not finished, a volume hot-plugged into the
running instance only, a DataVolume still importing. Each is said as such, and the first two block the VM."""

import yaml

from tests.kubesim import builders
from tests.kubesim.controllers.testing import run_for
from tests.move_run_support import DV, VM, VMI, names, run_move, snapshot, wait_vms

VMIM = "virtualmachineinstancemigrations.kubevirt.io"


def _plan(kubesim, capsys, *vms):
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", *vms, "-o", "yaml")
    return code, yaml.safe_load(out), err


def _state(kubesim):
    """Every object a move touches, by uid and content (statuses move on with simulated time)."""
    return {k: (o["metadata"]["uid"], o.get("spec"), o["metadata"].get("labels")) for k, o in snapshot(kubesim).items()}


def _codes(doc, vm):
    return {f["code"]: f for f in doc["status"]["findings"] if vm in (f.get("vms") or [vm])}


def _migratable_vm(kubesim):
    """A running VM whose disks are ReadWriteMany: KubeVirt reports its instance LiveMigratable, so a migration of
    it is admitted."""
    objs = builders.vm("web", "src", disks=(("rootdisk", "1Gi"),), running=True)
    for obj in objs:
        for tpl in (obj.get("spec") or {}).get("dataVolumeTemplates") or ():
            tpl["spec"]["storage"]["accessModes"] = ["ReadWriteMany"]
    kubesim.apply(builders.namespace("src") + builders.namespace("dst") + objs)
    wait_vms(kubesim, "src", ("web",))
    conditions = {c["type"]: c["status"] for c in kubesim.get(VMI, "web", "src")["status"]["conditions"]}
    assert conditions.get("LiveMigratable") == "True"


def test_a_pending_live_migration_blocks_the_vm_until_it_has_finished(kubesim, capsys):
    _migratable_vm(kubesim)
    kubesim.apply({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
                   "metadata": {"name": "web-migration", "namespace": "src"}, "spec": {"vmiName": "web"}})
    before = _state(kubesim)
    code, doc, _ = _plan(kubesim, capsys, "web")
    assert code == 1
    found = _codes(doc, "web")["MigrationPending"]
    assert found["severity"] == "error" and found["vms"] == ["web"]
    assert "web-migration" in found["message"]
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--yes")
    assert code == 1 and "Traceback" not in err
    assert names(kubesim, VM, "dst") == [] and _state(kubesim) == before

    # Once it has finished (here: succeeded), the migration no longer blocks.
    vmim = kubesim.get(VMIM, "web-migration", "src")
    vmim["status"] = {"phase": "Succeeded"}
    # kubesim has no migration controller: the status virt-controller writes is set here as it would.
    kubesim.store.update(vmim, subresource="status")
    code, doc, err = _plan(kubesim, capsys, "web")
    assert "MigrationPending" not in _codes(doc, "web"), err


def test_a_volume_hot_plugged_into_the_running_instance_only_blocks_the_vm(kubesim, capsys):
    kubesim.apply(builders.namespace("src") + builders.namespace("dst") +
                  builders.vm("web", "src", disks=(("rootdisk", "1Gi"),), running=True) +
                  builders.data_volume("scratch", "src", "1Gi"))
    wait_vms(kubesim, "src", ("web",))
    # `virtctl addvolume web --volume-name=scratch` without --persist: the volume is added to the instance's spec
    # (and reported in its volumeStatus), never to the VM's. kubesim serves no addvolume subresource: the instance
    # is written here as virt-controller would write it (KubeVirt's webhook refuses such an edit from a user).
    vmi = kubesim.get(VMI, "web", "src")
    spec = vmi["spec"]
    spec["volumes"].append({"name": "scratch", "dataVolume": {"name": "scratch", "hotpluggable": True}})
    spec["domain"]["devices"]["disks"].append({"name": "scratch", "disk": {"bus": "scsi"}})
    kubesim.store.update(vmi)
    code, doc, _ = _plan(kubesim, capsys, "web")
    assert code == 1
    found = _codes(doc, "web")["HotplugVolumeNotInVm"]
    assert found["severity"] == "error" and found["vms"] == ["web"]
    assert '"scratch"' in found["message"] and "--persist" in found["remedy"]


def test_a_vm_whose_datavolume_is_still_importing_is_described_as_importing(kubesim, capsys):
    kubesim.clock.speed = 0
    kubesim.apply(builders.namespace("src") + builders.namespace("dst") +
                  builders.vm("big", "src", disks=(("rootdisk", "100Gi"),), running=True))
    run_for(kubesim, 120)
    assert kubesim.get(DV, "big-rootdisk", "src")["status"]["phase"] == "ImportInProgress"
    code, doc, _ = _plan(kubesim, capsys, "big")
    assert code == 1
    found = _codes(doc, "big")
    assert "VmRunning" not in found         # it has never run: nothing to stop, no downtime to estimate
    assert "still importing" in found["VmProvisioning"]["message"]
    assert "big-rootdisk" in found["VmProvisioning"]["message"]
    assert "still importing" in found["DataVolumeNotReady"]["message"]
    assert "%" in found["DataVolumeNotReady"]["message"]

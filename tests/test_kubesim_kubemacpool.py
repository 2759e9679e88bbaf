"""kubesim's KubeMacPool: MAC allocation, the old (reject) and new (allow) duplicate handling, release and opt-out.
A move keeps MAC addresses, so these decide whether the target VM can be created while the source exists."""

import pytest

from tests.kubesim import ApiError, KubeSim, builders
from tests.kubesim.controllers.events import events_for
from tests.kubesim.controllers.testing import run_until

VM, VMI = "virtualmachines.kubevirt.io", "virtualmachineinstances.kubevirt.io"
REJECTED = ('admission webhook "mutatevirtualmachines.kubemacpool.io" denied the request: Failed to create virtual '
            'machine allocation error: Failed to allocate mac to the vm object: failed to allocate requested mac '
            'address')


def make(mode):
    sim = KubeSim(speed=0, seed=1, kubemacpool=mode)
    sim.apply(builders.namespace("a") + builders.namespace("b"))
    return sim


def small_vm(name, ns, **kw):
    return builders.vm(name, ns, disks=(("rootdisk", "1Gi"),), image=None, **kw)


def mac_of(sim, name, ns):
    return sim.get(VM, name, ns)["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][0].get("macAddress")


def test_interfaces_without_a_mac_get_one_from_the_range():
    sim = make("allow")
    sim.apply(small_vm("one", "a") + small_vm("two", "b", nad="br"))
    assert mac_of(sim, "one", "a") == "02:00:00:00:00:00"
    ifaces = sim.get(VM, "two", "b")["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"]
    assert [i["macAddress"] for i in ifaces] == ["02:00:00:00:00:01", "02:00:00:00:00:02"]
    assert sim.get(VM, "one", "a")["metadata"]["annotations"]["kubemacpool.io/transaction-timestamp"]


def test_old_kubemacpool_rejects_a_mac_held_by_another_vm_until_it_is_released():
    sim = make("reject")
    sim.apply(small_vm("src", "a"))
    mac = mac_of(sim, "src", "a")
    with pytest.raises(ApiError) as e:
        sim.apply(small_vm("src", "b", mac=mac))
    assert e.value.code == 500 and e.value.message == REJECTED
    sim.delete(VM, "src", "a")
    run_until(sim, lambda: sim.get(VM, "src", "a") is None)
    sim.apply(small_vm("src", "b", mac=mac))
    assert mac_of(sim, "src", "b") == mac


def test_new_kubemacpool_allows_duplicates_and_reports_running_collisions():
    sim = make("allow")
    sim.apply(small_vm("src", "a", running=True))
    mac = mac_of(sim, "src", "a")
    sim.apply(small_vm("src", "b", mac=mac, running=True))
    assert mac_of(sim, "src", "b") == mac

    def both_running():
        return all((sim.get(VMI, "src", ns) or {}).get("status", {}).get("phase") == "Running" for ns in "ab")
    run_until(sim, both_running)
    sim.settle()
    for ns in "ab":
        [ev] = events_for(sim.store, sim.get(VMI, "src", ns), "MACCollision")
        assert ev["type"] == "Warning"
        assert ev["message"] == f"MAC {mac}: Collision between vmi/a/src, vmi/b/src"


def test_a_vm_may_not_repeat_a_mac_in_either_mode():
    for mode in ("allow", "reject"):
        sim = make(mode)
        objs = small_vm("dup", "a", nad="br", mac="02:aa:00:00:00:01")
        objs[-1]["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][1]["macAddress"] = "02:AA:00:00:00:01"
        with pytest.raises(ApiError) as e:
            sim.apply(objs)
        assert e.value.code == 500 and "failed to allocate requested mac address" in e.value.message


def test_opted_out_namespace_is_neither_allocated_nor_tracked():
    sim = make("reject")
    sim.apply(builders.namespace("free", labels={"mutatevirtualmachines.kubemacpool.io": "ignore"}))
    sim.apply(small_vm("loose", "free"))
    assert mac_of(sim, "loose", "free") is None
    assert "kubemacpool.io/transaction-timestamp" not in (sim.get(VM, "loose", "free")["metadata"].get("annotations")
                                                          or {})
    sim.apply(small_vm("held", "free", mac="02:00:00:00:00:00"))
    sim.apply(small_vm("other", "a"))
    assert mac_of(sim, "other", "a") == "02:00:00:00:00:00"      # the opted-out VM's MAC was not tracked


def test_without_kubemacpool_macs_are_left_alone():
    sim = KubeSim(speed=0, kubemacpool=None)
    sim.apply(builders.namespace("a"))
    sim.apply(small_vm("one", "a"))
    assert mac_of(sim, "one", "a") is None


def test_allocation_is_deterministic():
    def macs():
        sim = make("allow")
        sim.apply(builders.sample_namespace("a", vms=3, disks_per_vm=1, with_service=False))
        return [mac_of(sim, f"vm-{i:04d}", "a") for i in range(1, 4)]
    assert macs() == macs() == ["02:00:00:00:00:00", "02:00:00:00:00:01", "02:00:00:00:00:02"]

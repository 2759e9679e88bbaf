"""kubesim's decentralized live migration, checked against shared/reference/live-move.md (sections cited per test):
what a user driving the two VMIMs by hand would see on a real v1.6+ cluster with the gate on."""

import copy

import pytest

from tests.kubesim import ApiError, KubeSim, builders
from tests.kubesim.controllers import controllers_of
from tests.kubesim.controllers.testing import grant, run_for, run_until

VM, VMI, DV, PVC, POD = ("virtualmachines.kubevirt.io", "virtualmachineinstances.kubevirt.io",
                         "datavolumes.cdi.kubevirt.io", "persistentvolumeclaims", "pods")
VMIM, KV = "virtualmachineinstancemigrations.kubevirt.io", "kubevirts.kubevirt.io"
GATE = "DecentralizedLiveMigration"


def enable_gate(sim):
    kv = sim.get(KV, "kubevirt", "kubevirt")
    kv["spec"]["configuration"].setdefault("developerConfiguration", {})["featureGates"] = [GATE]
    sim.apply(kv)
    sim.settle()


@pytest.fixture
def sim():
    s = KubeSim(speed=0, seed=11)
    s.apply(builders.namespace("src"))
    s.apply(builders.namespace("dst"))
    return s


def start_source(sim, size="1Gi", name="web"):
    sim.apply(builders.vm(name, "src", disks=(("rootdisk", size),), image=None, run_strategy="Always"))
    run_until(sim, lambda: (sim.get(VMI, name, "src") or {}).get("status", {}).get("phase") == "Running",
              max_seconds=600)


def receiver(sim, name="web", size="1Gi", restore=True):
    """What the UG's "Target virtual machine" section asks for: blank DVs of the same names, then the VM copy with
    WaitAsReceiver and the restore annotation."""
    sim.apply(builders.data_volume(f"{name}-rootdisk", "dst", size, {"blank": {}}))
    src = sim.get(VM, name, "src")
    spec = copy.deepcopy(src["spec"])
    spec.pop("dataVolumeTemplates", None)
    spec["runStrategy"] = "WaitAsReceiver"
    ann = {"kubevirt.io/restore-run-strategy": "Always"} if restore else {}
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": name, "namespace": "dst", "annotations": ann}, "spec": spec}


def vmim(name, ns, vmi, **role):
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
            "metadata": {"name": name, "namespace": ns}, "spec": {"vmiName": vmi, **role}}


def phase(sim, resource, name, ns):
    return ((sim.get(resource, name, ns) or {}).get("status") or {}).get("phase")


def phases(obj):
    return [p["phase"] for p in (obj.get("status") or {}).get("phaseTransitionTimestamps") or ()]


def start_move(sim, name="web", size="1Gi", connect=None, mid="11111111-2222-4333-8444-555555555555", tag=""):
    sim.apply(receiver(sim, name, size))
    run_until(sim, lambda: phase(sim, VMI, name, "dst") == "WaitingForSync", max_seconds=300)
    sim.apply(vmim("in" + tag, "dst", name, receive={"migrationID": mid}))
    sim.settle()
    addr = connect or sim.get(VMIM, "in" + tag, "dst")["status"]["synchronizationAddresses"][0]
    sim.apply(vmim("out" + tag, "src", name, sendTo={"migrationID": mid, "connectURL": addr}))
    sim.settle()
    return mid


# ------------------------------------------------------------------ gate and admission (§1.3, §1.6, §2.1)
def test_gate_off_rejects_the_receiver_vm_and_decentralized_migrations(sim):
    start_source(sim)
    with pytest.raises(ApiError) as e:
        sim.apply(receiver(sim))
    assert "Invalid RunStrategy (WaitAsReceiver), DecentralizedLiveMigration feature gate is not enabled in " \
           "kubevirt resource" in e.value.message
    with pytest.raises(ApiError) as e:
        sim.apply(vmim("out", "src", "web", sendTo={"migrationID": "x", "connectURL": "10.0.0.1:9185"}))
    assert "DecentralizedLiveMigration feature gate is not enabled in kubevirt resource" in e.value.message
    assert not sim.list(VMIM, "src")
    assert "synchronizationAddresses" not in sim.get(KV, "kubevirt", "kubevirt")["status"]


def test_gate_on_publishes_the_synchronization_address_with_the_default_port(sim):
    enable_gate(sim)
    addrs = sim.get(KV, "kubevirt", "kubevirt")["status"]["synchronizationAddresses"]
    assert len(addrs) == 1 and addrs[0].endswith(":9185")


def test_non_migratable_source_is_refused_but_rwo_disks_are_not_a_reason(sim):
    enable_gate(sim)
    start_source(sim)
    cond = next(c for c in sim.get(VMI, "web", "src")["status"]["conditions"] if c["type"] == "LiveMigratable")
    assert cond["reason"] == "DisksNotLiveMigratable"
    # virt-handler reports a bridge on the pod network: that blocks every migration.
    vmi = sim.get(VMI, "web", "src")
    for c in vmi["status"]["conditions"]:
        if c["type"] == "LiveMigratable":
            c.update(reason="InterfaceNotLiveMigratable", message="cannot migrate VMI which does not use "
                                                                  "masquerade to connect to the pod network")
    sim.internal.update(vmi)
    with pytest.raises(ApiError) as e:
        sim.apply(vmim("out", "src", "web", sendTo={"migrationID": "x", "connectURL": "10.0.0.1:9185"}))
    assert "Cannot migrate VMI, Reason: InterfaceNotLiveMigratable" in e.value.message


def test_an_ordinary_migration_is_still_accepted_for_a_live_migratable_vmi(sim):
    sim.apply(builders.vm("web", "src", disks=(), image=None, run_strategy="Always"))
    run_until(sim, lambda: phase(sim, VMI, "web", "src") == "Running", max_seconds=600)
    sim.apply(vmim("m", "src", "web"))
    created = sim.get(VMIM, "m", "src")
    assert created["metadata"]["labels"]["kubevirt.io/vmi-name"] == "web"
    with pytest.raises(ApiError) as e:
        sim.apply(vmim("m2", "src", "web"))
    assert "in-flight migration detected" in e.value.message


def test_target_vmim_before_its_receiver_vmi_is_refused(sim):
    enable_gate(sim)
    with pytest.raises(ApiError) as e:
        sim.apply(vmim("in", "dst", "web", receive={"migrationID": "x"}))
    assert 'the VMI "dst/web" does not exist' in e.value.message


def test_creating_migrations_needs_the_migrate_cluster_role_not_namespace_edit(sim):
    enable_gate(sim)
    start_source(sim)
    sim.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "dev-edit", "namespace": "src"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
               "subjects": [{"kind": "User", "name": "dev", "apiGroup": "rbac.authorization.k8s.io"}]})
    sim.settle()
    assert sim.authorize("dev", "get", "kubevirt.io", "virtualmachineinstancemigrations", namespace="src")
    assert not sim.authorize("dev", "create", "kubevirt.io", "virtualmachineinstancemigrations", namespace="src")
    role = sim.get("clusterroles.rbac.authorization.k8s.io", "kubevirt.io:migrate")
    assert {"get", "delete", "create", "update", "patch", "list", "watch", "deletecollection"} == \
        set(role["rules"][1]["verbs"])
    sim.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "kvmigrate", "namespace": "src"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": "kubevirt.io:migrate"},
               "subjects": [{"kind": "User", "name": "dev", "apiGroup": "rbac.authorization.k8s.io"}]})
    assert sim.authorize("dev", "create", "kubevirt.io", "virtualmachineinstancemigrations", namespace="src")
    assert not sim.authorize("dev", "create", "kubevirt.io", "virtualmachineinstancemigrations", namespace="dst")
    assert grant  # the helper stays importable for namespaced grants


# ------------------------------------------------------------------ the receiver (§1.6, §4.1 step 2-3)
def test_receiver_vm_waits_for_sync_without_a_pod(sim):
    enable_gate(sim)
    start_source(sim)
    sim.apply(receiver(sim))
    run_until(sim, lambda: phase(sim, VMI, "web", "dst") == "WaitingForSync", max_seconds=60)
    vmi = sim.get(VMI, "web", "dst")
    assert vmi["metadata"]["annotations"]["kubevirt.io/create-migration-target"] == "true"
    assert sim.get(VM, "web", "dst")["status"]["printableStatus"] == "WaitingForReceiver"
    run_for(sim, 120)
    assert not [p for p in sim.list(POD, "dst") if p["metadata"]["labels"].get("kubevirt.io") == "virt-launcher"]
    sim.apply(vmim("in", "dst", "web", receive={"migrationID": "m1"}))
    sim.settle()
    tgt = sim.get(VMIM, "in", "dst")
    assert tgt["status"]["phase"] == "WaitingForSync"
    assert tgt["status"]["synchronizationAddresses"] == \
        sim.get(KV, "kubevirt", "kubevirt")["status"]["synchronizationAddresses"]
    assert set(tgt["metadata"]["finalizers"]) >= {"kubevirt.io/migrationJobFinalize",
                                                  "synchronization.kubevirt.io/migrationFinalizer"}
    blocked = next(c for c in tgt["status"]["conditions"] if c["type"] == "decentralizedMigrationBlocked")
    assert blocked["message"] == "waiting for incoming synchronization, unable to proceed"


# ------------------------------------------------------------------ the happy path (§1.5, §1.11, §4.1)
def test_live_move_switches_over_halts_the_source_and_restores_the_target_run_strategy(sim):
    enable_gate(sim)
    start_source(sim)
    source_node = sim.get(VMI, "web", "src")["status"]["nodeName"]
    mid = start_move(sim)
    seen_target, seen_source = [], []

    def done():
        for seen, (name, ns) in ((seen_target, ("in", "dst")), (seen_source, ("out", "src"))):
            obj = sim.get(VMIM, name, ns)
            if obj is not None:
                seen[:] = phases(obj)
        return phase(sim, VMIM, "in", "dst") == "Succeeded" and sim.get(VMI, "web", "src") is None
    run_until(sim, done, max_seconds=600, step=0.5)
    assert seen_target == ["WaitingForSync", "Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady",
                           "Running", "Succeeded"]
    # The source VMIM is deleted as soon as its VMI goes (same pass): its last phase seen is Running or Succeeded.
    assert seen_source[:7] == ["Synchronizing", "Pending", "Scheduling", "Scheduled", "PreparingTarget",
                               "TargetReady", "Running"]
    run_for(sim, 10)
    target = sim.get(VMI, "web", "dst")
    assert target["status"]["phase"] == "Running" and target["status"]["nodeName"] != source_node
    assert "kubevirt.io/create-migration-target" not in target["metadata"].get("annotations", {})
    assert target["status"]["migrationState"]["completed"] is True
    tvm = sim.get(VM, "web", "dst")
    assert tvm["spec"]["runStrategy"] == "Always" and tvm["status"]["printableStatus"] == "Running"
    svm = sim.get(VM, "web", "src")
    assert svm["spec"]["runStrategy"] == "Halted" and svm["status"]["printableStatus"] == "Stopped"
    assert sim.get(VMIM, "out", "src") is None          # its VMI is gone, so the controller deletes it
    assert sim.get(DV, "web-rootdisk", "src") is not None and sim.get(PVC, "web-rootdisk", "src") is not None
    sw = controllers_of(sim).migration.switchovers[mid]
    assert sw["resumed"] - sw["paused"] == pytest.approx(0.25)


def test_without_the_restore_annotation_the_target_keeps_wait_as_receiver(sim):
    enable_gate(sim)
    start_source(sim)
    sim.apply(receiver(sim, restore=False))
    run_until(sim, lambda: phase(sim, VMI, "web", "dst") == "WaitingForSync", max_seconds=60)
    sim.apply(vmim("in", "dst", "web", receive={"migrationID": "m"}))
    sim.settle()
    addr = sim.get(VMIM, "in", "dst")["status"]["synchronizationAddresses"][0]
    sim.apply(vmim("out", "src", "web", sendTo={"migrationID": "m", "connectURL": addr}))
    run_until(sim, lambda: phase(sim, VMIM, "in", "dst") == "Succeeded", max_seconds=600)
    run_for(sim, 10)
    assert sim.get(VM, "web", "dst")["spec"]["runStrategy"] == "WaitAsReceiver"
    assert phase(sim, VMI, "web", "dst") == "Running"


def test_copy_time_follows_disk_size_over_bandwidth_and_the_pause_does_not(sim):
    enable_gate(sim)
    rates = controllers_of(sim).migration.rates
    rates.bandwidth_bytes_per_second = 2 ** 30           # 1 GiB/s
    start_source(sim, size="1Gi", name="small")
    start_source(sim, size="20Gi", name="big")
    took = {}
    for name, mid in (("small", "a0000000-0000-4000-8000-000000000001"),
                      ("big", "a0000000-0000-4000-8000-000000000002")):
        start_move(sim, name=name, size="1Gi" if name == "small" else "20Gi", mid=mid, tag=name)
        took[name] = run_until(sim, lambda n=name: phase(sim, VMI, n, "dst") == "Running" and
                               sim.get(VMI, n, "src") is None, max_seconds=600, step=0.5)
    sws = controllers_of(sim).migration.switchovers
    # 2 GiB of guest memory plus the disk, at 1 GiB/s: the big one takes about 19 s longer.
    assert 17 <= took["big"] - took["small"] <= 22
    pauses = {round(s["resumed"] - s["paused"], 3) for s in sws.values()}
    assert pauses == {0.25}


# ------------------------------------------------------------------ failures (§4.3)
def test_a_single_node_leaves_the_target_pod_unschedulable_then_both_fail_and_the_source_runs_on(sim):
    enable_gate(sim)
    start_source(sim)
    controllers_of(sim).migration.nodes = [sim.get(VMI, "web", "src")["status"]["nodeName"]]
    start_move(sim)
    run_for(sim, 60)
    assert phase(sim, VMIM, "in", "dst") == "Scheduling"
    run_until(sim, lambda: phase(sim, VMIM, "in", "dst") == "Failed", max_seconds=400)
    sim.settle()
    assert phase(sim, VMIM, "out", "src") == "Failed"
    assert phase(sim, VMI, "web", "src") == "Running"
    assert sim.get(VMI, "web", "src")["status"]["migrationState"]["failed"] is True
    assert phase(sim, VMI, "web", "dst") == "WaitingForSync"
    assert sim.get(VM, "web", "dst")["status"]["printableStatus"] == "WaitingForReceiver"
    assert sim.get(VM, "web", "src")["spec"]["runStrategy"] == "Always"


def test_a_missing_target_claim_keeps_the_pod_pending_until_the_pending_timeout(sim):
    enable_gate(sim)
    start_source(sim)
    start_move(sim)
    sim.delete(DV, "web-rootdisk", "dst")
    run_for(sim, 30)
    run_until(sim, lambda: phase(sim, VMIM, "in", "dst") == "Failed", max_seconds=1200, step=30)
    assert phase(sim, VMI, "web", "src") == "Running"


def test_an_unreachable_sync_address_stalls_forever(sim):
    enable_gate(sim)
    start_source(sim)
    start_move(sim, connect="10.9.9.9:9185")
    run_for(sim, 3600, step=60)
    assert phase(sim, VMIM, "out", "src") == "Synchronizing"
    assert phase(sim, VMIM, "in", "dst") == "WaitingForSync"
    cond = next(c for c in sim.get(VMIM, "out", "src")["status"]["conditions"]
                if c["type"] == "decentralizedMigrationBlocked")
    assert "10.9.9.9:9185" in cond["message"]
    assert phase(sim, VMI, "web", "src") == "Running"


def test_deleting_one_migration_mid_way_cancels_both_and_the_source_keeps_running(sim):
    enable_gate(sim)
    controllers_of(sim).migration.rates.bandwidth_bytes_per_second = 2 ** 20
    start_source(sim)
    start_move(sim)
    run_until(sim, lambda: phase(sim, VMIM, "out", "src") == "Running", max_seconds=120, step=1)
    sim.delete(VMIM, "out", "src")
    run_for(sim, 5, step=1)
    assert sim.get(VMIM, "out", "src") is None and sim.get(VMIM, "in", "dst") is None
    vmi = sim.get(VMI, "web", "src")
    assert vmi["status"]["phase"] == "Running"
    assert vmi["status"]["migrationState"]["abortStatus"] == "Succeeded"
    assert phase(sim, VMI, "web", "dst") == "WaitingForSync"
    assert not [p for p in sim.list(POD, "dst") if p["metadata"]["labels"].get("kubevirt.io") == "virt-launcher"
                and not p["metadata"].get("deletionTimestamp")]


def test_cordoned_nodes_leave_no_target_node_and_the_migration_fails(sim):
    enable_gate(sim)
    start_source(sim)
    source_node = sim.get(VMI, "web", "src")["status"]["nodeName"]
    assert len(sim.list("nodes")) >= 2
    for node in sim.list("nodes"):
        if node["metadata"]["name"] != source_node:
            node["spec"]["unschedulable"] = True
            sim.apply(node)
    start_move(sim)
    run_until(sim, lambda: phase(sim, VMIM, "in", "dst") == "Failed", max_seconds=400)
    assert phase(sim, VMI, "web", "src") == "Running"


def test_the_source_vm_shows_migrating_while_the_copy_runs(sim):
    enable_gate(sim)
    controllers_of(sim).migration.rates.bandwidth_bytes_per_second = 2 ** 20
    start_source(sim)
    start_move(sim)
    run_until(sim, lambda: phase(sim, VMIM, "out", "src") == "Running", max_seconds=120, step=1)
    assert sim.get(VM, "web", "src")["status"]["printableStatus"] == "Migrating"
    ms = sim.get(VMI, "web", "src")["status"]["migrationState"]
    assert ms["startTimestamp"] and ms["mode"] == "PreCopy" and "endTimestamp" not in ms

"""kubesim fidelity where a move meets real-cluster limits: objects the controllers create (CDI's temporary claim,
its target claim, the virt-launcher pod) go through ResourceQuota admission and are reported as CDI and KubeVirt
report a refusal; a DataVolume is judged by its phase whoever controls it; the snapshot strategy leaves the
VolumeSnapshot a real cluster shows."""

import pytest

from tests.kubesim import KubeSim, builders
from tests.kubesim.controllers.testing import event_reasons, run_for, run_until

VM, VMI, DV, PVC, POD = ("virtualmachines.kubevirt.io", "virtualmachineinstances.kubevirt.io",
                         "datavolumes.cdi.kubevirt.io", "persistentvolumeclaims", "pods")
PROFILE, SNAP = "storageprofiles.cdi.kubevirt.io", "volumesnapshots.snapshot.storage.k8s.io"


@pytest.fixture
def sim():
    s = KubeSim(speed=0, seed=5)
    s.apply(builders.namespace("src") + builders.namespace("dst"))
    return s


def quota(name, namespace, **hard):
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name, "namespace": namespace},
            "spec": {"hard": {k.replace("_", "."): v for k, v in hard.items()}}}


def source_disk(sim, name="disk", size="10Gi", storage_class=None):
    sim.apply(builders.pvc(name, "src", size, storage_class))
    run_until(sim, lambda: sim.get(PVC, name, "src")["status"]["phase"] == "Bound")


def clone(sim, name="disk", storage_class=None):
    sim.apply(builders.clone_data_volume(name, "dst", "src", name, None, storage_class, None,
                                         volume_mode="Filesystem", access_modes=["ReadWriteOnce"]))
    sim.settle()


def condition(obj, ctype):
    return next((c for c in (obj.get("status") or {}).get("conditions") or () if c["type"] == ctype), {})


def events_of(sim, obj, reason):
    from tests.kubesim.controllers.events import events_for
    return [e for e in events_for(sim.store, obj) if e["reason"] == reason]


# ------------------------------------------------------------------ quota: CDI's temporary claim
def test_temporary_claim_refused_by_the_source_quota_is_reported_as_cdi_does_then_proceeds(sim):
    source_disk(sim, "disk", "10Gi")
    sim.apply(quota("storage", "src", requests_storage="15Gi"))      # 5Gi left, the copy needs 10Gi
    clone(sim)
    run_for(sim, 30)
    target = sim.get(PVC, "disk", "dst")
    tmp = f"tmp-pvc-{target['metadata']['uid']}"
    assert sim.get(PVC, tmp, "src") is None
    ann = target["metadata"]["annotations"]
    assert ann["cdi.kubevirt.io/clonePhase"] == "Error"
    assert f'persistentvolumeclaims "{tmp}" is forbidden: exceeded quota: storage' in ann["cdi.kubevirt.io/cloneError"]
    refused = events_of(sim, target, "ErrExceededQuota")
    assert refused and refused[0]["type"] == "Warning" and "exceeded quota: storage" in refused[0]["message"]
    dv = sim.get(DV, "disk", "dst")
    # CDI maps no DataVolume phase to the populator's Error: the phase stays, the Running condition says why.
    assert dv["status"]["phase"] == "CloneScheduled"
    running = condition(dv, "Running")
    assert (running["status"], running["reason"]) == ("False", "Error")
    assert "requested: requests.storage=10Gi, used: requests.storage=10Gi, limited: requests.storage=15Gi" in \
        running["message"]

    q = sim.get("resourcequotas", "storage", "src")
    q["spec"]["hard"]["requests.storage"] = "40Gi"
    sim.apply(q)
    run_until(sim, lambda: sim.get(DV, "disk", "dst")["status"]["phase"] == "Succeeded")
    ann = sim.get(PVC, "disk", "dst")["metadata"]["annotations"]
    assert "cdi.kubevirt.io/cloneError" not in ann and ann["cdi.kubevirt.io/clonePhase"] == "Succeeded"


def test_temporary_claim_counts_against_the_source_quota_while_it_exists(sim):
    source_disk(sim, "disk", "10Gi")
    sim.apply(quota("storage", "src", requests_storage="100Gi"))
    clone(sim)
    target_uid = sim.get(PVC, "disk", "dst")["metadata"]["uid"]
    run_until(sim, lambda: sim.get(PVC, f"tmp-pvc-{target_uid}", "src") is not None, step=1)
    run_for(sim, 1, step=1)
    assert sim.get("resourcequotas", "storage", "src")["status"]["used"]["requests.storage"] == "20Gi"
    run_until(sim, lambda: sim.get(DV, "disk", "dst")["status"]["phase"] == "Succeeded")
    run_for(sim, 10)     # the pvc-protection controller lets a deleted claim go after ~6 s (storage.py)
    assert sim.get("resourcequotas", "storage", "src")["status"]["used"]["requests.storage"] == "10Gi"


# ------------------------------------------------------------------ quota: the target claim and the VM
def test_target_claim_refused_by_the_target_quota_keeps_the_datavolume_pending_and_fails_the_vm_sync(sim):
    sim.apply(quota("storage", "dst", requests_storage="1Gi"))
    sim.apply(builders.vm("web", "dst", disks=(("rootdisk", "10Gi"),), running=True))
    run_for(sim, 30)
    dv = sim.get(DV, "web-rootdisk", "dst")
    assert sim.get(PVC, "web-rootdisk", "dst") is None
    assert dv["status"]["phase"] == "Pending"
    bound = condition(dv, "Bound")
    assert (bound["status"], bound["reason"]) == ("False", "ErrExceededQuota")
    assert 'persistentvolumeclaims "web-rootdisk" is forbidden: exceeded quota: storage' in bound["message"]
    assert "ErrExceededQuota" in event_reasons(sim, dv)
    vm = sim.get(VM, "web", "dst")
    failure = condition(vm, "Failure")
    assert failure["status"] == "True" and failure["reason"] == "FailedCreate"
    assert "DataVolume web-rootdisk importer is not running due to an error: persistentvolumeclaims" in \
        failure["message"]
    assert any(e["message"] == "DataVolume web-rootdisk exceeds quota limits"
               for e in events_of(sim, vm, "FailedDataVolumeImport"))
    assert sim.get(VMI, "web", "dst") is None

    q = sim.get("resourcequotas", "storage", "dst")
    q["spec"]["hard"]["requests.storage"] = "50Gi"
    sim.apply(q)
    run_until(sim, lambda: (sim.get(VMI, "web", "dst") or {}).get("status", {}).get("phase") == "Running",
              max_seconds=7200)
    assert not condition(sim.get(VM, "web", "dst"), "Failure")


def test_launcher_pod_refused_by_a_pod_quota_leaves_the_vmi_pending_until_the_quota_allows(sim):
    sim.apply(quota("pods", "dst", pods="0"))
    sim.apply(builders.vm("web", "dst", disks=(("rootdisk", "1Gi"),), running=True))
    run_until(sim, lambda: sim.get(VMI, "web", "dst") is not None, max_seconds=7200)
    run_for(sim, 30)
    vmi = sim.get(VMI, "web", "dst")
    assert vmi["status"]["phase"] == "Pending" and not sim.list(POD, "dst")
    sync = condition(vmi, "Synchronized")
    assert (sync["status"], sync["reason"]) == ("False", "FailedCreate")
    assert 'is forbidden: exceeded quota: pods, requested: pods=1, used: pods=0, limited: pods=0' in sync["message"]
    assert "FailedCreate" in event_reasons(sim, vmi)
    q = sim.get("resourcequotas", "pods", "dst")
    q["spec"]["hard"]["pods"] = "1"
    sim.apply(q)
    run_until(sim, lambda: sim.get(VMI, "web", "dst")["status"].get("phase") == "Running")
    assert not condition(sim.get(VMI, "web", "dst"), "Synchronized")


# ------------------------------------------------------------------ DataVolume readiness (handleDataVolumes)
def test_a_succeeded_datavolume_controlled_by_another_owner_does_not_block_the_vm_start(sim):
    owner = sim.apply(builders.configmap("keeper", "dst", {"a": "b"}))[0]
    sim.apply(builders.pvc("seed", "dst", "1Gi"))
    run_until(sim, lambda: sim.get(PVC, "seed", "dst")["status"]["phase"] == "Bound")
    objs = builders.vm("web", "dst", disks=(("rootdisk", "1Gi"),), running=True)
    dv = builders.clone_data_volume("web-rootdisk", "dst", "dst", "seed", "1Gi", None, None,
                                    volume_mode="Filesystem", access_modes=["ReadWriteOnce"])[0]
    dv["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "keeper",
                                          "uid": owner["metadata"]["uid"], "controller": True}]
    sim.apply(dv)
    run_until(sim, lambda: sim.get(DV, "web-rootdisk", "dst")["status"].get("phase") == "Succeeded")
    sim.apply(objs)
    # KubeVirt looks at the phase only: the VM starts on the DataVolume it does not control.
    run_until(sim, lambda: (sim.get(VMI, "web", "dst") or {}).get("status", {}).get("phase") == "Running")
    assert sim.get(DV, "web-rootdisk", "dst")["metadata"]["ownerReferences"][0]["kind"] == "ConfigMap"


# ------------------------------------------------------------------ snapshot strategy
def _snapshot_profile(sim):
    prof = sim.get(PROFILE, "ceph-rbd")
    prof["spec"]["cloneStrategy"] = "snapshot"
    sim.apply(prof)


def test_snapshot_strategy_takes_a_temporary_volume_snapshot_in_the_source_namespace_and_removes_it(sim):
    _snapshot_profile(sim)
    source_disk(sim, "disk", "20Gi", "ceph-rbd")
    clone(sim, storage_class="ceph-rbd")
    target_uid = sim.get(PVC, "disk", "dst")["metadata"]["uid"]
    name = f"tmp-snapshot-{target_uid}"
    run_until(sim, lambda: sim.get(SNAP, name, "src") is not None, step=1)
    snap = sim.get(SNAP, name, "src")
    assert snap["spec"] == {"source": {"persistentVolumeClaimName": "disk"},
                            "volumeSnapshotClassName": "ceph-rbd-snapclass"}
    assert snap["metadata"]["labels"]["cdi.kubevirt.io/OwnedByUID"] == target_uid
    assert snap["status"]["readyToUse"] is False
    assert sim.get(DV, "disk", "dst")["status"]["phase"] == "SnapshotForSmartCloneInProgress"
    assert sim.get(PVC, f"tmp-pvc-{target_uid}", "src") is None       # made from the snapshot, once it is ready
    run_until(sim, lambda: sim.get(PVC, f"tmp-pvc-{target_uid}", "src") is not None, step=1)
    snap = sim.get(SNAP, name, "src")
    assert snap["status"]["readyToUse"] is True and snap["status"]["restoreSize"] == "20Gi"
    tmp = sim.get(PVC, f"tmp-pvc-{target_uid}", "src")
    assert tmp["spec"]["dataSource"] == {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                                         "name": name}
    run_until(sim, lambda: sim.get(DV, "disk", "dst")["status"]["phase"] == "Succeeded")
    run_for(sim, 10)     # the pvc-protection controller lets a deleted claim go after ~6 s (storage.py)
    assert sim.get(SNAP, name, "src") is None and sim.get(PVC, f"tmp-pvc-{target_uid}", "src") is None


def test_deleting_the_datavolume_mid_snapshot_removes_the_temporary_snapshot(sim):
    _snapshot_profile(sim)
    source_disk(sim, "disk", "20Gi", "ceph-rbd")
    clone(sim, storage_class="ceph-rbd")
    target_uid = sim.get(PVC, "disk", "dst")["metadata"]["uid"]
    run_until(sim, lambda: sim.get(SNAP, f"tmp-snapshot-{target_uid}", "src") is not None, step=1)
    sim.delete(DV, "disk", "dst")
    run_until(sim, lambda: sim.get(DV, "disk", "dst") is None)
    assert sim.get(SNAP, f"tmp-snapshot-{target_uid}", "src") is None


# ------------------------------------------------------------------ WaitForFirstConsumer start ordering
def test_vm_on_a_legacy_wait_for_first_consumer_disk_boots_only_after_cdi_filled_it(sim):
    """Non-CSI WaitForFirstConsumer class: KubeVirt binds the claim with a temporary pod and creates the real
    virt-launcher pod once the DataVolume succeeded, so the guest never boots on a half-copied disk."""
    sim.apply(builders.vm("web", "dst", disks=(("rootdisk", "5Gi"),), storage_class="local-hostpath",
                          running=True))
    seen = []

    def booted():
        dv_phase = ((sim.get(DV, "web-rootdisk", "dst") or {}).get("status") or {}).get("phase")
        vmi = sim.get(VMI, "web", "dst") or {}
        pods = sim.list(POD, "dst")
        seen.append((dv_phase, (vmi.get("status") or {}).get("phase"),
                     sorted((p["metadata"].get("annotations") or {}).get("kubevirt.io/ephemeral-provisioning", "")
                            for p in pods)))
        return (vmi.get("status") or {}).get("phase") == "Running"
    run_until(sim, booted, max_seconds=7200, step=2)
    # Before the copy finished there was only the temporary pod, and the VMI never left Pending.
    for dv_phase, vmi_phase, pods in seen:
        if dv_phase != "Succeeded":
            assert vmi_phase in (None, "Pending") and pods in ([], ["true"]), seen
    assert any(dv == "ImportInProgress" and pods == ["true"] for dv, _, pods in seen), seen
    pods = sim.list(POD, "dst")
    assert len(pods) == 1 and "kubevirt.io/ephemeral-provisioning" not in pods[0]["metadata"]["annotations"]
    assert sim.get(PVC, "web-rootdisk", "dst")["status"]["phase"] == "Bound"

"""kubesim's storage and CDI: the disk copies and rebinds `kubectl vmmove` drives, with CDI's strategies,
fallbacks, progress, failures and authorisation."""

import re

import pytest

from tests.kubesim import ApiError, KubeSim, builders
from tests.kubesim.controllers import controllers_of
from tests.kubesim.controllers.testing import event_reasons, grant, http, run_for, run_until

VM, VMI, DV, PVC, PV, POD = ("virtualmachines.kubevirt.io", "virtualmachineinstances.kubevirt.io",
                             "datavolumes.cdi.kubevirt.io", "persistentvolumeclaims", "persistentvolumes", "pods")
PROFILE, CDI, OT = "storageprofiles.cdi.kubevirt.io", "cdis.cdi.kubevirt.io", "objecttransfers.cdi.kubevirt.io"
GiB = 2 ** 30


@pytest.fixture
def sim():
    s = KubeSim(speed=0, seed=11)
    s.apply(builders.namespace("src") + builders.namespace("dst"))
    return s


def source_disk(sim, name="disk", size="10Gi", storage_class=None, ns="src", volume_mode="Filesystem"):
    sim.apply(builders.pvc(name, ns, size, storage_class, volume_mode=volume_mode))
    run_until(sim, lambda: sim.get(PVC, name, ns)["status"]["phase"] == "Bound")


def dv_status(sim, name, ns="dst"):
    return (sim.get(DV, name, ns) or {}).get("status") or {}


def succeeded(sim, name, ns="dst"):
    return dv_status(sim, name, ns).get("phase") == "Succeeded"


def clone(sim, name="disk", src_ns="src", dst_ns="dst", size=None, storage_class=None, annotations=None):
    sim.apply(builders.clone_data_volume(name, dst_ns, src_ns, name, size, storage_class, annotations,
                                         volume_mode="Filesystem", access_modes=["ReadWriteOnce"]))
    sim.settle()


def phases_of(sim, name, ns="dst", max_seconds=7200, step=1.0):
    """The DataVolume phases seen until it succeeds (or its Running condition reports an error)."""
    seen = []

    def done():
        st = dv_status(sim, name, ns)
        if st.get("phase") and (not seen or seen[-1] != st["phase"]):
            seen.append(st["phase"])
        running = next((c for c in st.get("conditions") or () if c["type"] == "Running"), {})
        return st.get("phase") == "Succeeded" or running.get("reason") == "Error"
    took = run_until(sim, done, max_seconds=max_seconds, step=step)
    return seen, took


# ------------------------------------------------------------------ storage
def test_claims_bind_to_dynamically_provisioned_volumes(sim):
    source_disk(sim, "a", "5Gi")
    pvc = sim.get(PVC, "a", "src")
    pv = sim.get(PV, pvc["spec"]["volumeName"], None)
    assert pv["metadata"]["name"] == f"pvc-{pvc['metadata']['uid']}"
    assert pvc["spec"]["storageClassName"] == "standard"          # the default class was filled in
    assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete" and pv["status"]["phase"] == "Bound"
    assert pvc["status"]["capacity"] == {"storage": "5Gi"} and pv["spec"]["capacity"] == {"storage": "5Gi"}
    assert "kubernetes.io/pvc-protection" in pvc["metadata"]["finalizers"]
    sim.delete(PVC, "a", "src")
    run_until(sim, lambda: sim.get(PV, pv["metadata"]["name"], None) is None)


def test_retained_volume_is_released_and_rebinds_through_its_claim_ref(sim):
    source_disk(sim, "a", "5Gi")
    pv_name = sim.get(PVC, "a", "src")["spec"]["volumeName"]
    pv = sim.get(PV, pv_name, None)
    pv["spec"]["persistentVolumeReclaimPolicy"] = "Retain"
    sim.apply(pv)
    sim.delete(PVC, "a", "src")
    run_until(sim, lambda: sim.get(PV, pv_name, None)["status"]["phase"] == "Released")
    pv = sim.get(PV, pv_name, None)
    pv["spec"]["claimRef"] = {"namespace": "dst", "name": "a"}        # uid cleared: reserved for dst/a
    sim.apply(pv)
    run_until(sim, lambda: sim.get(PV, pv_name, None)["status"]["phase"] == "Available")
    sim.apply(builders.pvc("a", "dst", "5Gi", "standard", volume_name=pv_name))
    run_until(sim, lambda: sim.get(PVC, "a", "dst")["status"]["phase"] == "Bound")
    assert sim.get(PV, pv_name, None)["spec"]["claimRef"]["uid"] == sim.get(PVC, "a", "dst")["metadata"]["uid"]


def test_claim_in_use_by_a_running_vm_is_only_deleted_once_the_vm_stops(sim):
    sim.apply(builders.vm("web", "src", disks=(("rootdisk", "1Gi"),), disk_mode="pvc", running=True, image=None))
    run_until(sim, lambda: (sim.get(VMI, "web", "src") or {}).get("status", {}).get("phase") == "Running")
    sim.delete(PVC, "web-rootdisk", "src")
    run_for(sim, 30)
    assert sim.get(PVC, "web-rootdisk", "src")["metadata"]["deletionTimestamp"]
    vm = sim.get(VM, "web", "src")
    vm["spec"]["runStrategy"] = "Halted"
    sim.apply(vm)
    run_until(sim, lambda: sim.get(PVC, "web-rootdisk", "src") is None)


# ------------------------------------------------------------------ CDI objects and profiles
def test_cdi_reports_version_and_storage_profiles_compute_clone_strategies(sim):
    assert sim.get(CDI, "cdi")["status"]["observedVersion"] == "v1.61.0"
    strategies = {p["metadata"]["name"]: p["status"]["cloneStrategy"] for p in sim.list(PROFILE)}
    # standard: no snapshot class -> copy; ceph-rbd: CDI advises csi-clone; local-hostpath: not CSI -> copy.
    assert strategies == {"standard": "copy", "ceph-rbd": "csi-clone", "local-hostpath": "copy"}
    assert sim.get(PROFILE, "ceph-rbd")["status"]["snapshotClass"] == "ceph-rbd-snapclass"
    sim.apply(builders.storage_class("annotated", "rbd.csi.ceph.com", clone_strategy="snapshot"))
    prof = sim.get(PROFILE, "ceph-rbd")
    prof["spec"]["cloneStrategy"] = "copy"
    sim.apply(prof)
    sim.settle()
    assert sim.get(PROFILE, "annotated")["status"]["cloneStrategy"] == "snapshot"
    assert sim.get(PROFILE, "ceph-rbd")["status"]["cloneStrategy"] == "copy"


# ------------------------------------------------------------------ clone strategies
def test_csi_clone_takes_seconds_whatever_the_size_and_rebinds_a_temporary_claim(sim):
    source_disk(sim, "disk", "500Gi", "ceph-rbd")
    clone(sim, storage_class="ceph-rbd")
    target = sim.get(PVC, "disk", "dst")
    assert target["spec"]["dataSourceRef"]["kind"] == "VolumeCloneSource"
    assert target["metadata"]["annotations"]["cdi.kubevirt.io/dataSourceNamespace"] == "src"
    tmp = f"tmp-pvc-{target['metadata']['uid']}"
    run_for(sim, 1, step=1)
    assert sim.get(PVC, tmp, "src") is not None                     # built in the source namespace
    phases, took = phases_of(sim, "disk")
    assert phases[0] in ("CloneScheduled", "CSICloneInProgress") and "CSICloneInProgress" in phases
    assert phases[-2:] == ["RebindInProgress", "Succeeded"] and took < 60
    st = dv_status(sim, "disk")
    assert st["progress"] == "100.0%" and st["claimName"] == "disk"
    conds = {c["type"]: (c["status"], c.get("reason")) for c in st["conditions"]}
    assert conds["Ready"][0] == "True" and conds["Bound"] == ("True", "Bound")
    assert conds["Running"] == ("False", "Completed")
    run_for(sim, 10)     # the pvc-protection controller lets a deleted claim go after ~6 s (storage.py)
    assert sim.get(PVC, tmp, "src") is None
    pv = sim.get(PV, sim.get(PVC, "disk", "dst")["spec"]["volumeName"], None)
    assert pv["spec"]["claimRef"]["namespace"] == "dst"
    assert "cdi.kubevirt.io/dataVolumeFinalizer" not in (sim.get(DV, "disk", "dst")["metadata"].get("finalizers")
                                                         or [])
    assert "CloneSucceeded" in event_reasons(sim, sim.get(DV, "disk", "dst"))


def test_snapshot_strategy_goes_through_snapshot_phases(sim):
    prof = sim.get(PROFILE, "ceph-rbd")
    prof["spec"]["cloneStrategy"] = "snapshot"
    sim.apply(prof)
    source_disk(sim, "disk", "20Gi", "ceph-rbd")
    clone(sim, storage_class="ceph-rbd")
    phases, _ = phases_of(sim, "disk")
    assert "SnapshotForSmartCloneInProgress" in phases and "CloneFromSnapshotSourceInProgress" in phases
    assert phases[-1] == "Succeeded"


def test_host_copy_reports_progress_and_runs_at_the_copy_rate(sim):
    source_disk(sim, "disk", "100Gi")
    clone(sim)
    seen = set()

    def done():
        st = dv_status(sim, "disk")
        seen.add(st.get("progress"))
        return st.get("phase") == "Succeeded"
    took = run_until(sim, done, max_seconds=7200, step=30)
    # 100 GiB at 100 MiB/s: about 17 simulated minutes.
    assert 1000 <= took <= 1100
    partial = [p for p in seen if p not in ("N/A", "100.0%", None)]
    assert partial and all(re.fullmatch(r"\d{1,2}\.\d\d%", p) for p in partial)
    assert dv_status(sim, "disk")["progress"] == "100.0%"


def test_copy_rate_is_configurable(sim):
    controllers_of(sim).cdi.rates.host_copy_bytes_per_second = 10 * GiB
    source_disk(sim, "disk", "100Gi")
    clone(sim)
    assert run_until(sim, lambda: succeeded(sim, "disk"), step=1) < 30


def test_cdi_override_takes_precedence_over_the_profile(sim):
    cdi = sim.get(CDI, "cdi")
    cdi["spec"]["cloneStrategyOverride"] = "copy"
    sim.apply(cdi)
    source_disk(sim, "disk", "1Gi", "ceph-rbd")
    clone(sim, storage_class="ceph-rbd")
    phases, _ = phases_of(sim, "disk")
    assert "CloneInProgress" in phases and "CSICloneInProgress" not in phases


FALLBACKS = {
    "NoVolumeSnapshotClass": "No compatible volumesnapshotclass found",
    "IncompatibleProvisioners": "Provisioners are incompatible",
    "IncompatibleVolumeModes": "The volume modes of source and target are incompatible",
    "NoVolumeExpansion": "No volume expansion is possible",
}


@pytest.mark.parametrize("reason", sorted(FALLBACKS))
def test_fallbacks_to_host_copy_are_announced(sim, reason):
    target_class, size = "ceph-rbd", None
    if reason == "NoVolumeSnapshotClass":
        cdi = sim.get(CDI, "cdi")
        cdi["spec"]["cloneStrategyOverride"] = "snapshot"
        sim.apply(cdi)
        source_disk(sim, "disk", "1Gi")
        target_class = "standard"
    elif reason == "IncompatibleProvisioners":
        source_disk(sim, "disk", "1Gi", "standard")
    elif reason == "IncompatibleVolumeModes":
        source_disk(sim, "disk", "1Gi", "ceph-rbd", volume_mode="Block")
    else:
        sim.apply(builders.storage_class("rbd-fixed", "rbd.csi.ceph.com", expand=False))
        source_disk(sim, "disk", "1Gi", "rbd-fixed")
        target_class, size = "rbd-fixed", "2Gi"
    sim.apply(builders.data_volume("disk", "dst", size, {"pvc": {"namespace": "src", "name": "disk"}},
                                   target_class, volume_mode="Filesystem", access_modes=["ReadWriteOnce"]))
    phases, _ = phases_of(sim, "disk")
    assert "CloneInProgress" in phases and phases[-1] == "Succeeded"
    target = sim.get(PVC, "disk", "dst")
    assert target["metadata"]["annotations"]["cdi.kubevirt.io/cloneFallbackReason"] == FALLBACKS[reason]
    from tests.kubesim.controllers.events import events_for
    [ev] = events_for(sim.store, target, reason)
    assert ev["type"] == "Warning" and ev["message"] == FALLBACKS[reason]
    assert ev["involvedObject"]["namespace"] == "dst" and ev["metadata"]["namespace"] == "dst"


def test_legacy_host_assisted_clone_into_a_non_csi_class(sim):
    source_disk(sim, "disk", "1Gi", "ceph-rbd")
    sim.apply(builders.data_volume("disk", "dst", "1Gi", {"pvc": {"namespace": "src", "name": "disk"}},
                                   "local-hostpath", annotations={
                                       "cdi.kubevirt.io/storage.bind.immediate.requested": "true"}))
    phases, _ = phases_of(sim, "disk")
    assert phases[-2:] == ["CloneInProgress", "Succeeded"]
    target = sim.get(PVC, "disk", "dst")
    assert target["metadata"]["annotations"]["k8s.io/CloneRequest"] == "src/disk"
    assert "NoPopulator" in event_reasons(sim, target)


def test_clone_waits_while_the_source_is_in_use(sim):
    sim.apply(builders.vm("web", "src", disks=(("rootdisk", "1Gi"),), disk_mode="pvc", running=True, image=None))
    run_until(sim, lambda: (sim.get(VMI, "web", "src") or {}).get("status", {}).get("phase") == "Running")
    sim.apply(builders.clone_data_volume("web-rootdisk", "dst", "src", "web-rootdisk"))
    run_for(sim, 120)
    assert dv_status(sim, "web-rootdisk")["phase"] == "CloneScheduled"
    target = sim.get(PVC, "web-rootdisk", "dst")
    from tests.kubesim.controllers.events import events_for
    [ev] = events_for(sim.store, target, "CloneSourceInUse")
    assert ev["type"] == "Warning" and ev["count"] > 1
    assert re.fullmatch(r"pod src/virt-launcher-web-\w{5} using PersistentVolumeClaim web-rootdisk", ev["message"])
    vm = sim.get(VM, "web", "src")
    vm["spec"]["runStrategy"] = "Halted"
    sim.apply(vm)
    run_until(sim, lambda: succeeded(sim, "web-rootdisk"), max_seconds=600)


def test_clone_failure_part_way_is_reported_like_cdi_does(sim):
    sim.faults.fail_clone("disk", at_percent=40, message="clone source pod crashed: I/O error")
    source_disk(sim, "disk", "10Gi")
    clone(sim)
    phases, _ = phases_of(sim, "disk", step=1)
    st = dv_status(sim, "disk")
    assert st["phase"] == "CloneInProgress" and st["progress"] == "40.00%"    # never Failed in the populator flow
    running = next(c for c in st["conditions"] if c["type"] == "Running")
    assert (running["status"], running["reason"]) == ("False", "Error")
    assert running["message"] == "clone source pod crashed: I/O error"
    ann = sim.get(PVC, "disk", "dst")["metadata"]["annotations"]
    assert ann["cdi.kubevirt.io/cloneError"] == "clone source pod crashed: I/O error"
    assert ann["cdi.kubevirt.io/clonePhase"] == "Error"
    assert "CloneFailed" in event_reasons(sim, sim.get(DV, "disk", "dst"))
    run_for(sim, 600, step=60)
    assert dv_status(sim, "disk")["phase"] == "CloneInProgress"


# ------------------------------------------------------------------ authorisation
def test_cross_namespace_clone_needs_datavolumes_source_in_the_source_namespace(kubesim_factory):
    live = kubesim_factory(speed=0, seed=11)
    live.apply(builders.namespace("src") + builders.namespace("dst"))
    source_disk(live, "disk", "1Gi")
    grant(live, "dst", "bob", [{"apiGroups": ["cdi.kubevirt.io"], "resources": ["datavolumes"],
                                "verbs": ["create", "get"]}], name="dv-editor")
    body = builders.clone_data_volume("disk", "dst", "src", "disk")[0]
    code, status = http(live, "POST", "/apis/cdi.kubevirt.io/v1beta1/namespaces/dst/datavolumes", body, user="bob")
    assert code == 422
    assert status["message"] == ('admission webhook "datavolume-mutate.cdi.kubevirt.io" denied the request:  '
                                 'User bob has insufficient permissions in clone source namespace src')
    grant(live, "src", "bob", [{"apiGroups": ["cdi.kubevirt.io"], "resources": ["datavolumes/source"],
                                "verbs": ["create"]}], name="clone-sourcer")
    code, created = http(live, "POST", "/apis/cdi.kubevirt.io/v1beta1/namespaces/dst/datavolumes", body, user="bob")
    assert code == 201
    assert created["metadata"]["annotations"]["cdi.kubevirt.io/storage.clone.token"]


def test_vm_template_clone_is_authorised_for_the_vm_service_account(sim):
    source_disk(sim, "golden", "1Gi")
    objs = builders.vm("web", "dst", disks=(("rootdisk", "1Gi"),), image=None)
    objs[-1]["spec"]["dataVolumeTemplates"][0]["spec"]["source"] = {"pvc": {"namespace": "src", "name": "golden"}}
    sim.apply(objs)
    run_for(sim, 10)
    assert sim.get(DV, "web-rootdisk", "dst") is None
    vm = sim.get(VM, "web", "dst")
    failure = next(c for c in vm["status"]["conditions"] if c["type"] == "Failure")
    assert "User system:serviceaccount:dst:default has insufficient permissions in clone source namespace src" \
        in failure["message"]
    assert "UnauthorizedDataVolumeCreate" in event_reasons(sim, vm)
    grant(sim, "src", "system:serviceaccount:dst:default",
          [{"apiGroups": ["cdi.kubevirt.io"], "resources": ["datavolumes/source"], "verbs": ["create"]}])
    run_until(sim, lambda: succeeded(sim, "web-rootdisk"), max_seconds=600)
    assert not any(c["type"] == "Failure" for c in sim.get(VM, "web", "dst")["status"]["conditions"])


# ------------------------------------------------------------------ adoption, pre-population, imports
def test_claim_adoption_marks_the_datavolume_succeeded_without_copying(sim):
    source_disk(sim, "disk", "10Gi", ns="dst")
    sim.apply(builders.clone_data_volume("disk", "dst", "src", "missing-source", "10Gi",
                                         annotations={"cdi.kubevirt.io/allowClaimAdoption": "true"}))
    sim.settle()
    st = dv_status(sim, "disk")
    assert st["phase"] == "Succeeded" and st["progress"] == "100.0%"
    pvc = sim.get(PVC, "disk", "dst")
    assert pvc["metadata"]["ownerReferences"][0]["kind"] == "DataVolume"


def test_existing_claim_without_adoption_is_refused(sim):
    source_disk(sim, "disk", "1Gi", ns="dst")
    with pytest.raises(ApiError) as e:
        sim.apply(builders.data_volume("disk", "dst", "1Gi"))
    assert e.value.code == 422 and "Destination PVC dst/disk already exists" in e.value.message


def test_pre_populated_datavolume_waits_for_and_takes_its_claim(sim):
    sim.apply(builders.data_volume("disk", "dst", "1Gi", annotations={"cdi.kubevirt.io/storage.prePopulated": "disk"}))
    run_for(sim, 10)
    assert dv_status(sim, "disk")["phase"] == "Pending" and sim.get(PVC, "disk", "dst") is None
    source_disk(sim, "disk", "1Gi", ns="dst")
    sim.settle()
    assert dv_status(sim, "disk")["phase"] == "Succeeded"


def test_blank_and_imported_disks(sim):
    sim.apply(builders.data_volume("blank", "dst", "1Gi"))
    sim.apply(builders.data_volume("img", "dst", "5Gi", {"http": {"url": "https://example.com/disk.qcow2"}}))
    run_until(sim, lambda: succeeded(sim, "blank") and succeeded(sim, "img"), max_seconds=600, step=2)
    assert "ImportSucceeded" in event_reasons(sim, sim.get(DV, "img", "dst"))


# ------------------------------------------------------------------ ObjectTransfer
def test_object_transfer_moves_the_volume_without_copying(sim):
    source_disk(sim, "disk", "200Gi")
    pv_name = sim.get(PVC, "disk", "src")["spec"]["volumeName"]
    sim.apply({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "ObjectTransfer", "metadata": {"name": "move-disk"},
               "spec": {"source": {"kind": "PersistentVolumeClaim", "namespace": "src", "name": "disk"},
                        "target": {"namespace": "dst"}}})
    took = run_until(sim, lambda: (sim.get(OT, "move-disk") or {}).get("status", {}).get("phase") == "Complete",
                     step=1)
    assert took < 30
    assert sim.get(PVC, "disk", "src") is None
    moved = sim.get(PVC, "disk", "dst")
    assert moved["spec"]["volumeName"] == pv_name and moved["status"]["phase"] == "Bound"
    pv = sim.get(PV, pv_name, None)
    assert pv["spec"]["claimRef"]["namespace"] == "dst"
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"         # restored after the move
    cond = sim.get(OT, "move-disk")["status"]["conditions"][0]
    assert (cond["type"], cond["status"]) == ("Complete", "True")


def test_object_transfer_refuses_an_existing_target(sim):
    source_disk(sim, "disk", "1Gi")
    source_disk(sim, "disk", "1Gi", ns="dst")
    with pytest.raises(ApiError) as e:
        sim.apply({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "ObjectTransfer", "metadata": {"name": "t"},
                   "spec": {"source": {"kind": "PersistentVolumeClaim", "namespace": "src", "name": "disk"},
                            "target": {"namespace": "dst"}}})
    assert "already exists" in e.value.message


def test_object_transfer_waits_while_a_pod_uses_the_claim(sim):
    sim.apply(builders.vm("web", "src", disks=(("rootdisk", "1Gi"),), disk_mode="pvc", running=True, image=None))
    run_until(sim, lambda: (sim.get(VMI, "web", "src") or {}).get("status", {}).get("phase") == "Running")
    sim.apply({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "ObjectTransfer", "metadata": {"name": "t"},
               "spec": {"source": {"kind": "PersistentVolumeClaim", "namespace": "src", "name": "web-rootdisk"},
                        "target": {"namespace": "dst"}}})
    run_for(sim, 30)
    ot = sim.get(OT, "t")
    assert ot["status"]["phase"] == "Pending" and ot["status"]["conditions"][0]["reason"] == "Pods using PVC"


def test_results_are_deterministic_for_a_seed():
    def run(seed):
        s = KubeSim(speed=0, seed=seed)
        s.apply(builders.namespace("src") + builders.namespace("dst"))
        source_disk(s, "disk", "1Gi", "ceph-rbd")
        clone(s, storage_class="ceph-rbd")
        run_until(s, lambda: succeeded(s, "disk"))
        return sorted(p["metadata"]["name"] for p in s.list(PV)), s.get(PVC, "disk", "dst")["metadata"]["uid"]
    assert run(5) == run(5)
    assert run(5) != run(6)


def test_source_ref_resolves_a_data_source_in_another_namespace(sim):
    source_disk(sim, "fedora-golden", "2Gi")
    sim.apply({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataSource",
               "metadata": {"name": "fedora", "namespace": "src"},
               "spec": {"source": {"pvc": {"namespace": "src", "name": "fedora-golden"}}}})
    sim.apply({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
               "metadata": {"name": "root", "namespace": "dst"},
               "spec": {"sourceRef": {"kind": "DataSource", "namespace": "src", "name": "fedora"},
                        "storage": {"volumeMode": "Filesystem", "accessModes": ["ReadWriteOnce"]}}})
    run_until(sim, lambda: succeeded(sim, "root"), max_seconds=600)
    assert sim.get(PVC, "root", "dst")["spec"]["resources"]["requests"]["storage"] == "2Gi"


def test_a_storage_size_is_inflated_by_the_filesystem_overhead_but_a_pvc_size_is_not(sim):
    # CDI pkg/controller/datavolume/util.go renderPvcSpecVolumeSize: a size given in `spec.storage` for a Filesystem
    # claim is raised by the filesystem overhead (CDI pkg/common DefaultGlobalOverhead "0.06"; util.GetRequiredSpace
    # rounds to 1 MiB, then * 1.06), clones included; `spec.pvc` is used verbatim (renderPvcSpec), and Block claims
    # carry no overhead.
    source_disk(sim, "disk", "10Gi", "ceph-rbd")
    clone(sim, "disk", size="10Gi", storage_class="ceph-rbd")
    sim.apply(builders.data_volume("blockdisk", "dst", "10Gi", storage_class="ceph-rbd", volume_mode="Block",
                                   access_modes=["ReadWriteOnce"]))
    exact = builders.clone_data_volume("exact", "dst", "src", "disk")[0]
    exact["spec"].pop("storage")
    exact["spec"]["pvc"] = {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem",
                            "storageClassName": "ceph-rbd", "resources": {"requests": {"storage": "10Gi"}}}
    sim.apply([exact])
    run_until(sim, lambda: all(sim.get(PVC, n, "dst") for n in ("disk", "blockdisk", "exact")))
    size = {n: sim.get(PVC, n, "dst")["spec"]["resources"]["requests"]["storage"]
            for n in ("disk", "blockdisk", "exact")}
    assert size == {"disk": str(int(10 * GiB * 1.06) + 1), "blockdisk": "10Gi", "exact": "10Gi"}

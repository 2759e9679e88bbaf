"""kubesim's KubeVirt: the behaviour `kubectl vmmove` relies on when it stops, recreates and starts VMs."""

import pytest

from tests.kubesim import ApiError, KubeSim, builders
from tests.kubesim.controllers import vm_lifecycle
from tests.kubesim.controllers.kubevirt import legacy_firmware_uuid
from tests.kubesim.controllers.testing import event_reasons, grant, run_for, run_until, vm_action

VM, VMI, DV, PVC, POD = ("virtualmachines.kubevirt.io", "virtualmachineinstances.kubevirt.io",
                         "datavolumes.cdi.kubevirt.io", "persistentvolumeclaims", "pods")


@pytest.fixture
def sim():
    s = KubeSim(speed=0, seed=7)
    s.apply(builders.namespace("prod"))
    return s


@pytest.fixture
def live(kubesim_factory):
    s = kubesim_factory(speed=0, seed=7)
    s.apply(builders.namespace("prod"))
    return s


def vm_status(sim, name, ns="prod"):
    return (sim.get(VM, name, ns) or {}).get("status") or {}


def running(sim, name, ns="prod"):
    vmi = sim.get(VMI, name, ns)
    return vmi is not None and vmi.get("status", {}).get("phase") == "Running"


def launcher_pods(sim, name, ns="prod"):
    return [p for p in sim.list(POD, ns) if p["metadata"]["labels"].get("vm.kubevirt.io/name") == name]


def small_vm(name, **kw):
    kw.setdefault("disks", (("rootdisk", "1Gi"),))
    kw.setdefault("image", None)
    return builders.vm(name, "prod", **kw)


# ------------------------------------------------------------------ webhooks
def test_new_vm_gets_random_firmware_uuid_and_serial_but_keeps_given_ones(sim):
    sim.apply(small_vm("a"))
    sim.apply(small_vm("b", firmware_uuid="11111111-2222-3333-4444-555555555555"))
    fw_a = sim.get(VM, "a", "prod")["spec"]["template"]["spec"]["domain"]["firmware"]
    fw_b = sim.get(VM, "b", "prod")["spec"]["template"]["spec"]["domain"]["firmware"]
    assert fw_a["uuid"] != legacy_firmware_uuid("a") and len(fw_a["uuid"]) == 36 and len(fw_a["serial"]) == 36
    assert fw_b["uuid"] == "11111111-2222-3333-4444-555555555555"
    # An update does not touch them, and nothing else in the spec is normalised.
    vm = sim.get(VM, "a", "prod")
    vm["metadata"]["labels"]["x"] = "y"
    sim.apply(vm)
    after = sim.get(VM, "a", "prod")
    assert after["spec"]["template"]["spec"]["domain"]["firmware"] == fw_a
    assert "machine" not in after["spec"]["template"]["spec"]["domain"]


def test_firmware_identity_is_reproducible_for_a_seed():
    def uuid_for(seed):
        s = KubeSim(speed=0, seed=seed)
        s.apply(builders.namespace("prod"))
        s.apply(small_vm("a"))
        return s.get(VM, "a", "prod")["spec"]["template"]["spec"]["domain"]["firmware"]["uuid"]
    assert uuid_for(3) == uuid_for(3)
    assert uuid_for(3) != uuid_for(4)


def test_running_and_run_strategy_are_mutually_exclusive(sim):
    objs = small_vm("a")
    objs[-1]["spec"]["running"] = True
    with pytest.raises(ApiError) as e:
        sim.apply(objs)
    assert e.value.code == 422
    assert 'admission webhook "virtualmachine-validator.kubevirt.io" denied the request: spec.running: Running ' \
           'and RunStrategy are mutually exclusive' in e.value.message


def test_kubevirt_cr_reports_its_version(sim):
    kv = sim.get("kubevirts.kubevirt.io", "kubevirt", "kubevirt")
    assert kv["status"]["observedKubeVirtVersion"] == "v1.6.0"
    assert kv["status"]["phase"] == "Deployed"


# ------------------------------------------------------------------ lifecycle
def test_start_runs_a_vmi_with_a_launcher_pod_mounting_the_claims(live):
    live.apply(small_vm("web", disks=(("rootdisk", "1Gi"), ("data", "2Gi"))))
    run_for(live, 10)
    assert vm_status(live, "web")["printableStatus"] == "Stopped"
    assert live.get(VMI, "web", "prod") is None
    code, _ = vm_action(live, "prod", "web", "start")
    assert code == 202
    assert live.get(VM, "web", "prod")["spec"]["runStrategy"] == "Always"
    run_until(live, lambda: running(live, "web"))
    vm, vmi = live.get(VM, "web", "prod"), live.get(VMI, "web", "prod")
    assert vmi["metadata"]["ownerReferences"][0]["uid"] == vm["metadata"]["uid"]
    assert vmi["spec"]["domain"]["firmware"]["uuid"] == vm["spec"]["template"]["spec"]["domain"]["firmware"]["uuid"]
    [pod] = launcher_pods(live, "web")
    assert pod["status"]["phase"] == "Running" and pod["spec"]["nodeName"]
    labels = pod["metadata"]["labels"]
    assert labels["kubevirt.io"] == "virt-launcher" and labels["kubevirt.io/created-by"] == vmi["metadata"]["uid"]
    assert labels["kubevirt.io/domain"] == "web"          # template labels flow to the pod (Service selectors)
    claims = sorted(v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"])
    assert claims == ["web-data", "web-rootdisk"]
    iface = vmi["status"]["interfaces"][0]
    assert iface["ipAddress"] == pod["status"]["podIP"] and iface["mac"]
    run_for(live, 15)
    status = vm_status(live, "web")
    assert status["printableStatus"] == "Running" and status["ready"] is True and status["created"] is True
    conds = {c["type"]: c["status"] for c in live.get(VMI, "web", "prod")["status"]["conditions"]}
    assert conds["Ready"] == "True" and conds["AgentConnected"] == "True"


def test_stop_on_always_halts_the_vm_and_releases_its_claims(live):
    live.apply(small_vm("web", running=True))
    run_until(live, lambda: running(live, "web"))
    code, _ = vm_action(live, "prod", "web", "stop")
    assert code == 202
    assert live.get(VM, "web", "prod")["spec"]["runStrategy"] == "Halted"
    live.settle()
    assert vm_status(live, "web")["printableStatus"] == "Stopping"
    run_until(live, lambda: live.get(VMI, "web", "prod") is None)
    status = vm_status(live, "web")
    assert status["printableStatus"] == "Stopped"
    assert not status.get("created") and not status.get("ready")
    assert launcher_pods(live, "web") == []
    assert live.domain_controllers.storage.pods_using("prod", "web-rootdisk") == []


def test_legacy_running_field_is_patched_by_stop(live):
    live.apply(small_vm("old", running=True, legacy_running=True))
    run_until(live, lambda: running(live, "old"))
    assert vm_action(live, "prod", "old", "stop")[0] == 202
    spec = live.get(VM, "old", "prod")["spec"]
    assert spec["running"] is False and "runStrategy" not in spec


@pytest.mark.parametrize("strategy,action,message", [
    ("Always", "start", "Always does not support manual start requests"),
    ("Once", "start", "Once does not support manual start requests"),
    ("Halted", "stop", "VM is not running"),
    ("Manual", "stop", "VM is not running"),
    ("Halted", "restart", "RunStategy Halted does not support manual restart requests"),
])
def test_lifecycle_conflicts(live, strategy, action, message):
    # A big import keeps the VM from running, so the run strategy alone decides the answer.
    live.apply(builders.vm("web", "prod", disks=(("rootdisk", "50Gi"),), run_strategy=strategy))
    run_for(live, 10)
    assert live.get(VMI, "web", "prod") is None
    code, body = vm_action(live, "prod", "web", action)
    assert code == 409
    assert body["reason"] == "Conflict"
    assert body["message"] == f'Operation cannot be fulfilled on virtualmachine.kubevirt.io "web": {message}'


def test_start_of_a_running_manual_vm_conflicts_and_missing_vm_is_not_found(live):
    live.apply(small_vm("web", run_strategy="Manual"))
    assert vm_action(live, "prod", "web", "start")[0] == 202
    run_until(live, lambda: running(live, "web"))
    code, body = vm_action(live, "prod", "web", "start")
    assert code == 409 and body["message"].endswith("VM is already running")
    code, body = vm_action(live, "prod", "nope", "start")
    assert code == 404 and body["message"] == 'virtualmachine.kubevirt.io "nope" not found'


def test_manual_strategy_goes_through_state_change_requests(sim):
    # The handlers are called directly on a sim whose controllers only run when the test settles it.
    sim.apply(small_vm("web", run_strategy="Manual"))
    run_for(sim, 10)
    assert sim.get(VMI, "web", "prod") is None
    assert vm_lifecycle.start(sim, "prod", "web", {}, None)[0] == 202
    assert sim.get(VM, "web", "prod")["status"]["stateChangeRequests"] == [{"action": "Start"}]
    run_until(sim, lambda: running(sim, "web"))
    assert "stateChangeRequests" not in sim.get(VM, "web", "prod")["status"]
    uid = sim.get(VMI, "web", "prod")["metadata"]["uid"]
    vm_lifecycle.stop(sim, "prod", "web", {}, None)
    assert sim.get(VM, "web", "prod")["status"]["stateChangeRequests"] == [{"action": "Stop", "uid": uid}]
    run_until(sim, lambda: sim.get(VMI, "web", "prod") is None)
    vm = sim.get(VM, "web", "prod")
    assert vm["spec"]["runStrategy"] == "Manual" and vm["status"]["printableStatus"] == "Stopped"
    assert "stateChangeRequests" not in vm["status"]


def test_dry_run_stop_changes_nothing(sim):
    sim.apply(small_vm("web", running=True))
    run_until(sim, lambda: running(sim, "web"))
    assert vm_lifecycle.stop(sim, "prod", "web", {"dryRun": ["All"]}, None)[0] == 202
    assert sim.get(VM, "web", "prod")["spec"]["runStrategy"] == "Always"


def test_restart_replaces_the_vmi(live):
    live.apply(small_vm("web", running=True))
    run_until(live, lambda: running(live, "web"))
    old = live.get(VMI, "web", "prod")["metadata"]["uid"]
    assert vm_action(live, "prod", "web", "restart")[0] == 202
    run_until(live, lambda: running(live, "web") and live.get(VMI, "web", "prod")["metadata"]["uid"] != old)


def test_subresources_need_update_on_the_subresource(live):
    live.apply(small_vm("web"))
    code, body = vm_action(live, "prod", "web", "start", user="bob")
    assert code == 403
    assert 'cannot update resource "virtualmachines/start" in API group "subresources.kubevirt.io"' in body["message"]
    grant(live, "prod", "bob", [{"apiGroups": ["subresources.kubevirt.io"], "resources": ["virtualmachines/start"],
                                 "verbs": ["update"]}])
    assert vm_action(live, "prod", "web", "start", user="bob")[0] == 202


# ------------------------------------------------------------------ volumes
def test_vm_waits_for_its_datavolumes_before_starting(sim):
    sim.apply(builders.vm("web", "prod", disks=(("rootdisk", "10Gi"),), running=True))
    run_for(sim, 20)
    assert vm_status(sim, "web")["printableStatus"] == "Provisioning"
    assert sim.get(VMI, "web", "prod") is None
    dv = sim.get(DV, "web-rootdisk", "prod")
    assert dv["status"]["phase"] == "ImportInProgress"
    run_until(sim, lambda: running(sim, "web"), max_seconds=600)
    assert sim.get(DV, "web-rootdisk", "prod")["status"]["phase"] == "Succeeded"


def test_missing_claim_shows_error_pvc_not_found_until_it_appears(sim):
    sim.apply(small_vm("web", disk_mode="pvc"))
    vm = sim.get(VM, "web", "prod")
    vm["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] = "later"
    vm["spec"]["runStrategy"] = "Always"
    sim.apply(vm)
    run_for(sim, 10)
    assert vm_status(sim, "web")["printableStatus"] == "ErrorPvcNotFound"
    vmi = sim.get(VMI, "web", "prod")
    assert vmi["status"]["phase"] == "Pending" and "FailedPvcNotFound" in event_reasons(sim, vmi)
    sim.apply(builders.pvc("later", "prod", "1Gi"))
    run_until(sim, lambda: running(sim, "web"))


def test_data_volume_templates_become_owned_datavolumes_with_claim_adoption(sim):
    sim.apply(small_vm("web", disks=(("rootdisk", "1Gi"), ("data", "1Gi"))))
    sim.settle()
    vm = sim.get(VM, "web", "prod")
    assert "kubevirt.io/virtualMachineControllerFinalize" in vm["metadata"]["finalizers"]
    assert vm["metadata"]["annotations"]["kubevirt.io/latest-observed-api-version"] == "kubevirt.io/v1"
    for name in ("web-rootdisk", "web-data"):
        dv = sim.get(DV, name, "prod")
        ref = dv["metadata"]["ownerReferences"][0]
        assert (ref["kind"], ref["uid"], ref["controller"]) == ("VirtualMachine", vm["metadata"]["uid"], True)
        assert dv["metadata"]["annotations"]["cdi.kubevirt.io/allowClaimAdoption"] == "true"
    assert "SuccessfulDataVolumeCreate" in event_reasons(sim, vm)


def test_an_orphan_datavolume_named_like_a_template_is_adopted(sim):
    sim.apply(builders.data_volume("web-rootdisk", "prod", "1Gi"))
    run_for(sim, 10)
    sim.apply(small_vm("web"))
    sim.settle()
    dv = sim.get(DV, "web-rootdisk", "prod")
    assert dv["metadata"]["ownerReferences"][0]["uid"] == sim.get(VM, "web", "prod")["metadata"]["uid"]


def test_persistent_tpm_state_gets_its_own_claim_owned_by_the_vm(sim):
    sim.apply(small_vm("win", tpm=True, running=True))
    run_until(sim, lambda: running(sim, "win"))
    [state] = sim.list(PVC, "prod", label_selector="persistent-state-for=win")
    assert state["metadata"]["name"].startswith("persistent-state-for-win-")
    assert state["metadata"]["ownerReferences"][0]["kind"] == "VirtualMachine"
    assert state["status"]["phase"] == "Bound"
    sim.delete(VM, "win", "prod")
    run_until(sim, lambda: not sim.list(PVC, "prod", label_selector="persistent-state-for=win"))


def test_deleting_a_vm_stops_it_and_garbage_collects_its_disks(sim):
    sim.apply(small_vm("web", running=True))
    run_until(sim, lambda: running(sim, "web"))
    sim.delete(VM, "web", "prod")
    sim.settle()
    assert vm_status(sim, "web")["printableStatus"] == "Terminating"
    run_until(sim, lambda: sim.get(VM, "web", "prod") is None)
    run_until(sim, lambda: not sim.list(PVC, "prod") and not sim.list(DV, "prod"))
    assert sim.list(POD, "prod") == []


def test_instancetype_is_captured_in_a_controller_revision(sim):
    sim.apply(small_vm("sized", instancetype="u1.medium", preference="fedora", running=True))
    run_until(sim, lambda: running(sim, "sized"))
    vm = sim.get(VM, "sized", "prod")
    ref = vm["status"]["instancetypeRef"]
    assert ref["name"] == "u1.medium" and ref["kind"] == "VirtualMachineClusterInstancetype"
    rev = sim.get("controllerrevisions.apps", ref["controllerRevisionRef"]["name"], "prod")
    assert rev["metadata"]["name"].startswith("sized-u1.medium-v1beta1-")
    assert rev["metadata"]["ownerReferences"][0]["uid"] == vm["metadata"]["uid"]
    assert rev["data"]["spec"]["memory"]["guest"] == "4Gi"
    assert vm["status"]["preferenceRef"]["controllerRevisionRef"]["name"].startswith("sized-fedora-")
    assert "revisionName" not in vm["spec"]["instancetype"]
    assert sim.get(VMI, "sized", "prod")["spec"]["domain"]["memory"]["guest"] == "4Gi"


def test_wait_for_first_consumer_claims_bind_when_the_vm_starts(sim):
    sim.apply(small_vm("local", disk_mode="pvc", storage_class="local-hostpath"))
    run_for(sim, 10)
    assert sim.get(PVC, "local-rootdisk", "prod")["status"]["phase"] == "Pending"
    vm = sim.get(VM, "local", "prod")
    vm["spec"]["runStrategy"] = "Always"
    sim.apply(vm)
    sim.settle()
    run_until(sim, lambda: running(sim, "local"))
    pvc = sim.get(PVC, "local-rootdisk", "prod")
    assert pvc["status"]["phase"] == "Bound"
    assert pvc["metadata"]["annotations"]["volume.kubernetes.io/selected-node"]


def test_launcher_pod_id_label_of_a_long_vm_name_is_cut_and_hashed(sim):
    # KubeVirt pkg/apimachinery/labels.go CalculateVirtualMachineInstanceID: a label value holds 63 characters,
    # so longer names become their first 54 characters, "-" and the first 8 hex digits of their SHA-1;
    # vm.kubevirt.io/name is the host name (services/template.go podLabels, util/net/dns SanitizeHostname).
    import hashlib

    name = "vm-" + "x" * 67
    objs = small_vm(name, running=True)
    for obj in objs:
        # Label values hold 63 characters at most: the builder's name labels are shortened.
        for md in (obj["metadata"], ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}):
            md["labels"] = {k: ("long" if v == name else v) for k, v in (md.get("labels") or {}).items()}
    sim.apply(objs)
    run_until(sim, lambda: running(sim, name))
    [pod] = [p for p in sim.list(POD, "prod") if p["metadata"]["labels"].get("kubevirt.io/domain") == "long"]
    labels = pod["metadata"]["labels"]
    assert labels["vmi.kubevirt.io/id"] == name[:54] + "-" + hashlib.sha1(name.encode()).hexdigest()[:8]
    assert labels["vm.kubevirt.io/name"] == name[:63]

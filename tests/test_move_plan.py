"""The MovePlan document: steps per VM in order, shared dependencies, cleanup, saving, loading and staleness."""

import copy

import pytest

from kubectl_vmmove.errors import UserError
from kubectl_vmmove.kube import kinds
from kubectl_vmmove.move.planning import graph, inventory, preflight
from kubectl_vmmove.move.planning import moveplan as plan
from kubectl_vmmove.printers import dump_json, dump_yaml
from tests.kubesim import builders as b


def _world():
    ci = {"name": "ci", "cloudInitNoCloud": {"secretRef": {"name": "common-ci"}}}
    web1 = b.served_vm("web1", disks=["web1-root"], volumes=[ci], template_labels={"app": "web", "vm": "web1"},
                running=True)
    web2 = b.served_vm("web2", disks=["web2-root"], volumes=[ci], template_labels={"app": "web", "vm": "web2"})
    db = b.served_vm("db", disks=["db-root"], volumes=[ci], template_labels={"app": "db"})
    return b.served_storage_basics() + [web1, web2, db, b.served_pvc("web1-root"), b.served_pvc("web2-root"), b.served_pvc("db-root"),
                                 b.served_secret("common-ci"), b.served_service("web", {"app": "web"}),
                                 b.served_service("web1-ssh", {"vm": "web1"})]


def make(names, objs=None, **opts):
    inv = inventory.Inventory.from_objects(objs if objs is not None else _world(), "src", "dst")
    g = graph.build(inv, list(names))
    doc = plan.build(inv, g, plan.PlanOptions("src", "dst", move_id="p1", **opts))
    preflight.run(inv, g, doc)
    return inv, g, doc


def _actions(entry):
    return [(s["action"], s["kind"], s["name"]) for s in entry["steps"]]


def test_steps_per_vm_are_in_execution_order():
    _, _, doc = make(["web1"])
    vm = doc["spec"]["vms"][0]
    assert _actions(vm) == [
        ("stop", "VirtualMachine", "web1"), ("record-source", "VirtualMachine", "web1"),
        ("clone", "DataVolume", "web1-root"), ("copy", "Secret", "common-ci"), ("create", "Service", "web"),
        ("create", "Service", "web1-ssh"), ("create", "VirtualMachine", "web1"), ("start", "VirtualMachine", "web1")]
    assert vm["steps"][0]["namespace"] == "src" and vm["steps"][-1]["namespace"] == "dst"
    create = vm["steps"][6]
    assert create["object"]["spec"]["runStrategy"] == "Halted"      # started only once the disks are ready
    assert create["source"]["uid"] == vm["source"]["uid"] and create["source"]["generation"] == 1


def test_dependency_of_several_moving_vms_is_prepared_once_and_shared_one_never_deleted():
    _, _, doc = make(["web1", "web2"])
    prepare = [(s["action"], s["kind"], s["name"]) for s in doc["spec"]["prepare"]]
    assert prepare == [("copy", "Secret", "common-ci"), ("create", "Service", "web")]
    for vm in doc["spec"]["vms"]:
        assert ("copy", "Secret", "common-ci") not in _actions(vm)
    deleted = [(s["kind"], s["name"]) for v in doc["spec"]["vms"] for s in v["cleanup"]]
    deleted += [(s["kind"], s["name"]) for s in doc["spec"]["cleanup"]]
    assert ("Secret", "common-ci") not in deleted            # db stays and uses it
    assert ("Service", "web") in deleted                      # only the moving VMs use it
    assert ("Service", "web1-ssh") in deleted
    assert ("VirtualMachine", "web1") in deleted and ("PersistentVolumeClaim", "web1-root") in deleted


def test_template_disks_are_left_to_the_vm_cascade_at_cleanup():
    vm = b.served_fixture_vm("user-guide/vm-dv-template-storage-api.yaml")
    d = b.served_dv("src-dv", owner=b.owner_ref(vm))
    objs = b.served_storage_basics() + [vm, d, b.served_pvc("src-dv", owner=b.owner_ref(d))]
    _, _, doc = make(["vm-dv"], objs)
    entry = doc["spec"]["vms"][0]
    assert [s["kind"] for s in entry["cleanup"]] == ["VirtualMachine"]
    assert entry["disks"][0]["role"] == "dataVolumeTemplate" and entry["disks"][0]["dataVolume"] == "src-dv"


@pytest.mark.parametrize("source_strategy,running,choice,start,final", [
    ("Always", True, "source", True, None),
    ("Halted", False, "source", False, None),
    ("Halted", False, "Always", True, None),
    ("Always", True, "Halted", False, None),
    ("Manual", True, "source", True, "Manual"),
    ("Manual", False, "source", False, "Manual"),
    ("RerunOnFailure", True, "source", True, "RerunOnFailure"),
])
def test_target_run_strategy(source_strategy, running, choice, start, final):
    objs = b.served_storage_basics() + [b.served_vm("v", disks=["r"], run_strategy=source_strategy, running=running), b.served_pvc("r")]
    _, _, doc = make(["v"], objs, target_run_strategy=choice)
    actions = [s["action"] for s in doc["spec"]["vms"][0]["steps"]]
    assert ("start" in actions) == start
    runs = [s["runStrategy"] for s in doc["spec"]["vms"][0]["steps"] if s["action"] == "set-run-strategy"]
    assert runs == ([final] if final else [])


def test_no_services_leaves_services_out():
    _, _, doc = make(["web1"], services=False)
    assert not [s for s in doc["spec"]["vms"][0]["steps"] if s["kind"] == "Service"]
    assert doc["spec"]["services"] is False


def test_transfer_steps_rebind_the_claims():
    objs = _world() + [b.served_pv("pv-src-web1-root")]
    _, _, doc = make(["web1"], objs, strategy="transfer")
    step = next(s for s in doc["spec"]["vms"][0]["steps"] if s["action"] == "transfer")
    assert step["persistentVolume"] == "pv-src-web1-root" and step["objectTransfer"] is True
    assert step["object"]["spec"]["volumeName"] == "pv-src-web1-root"
    assert doc["spec"]["vms"][0]["disks"][0]["method"] == "transfer"
    # Nothing to delete for the claim afterwards: the volume now belongs to the target claim.
    assert "PersistentVolumeClaim" not in [s["kind"] for s in doc["spec"]["vms"][0]["cleanup"]]


def test_persistent_state_and_instancetype_revisions_follow_the_vm():
    vm = b.served(b.load_fixture("upstream-examples/vm-windows-clarge-windows.yaml")[0], "src")
    vm["status"] = {"instancetypeRef": {"controllerRevisionRef": {"name": "rev-it"}},
                    "preferenceRef": {"controllerRevisionRef": {"name": "rev-pref"}}}
    revs = [b.served({"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": n},
                      "data": {}, "revision": 1}, "src") for n in ("rev-it", "rev-pref")]
    objs = b.served_storage_basics() + [vm, b.served_pvc("disk-windows"),
                                 b.served_pvc("persistent-state-for-vm-windows-clarge-windows-abcde",
                                       labels={"persistent-state-for": "vm-windows-clarge-windows"}),
                                 b.served(b.load_fixture("upstream-examples/instancetype-clarge.yaml")[0], "src"),
                                 b.served(b.load_fixture("upstream-examples/preference-windows.yaml")[0], "src")] + revs
    _, _, doc = make(["vm-windows-clarge-windows"], objs)
    acts = _actions(doc["spec"]["vms"][0])
    state = "persistent-state-for-vm-windows-clarge-windows-abcde"
    assert ("clone", "DataVolume", state) in acts and ("label", "PersistentVolumeClaim", state) in acts
    assert ("set-owner", "PersistentVolumeClaim", state) in acts
    for kind, name in (("VirtualMachineInstancetype", "clarge"), ("VirtualMachinePreference", "windows"),
                       ("ControllerRevision", "rev-it"), ("ControllerRevision", "rev-pref")):
        assert ("create", kind, name) in acts
    assert acts.index(("create", "ControllerRevision", "rev-it")) < acts.index(
        ("create", "VirtualMachine", "vm-windows-clarge-windows")) < acts.index(
        ("set-owner", "ControllerRevision", "rev-it"))
    clone = next(s for s in doc["spec"]["vms"][0]["steps"] if s["action"] == "clone" and s["name"] == state)
    assert clone["object"]["metadata"]["labels"]["persistent-state-for"] == "vm-windows-clarge-windows"


def test_mac_opt_out_labels_or_creates_the_namespace():
    _, _, doc = make(["web2"], mac_policy="opt-out")
    assert doc["spec"]["prepare"][0] == {"action": "label", "kind": "Namespace", "name": "dst",
                                         "labels": {"mutatevirtualmachines.kubemacpool.io": "ignore"}}
    objs = [o for o in _world() if o["kind"] != "Namespace"]
    inv = inventory.Inventory.from_objects(objs, "src", "dst", target_exists=False)
    g = graph.build(inv, ["web2"])
    doc = plan.build(inv, g, plan.PlanOptions("src", "dst", mac_policy="opt-out", create_namespace=True))
    ns = doc["spec"]["prepare"][0]["object"]
    assert ns["kind"] == "Namespace" and ns["metadata"]["labels"]["mutatevirtualmachines.kubemacpool.io"] == "ignore"
    assert ns["metadata"]["labels"]["vmmove.io/move-id"] == doc["spec"]["moveId"]


def test_move_id_is_short_hex_and_labels_everything_created():
    inv = inventory.Inventory.from_objects(_world(), "src", "dst")
    g = graph.build(inv, ["web1"])
    doc = plan.build(inv, g, plan.PlanOptions("src", "dst"))
    move_id = doc["spec"]["moveId"]
    assert len(move_id) == 6 and int(move_id, 16) >= 0
    for obj in plan.target_manifests(doc):
        assert obj["metadata"]["labels"]["vmmove.io/move-id"] == move_id
        assert obj["metadata"]["annotations"]["vmmove.io/source"].startswith("src/")


def test_saved_plan_loads_back_identically_from_yaml_and_json():
    _, _, doc = make(["web1", "web2"])
    assert plan.load(dump_yaml(doc)) == doc
    assert plan.load(dump_json(doc)) == doc


@pytest.mark.parametrize("text,message", [
    ("a: [b", "not valid YAML"),
    ("- 1\n- 2\n", "not a MovePlan document"),
    ("apiVersion: v1\nkind: ConfigMap\n", "expected vmmove.io/v1alpha1 MovePlan"),
    ("apiVersion: vmmove.io/v1alpha1\nkind: MovePlan\n", "has no spec"),
    ("apiVersion: vmmove.io/v1alpha1\nkind: MovePlan\nspec: {strategy: copy, macPolicy: keep, vms: []}\n",
     "spec.moveId is missing"),
])
def test_invalid_plans_are_refused_with_the_reason(text, message):
    with pytest.raises(UserError) as err:
        plan.load(text, "plan.yaml")
    assert message in str(err.value) and "plan.yaml" in str(err.value)


def test_stale_plan_detection():
    objs = _world()
    inv, _, doc = make(["web1"], objs)
    assert plan.stale(doc, inv) == []
    changed = copy.deepcopy(objs)
    by = {(o["kind"], o["metadata"]["name"]): o for o in changed}
    # A status update by a controller bumps resourceVersion, not generation: not stale.
    by[("VirtualMachine", "web1")]["metadata"]["resourceVersion"] = "99999"
    assert plan.stale(doc, inventory.Inventory.from_objects(changed, "src", "dst")) == []
    by[("VirtualMachine", "web1")]["metadata"]["generation"] = 2
    by[("Secret", "common-ci")]["metadata"]["resourceVersion"] = "99998"
    by[("PersistentVolumeClaim", "web1-root")]["metadata"]["uid"] = "recreated"
    changed = [o for o in changed if (o["kind"], o["metadata"]["name"]) != ("Service", "web1-ssh")]
    result = plan.stale(doc, inventory.Inventory.from_objects(changed, "src", "dst"))
    assert sorted((r["kind"], r["name"], r["change"]) for r in result) == [
        ("PersistentVolumeClaim", "web1-root", "replaced"), ("Secret", "common-ci", "changed"),
        ("Service", "web1-ssh", "deleted"), ("VirtualMachine", "web1", "changed")]


def test_manifests_are_in_creation_order_with_final_run_strategy_and_no_secrets():
    _, _, doc = make(["web1", "web2"], create_namespace=True)
    objs = plan.target_manifests(doc)
    kinds_in_order = [o["kind"] for o in objs]
    assert kinds_in_order == sorted(kinds_in_order, key=["DataVolume", "VirtualMachine", "Service"].index)
    vms = {o["metadata"]["name"]: o for o in objs if o["kind"] == "VirtualMachine"}
    assert vms["web1"]["spec"]["runStrategy"] == "Always" and vms["web2"]["spec"]["runStrategy"] == "Halted"
    assert "Secret" not in kinds_in_order
    assert plan.run_time_copies(doc) == [("Secret", "common-ci")]
    for obj in objs:
        assert b.schema_errors(obj) == [], obj["metadata"]["name"]


def test_plan_never_holds_secret_data():
    secret = b.served_secret("web-ci")
    secret["data"] = {"userdata": "c2VjcmV0LXBhc3N3b3JkLTQy"}      # as a full read would return it
    vm = b.served_vm("v", disks=["r"], volumes=[{"name": "ci", "cloudInitNoCloud": {"secretRef": {"name": "web-ci"}}}])
    _, _, doc = make(["v"], b.served_storage_basics() + [vm, b.served_pvc("r"), secret])
    text = dump_yaml(doc)
    assert "c2VjcmV0LXBhc3N3b3JkLTQy" not in text and "web-ci" in text


def test_objects_every_namespace_has_are_neither_copied_nor_deleted():
    vm = b.served_fixture_vm("velero-plugin-fixtures/vm-with-different-volume-types.yaml")
    objs = b.served_storage_basics() + [vm, b.served_pvc("test-dv"), b.served_secret("test-secret"), b.served_configmap("test-configmap"),
                                 b.served_serviceaccount("default"), b.served_serviceaccount("default", ns="dst")]
    _, _, doc = make(["test-vm-with-different-volume-types"], objs)
    entry = doc["spec"]["vms"][0]
    assert {"kind": "ServiceAccount", "name": "default"} in entry["dependencies"]
    touched = [(s["kind"], s["name"]) for s in entry["steps"] + entry["cleanup"]]
    assert ("ServiceAccount", "default") not in touched
    assert ("Secret", "test-secret") in touched and ("ConfigMap", "test-configmap") in touched
    assert "NameConflict" not in {f["code"] for f in doc["status"]["findings"]}


def test_manual_vm_stopped_since_the_plan_makes_it_stale():
    # KubeVirt stops a Manual or RerunOnFailure VM with a status state change request (no new generation); the
    # plan started the target because the source ran, so a VM stopped since then must not be started by run -f.
    objs = _world()
    web1 = next(o for o in objs if o["kind"] == "VirtualMachine" and o["metadata"]["name"] == "web1")
    web1["spec"]["runStrategy"] = "Manual"
    inv, _, doc = make(["web1"], objs)
    assert ("start", "VirtualMachine", "web1") in _actions(doc["spec"]["vms"][0])
    assert plan.stale(doc, inv) == []
    later = copy.deepcopy(objs)
    next(o for o in later if o["metadata"]["name"] == "web1")["status"] = {"printableStatus": "Stopped"}
    stopped = inventory.Inventory.from_objects(later, "src", "dst")
    assert plan.stale(doc, stopped) == [{"kind": "VirtualMachine", "name": "web1", "change": "stopped"}]
    # A plan that keeps the target Halted did not depend on the running state.
    _, _, halted = make(["web1"], objs, target_run_strategy="Halted")
    assert plan.stale(halted, stopped) == []


def test_unknown_clone_method_claims_no_downtime():
    import io

    from kubectl_vmmove.move.cmd import views
    from kubectl_vmmove.printers import OutputOptions

    # The target class does not exist: CDI would wait forever, so no duration is honest.
    _, _, doc = make(["web1"], storage_class_map={"standard": "gone"})
    vm = doc["spec"]["vms"][0]
    assert vm["disks"][0]["method"] == "unknown" and vm["disks"][0]["estimateSeconds"] is None
    assert vm["estimate"]["downtimeSeconds"] is None
    summary = doc["status"]["summary"]
    assert summary["estimatedDowntimeSeconds"] is None and summary["estimatedSerialSeconds"] is None
    running = [f for f in doc["status"]["findings"] if f["code"] == "VmRunning"]
    assert running and "cannot be estimated" in running[0]["message"] and "0s" not in running[0]["message"]
    out = io.StringIO()
    views.print_plan(doc, OutputOptions(), stream=out)
    header, row = out.getvalue().splitlines()[2:4]
    cells = dict(zip(header.split(), row.split()))
    assert cells["METHOD"] == "unknown" and cells["DOWNTIME"] == "unknown"


def test_unreadable_storage_classes_say_so_instead_of_inventing_a_missing_default():
    inv = inventory.Inventory.from_objects(_world(), "src", "dst")
    del inv.lists[(kinds.STORAGECLASS.kind, inventory.CLUSTER)]
    g = graph.build(inv, ["web1"])
    doc = plan.build(inv, g, plan.PlanOptions("src", "dst", move_id="p1"))
    disk = doc["spec"]["vms"][0]["disks"][0]
    assert (disk["method"], disk["estimateSeconds"]) == ("unknown", None)
    assert "cannot be read" in disk["methodReason"]

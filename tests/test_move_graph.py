"""The dependency graph: every reference kind, found from one list per kind, with shared detection, for every VM
in the shared upstream fixtures."""

import pytest

from kubectl_vmmove.move.planning import graph, inventory, preflight
from kubectl_vmmove.move.planning import moveplan as plan
from tests.kubesim import builders as b

# fixture, VM index, template params, expected {claims, Secret, ConfigMap, ...}
FIXTURE_VMS = [
    ("upstream-examples/vm-cirros.yaml", 0, {}, {}),
    ("upstream-examples/vm-alpine-datavolume.yaml", 0, {}, {"claims": ["alpine-dv"]}),
    ("upstream-examples/vm-alpine-multipvc.yaml", 0, {}, {"claims": ["disk-alpine", "disk-custom"]}),
    ("upstream-examples/vm-windows-clarge-windows.yaml", 0, {},
     {"claims": ["disk-windows"], "VirtualMachineInstancetype": ["clarge"], "VirtualMachinePreference": ["windows"]}),
    ("upstream-examples/vm-cirros-cluster-csmall.yaml", 0, {}, {"cluster": [("VirtualMachineClusterInstancetype",
                                                                             "cluster-csmall")]}),
    ("upstream-examples/vm-cirros-sidecar-hook-configmap.yaml", 0, {}, {"ConfigMap": ["my-config-map"]}),
    ("upstream-examples/apitesting-vm-every-field.yaml", 0, {},
     {"claims": ["nameValue", "claimNameValue"], "Secret": ["nameValue", "secretNameValue", "imagePullSecretValue"],
      "ConfigMap": ["nameValue"], "ServiceAccount": ["serviceAccountNameValue"],
      "NetworkAttachmentDefinition": ["networkNameValue"], "ControllerRevision": ["revisionNameValue"],
      "cluster": [("kindValue", "nameValue"), ("kindValue", "nameValue")]}),
    ("upstream-examples/vm-template-fedora.openshift-template.yaml", 0, {"NAME": "fedora1"}, {}),
    ("user-guide/vm-persistent-tpm.fragment.yaml", 0, {}, {"claims": ["persistent-state-for-vm-7qxz2"]}),
    ("user-guide/vm-dv-template-storage-api.yaml", 0, {}, {"claims": ["src-dv"]}),
    ("user-guide/vm-ignition-configdrive-v1alpha3.yaml", 0, {}, {}),
    ("user-guide/vm-sriov-partial.yaml", 0, {}, {"external": [("default", "sriov-net")]}),
    ("user-guide/vm-multus-macvtap-binding.yaml", 0, {}, {"NetworkAttachmentDefinition": ["macvtapnetwork"]}),
    ("user-guide/vm-hugepages-v1alpha1-legacy.yaml", 0, {}, {}),
    ("user-guide/vm-cirros-userdatabase64.yaml", 0, {}, {}),
    ("user-guide/vm-accesscredentials-nocloud.yaml", 0, {}, {"Secret": ["my-pub-key"]}),
    ("common-templates/template-rhel9-server-small.yaml", 0, {"NAME": "rhel9-a"}, {"claims": ["rhel9-a"]}),
    ("common-templates/template-windows11-desktop-medium.yaml", 0, {"NAME": "win11-a"},
     {"claims": ["win11-a", "persistent-state-for-win11-a-abcde"]}),
    ("cdi/vm-dv-v1alpha3.yaml", 0, {}, {"claims": ["cirros-dv"]}),
    ("velero-plugin-fixtures/vm-with-different-volume-types.yaml", 0, {},
     {"claims": ["test-dv"], "Secret": ["test-secret"], "ConfigMap": ["test-configmap"],
      "ServiceAccount": ["default"]}),
    ("velero-plugin-fixtures/vm-with-access-credentials.yaml", 0, {},
     {"claims": ["test-dv"], "Secret": ["test-access-credentials-secret"]}),
    ("velero-plugin-fixtures/vm-with-dv-and-dvtemplate.yaml", 0, {}, {"claims": ["test-dv-template", "test-dv"]}),
    ("velero-plugin-fixtures/vm-with-pvc.yaml", 0, {}, {"claims": ["test-pvc"]}),
    ("oadp-e2e/cirros-test-list.yaml", 0, {}, {"claims": ["cirros-test-disk"]}),
    ("oadp-e2e/fedora-todolist-list.yaml", 0, {}, {"claims": ["fedora-todolist-disk"]}),
]

_MAKERS = {"Secret": b.served_secret, "ConfigMap": b.served_configmap, "ServiceAccount": b.served_serviceaccount,
           "NetworkAttachmentDefinition": b.served_nad}


def _world(vm, expected):
    """The VM plus every object it refers to, as a cluster would hold them."""
    objs = b.served_storage_basics() + [vm]
    name = vm["metadata"]["name"]
    for claim in expected.get("claims", []):
        labels = {"persistent-state-for": name} if claim.startswith("persistent-state-for-") else None
        objs.append(b.served_pvc(claim, labels=labels))
    for kind, maker in _MAKERS.items():
        objs += [maker(n) for n in expected.get(kind, [])]
    for _n in expected.get("VirtualMachineInstancetype", []):
        objs.append(b.served(b.load_fixture("upstream-examples/instancetype-clarge.yaml")[0], "src"))
    for _n in expected.get("VirtualMachinePreference", []):
        objs.append(b.served(b.load_fixture("upstream-examples/preference-windows.yaml")[0], "src"))
    for n in expected.get("ControllerRevision", []):
        objs.append(b.served({"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": n},
                              "data": {"spec": {}}, "revision": 1}, "src"))
    for ns, n in expected.get("external", []):
        objs.append(b.served_nad(n, ns=ns))
    return objs


@pytest.mark.parametrize("rel,index,params,expected", FIXTURE_VMS, ids=[f[0].split("/")[-1] for f in FIXTURE_VMS])
def test_every_fixture_vm_is_graphed_and_planned(rel, index, params, expected):
    vm = b.served_fixture_vm(rel, index, **params)
    if rel.endswith("vm-persistent-tpm.fragment.yaml"):
        vm["metadata"]["name"] = "vm"
    name = vm["metadata"]["name"]
    inv = inventory.Inventory.from_objects(_world(vm, expected), "src", "dst")
    g = graph.build(inv, [name])
    node = g.nodes[name]
    assert [d.claim for d in node.disks] == expected.get("claims", [])
    for kind in graph.DEPENDENCY_KINDS:
        assert node.deps.get(kind, []) == expected.get(kind, []), kind
    assert node.external_nads == expected.get("external", [])
    assert node.cluster_instancetypes == expected.get("cluster", [])
    assert node.missing == []

    doc = plan.build(inv, g, plan.PlanOptions("src", "dst", move_id="fx1"))
    preflight.run(inv, g, doc)
    codes = {f["code"] for f in doc["status"]["findings"]}
    assert not codes & {"MissingDependency", "ClaimMissing", "NadMissing"}
    entry = doc["spec"]["vms"][0]
    steps = entry["steps"]
    assert steps[0]["action"] == "stop" and steps[-1]["action"] in ("create", "start", "set-owner",
                                                                    "set-run-strategy")
    clones = [s["name"] for s in steps if s["action"] == "clone"]
    assert clones == expected.get("claims", [])
    # The API round-trip fixture is fuzzer output (camel-case names, every union member set): not a valid VM.
    if vm["apiVersion"] == "kubevirt.io/v1" and "template" in vm["spec"] and "apitesting" not in rel:
        for obj in plan.target_manifests(doc):
            assert b.schema_errors(obj) == [], (obj["kind"], obj["metadata"]["name"])


def test_legacy_v1alpha1_shape_does_not_crash_and_has_nothing_to_move():
    vm = b.served_fixture_vm("user-guide/vm-hugepages-v1alpha1-legacy.yaml")
    inv = inventory.Inventory.from_objects([vm], "src", "dst")
    node = graph.build(inv, ["myvm"]).nodes["myvm"]
    assert node.disks == [] and node.deps == {}


def test_persistent_state_claim_is_found_by_label_or_legacy_name():
    vm = b.served_vm("tpm-vm", disks=["root"])
    objs = [vm, b.served_pvc("root"), b.served_pvc("persistent-state-for-tpm-vm-x7k2p", labels={"persistent-state-for": "tpm-vm"}),
            b.served_pvc("persistent-state-for-other-abcde", labels={"persistent-state-for": "other"})]
    node = graph.build(inventory.Inventory.from_objects(objs, "src"), ["tpm-vm"]).nodes["tpm-vm"]
    assert [(d.claim, d.role) for d in node.disks] == [("root", "persistentVolumeClaim"),
                                                       ("persistent-state-for-tpm-vm-x7k2p", "persistentState")]
    legacy = [vm, b.served_pvc("root"), b.served_pvc("persistent-state-for-tpm-vm")]
    node = graph.build(inventory.Inventory.from_objects(legacy, "src"), ["tpm-vm"]).nodes["tpm-vm"]
    assert node.disks[-1].claim == "persistent-state-for-tpm-vm" and node.disks[-1].role == "persistentState"


def test_hotplug_memory_dump_and_owned_datavolumes_are_disks():
    vm = b.served_vm("h", disks=["root"], volumes=[
        {"name": "hp", "persistentVolumeClaim": {"claimName": "extra", "hotpluggable": True}},
        {"name": "dump", "memoryDump": {"claimName": "dump-pvc"}}])
    owned = b.served_dv("scratch", owner=b.owner_ref(vm))
    objs = [vm, b.served_pvc("root"), b.served_pvc("extra"), b.served_pvc("dump-pvc"), owned, b.served_pvc("scratch")]
    node = graph.build(inventory.Inventory.from_objects(objs, "src"), ["h"]).nodes["h"]
    assert [(d.claim, d.role) for d in node.disks] == [("root", "persistentVolumeClaim"), ("extra", "hotplug"),
                                                       ("dump-pvc", "memoryDump"), ("scratch", "dataVolume")]


def test_pvc_owned_by_a_datavolume_links_the_datavolume():
    vm = b.served_vm("v", disks=["root"])
    d = b.served_dv("root")
    objs = [vm, d, b.served_pvc("root", owner=b.owner_ref(d))]
    disk = graph.build(inventory.Inventory.from_objects(objs, "src"), ["v"]).nodes["v"].disks[0]
    assert disk.datavolume == "root" and disk.dv is not None and disk.size == 10 * 2 ** 30


def _sharing_world():
    ci = {"name": "ci", "cloudInitNoCloud": {"secretRef": {"name": "common-ci"}}}
    web1 = b.served_vm("web1", disks=["web1-root"], volumes=[ci], template_labels={"app": "web", "vm": "web1"})
    web2 = b.served_vm("web2", disks=["web2-root"], volumes=[ci], template_labels={"app": "web", "vm": "web2"})
    db = b.served_vm("db", disks=["db-root"], volumes=[{"name": "ci", "cloudInitNoCloud": {"secretRef": {"name": "db-ci"}}}],
              template_labels={"app": "db"})
    return [web1, web2, db, b.served_pvc("web1-root"), b.served_pvc("web2-root"), b.served_pvc("db-root"), b.served_secret("common-ci"),
            b.served_secret("db-ci"), b.served_service("web", {"app": "web"}), b.served_service("web1-ssh", {"vm": "web1"}),
            b.served_service("db", {"app": "db"}), b.served_networkpolicy("all", {}),
            b.served_networkpolicy("web-only", {"matchLabels": {"app": "web"}}),
            b.served_networkpolicy("db-only", {"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]})]


def test_dependency_used_by_a_staying_vm_is_shared():
    inv = inventory.Inventory.from_objects(_sharing_world(), "src", "dst")
    g = graph.build(inv, ["web1"])
    node = g.nodes["web1"]
    assert node.deps["Secret"] == ["common-ci"]
    assert node.deps["Service"] == ["web", "web1-ssh"]
    assert node.deps["NetworkPolicy"] == ["all", "web-only"]
    assert g.staying_users("Secret", "common-ci") == ["web2"]
    assert g.is_shared("Service", "web") and not g.is_shared("Service", "web1-ssh")
    assert g.staying_users("NetworkPolicy", "all") == ["db", "web2"]
    entries = {(e["kind"], e["name"]): e for e in graph.dependency_entries(g, node)}
    assert entries[("Secret", "common-ci")]["sharedWith"] == ["web2"]
    assert "sharedWith" not in entries[("Service", "web1-ssh")]


def test_dependency_used_only_by_moving_vms_is_not_shared():
    inv = inventory.Inventory.from_objects(_sharing_world(), "src", "dst")
    g = graph.build(inv, ["web1", "web2"])
    assert not g.is_shared("Secret", "common-ci") and not g.is_shared("Service", "web")
    assert g.is_shared("NetworkPolicy", "all")           # db stays
    assert not g.is_shared("NetworkPolicy", "web-only")


def test_missing_references_are_reported_not_dropped():
    vm = b.served_vm("m", disks=["gone"], volumes=[{"name": "s", "secret": {"secretName": "nope"}},
                                            {"name": "c", "configMap": {"name": "cm-nope"}}])
    node = graph.build(inventory.Inventory.from_objects([vm], "src"), ["m"]).nodes["m"]
    assert sorted(node.missing) == [("ConfigMap", "cm-nope", "volume c"), ("PersistentVolumeClaim", "gone",
                                                                           "volume gone"),
                                    ("Secret", "nope", "volume s")]


def test_snapshots_and_exports_are_attached_to_their_vm():
    vm = b.served_vm("s", disks=["root"])
    snap = b.served({"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
                     "metadata": {"name": "snap1"}, "spec": {"source": {"apiGroup": "kubevirt.io",
                                                                        "kind": "VirtualMachine", "name": "s"}}}, "src")
    export = b.served({"apiVersion": "export.kubevirt.io/v1beta1", "kind": "VirtualMachineExport",
                       "metadata": {"name": "exp1"}, "spec": {"source": {"apiGroup": "", "kind":
                                                                          "PersistentVolumeClaim", "name": "root"}}},
                      "src")
    node = graph.build(inventory.Inventory.from_objects([vm, b.served_pvc("root"), snap, export], "src"), ["s"]).nodes["s"]
    assert node.snapshots == ["snap1"] and node.exports == ["exp1"]


def test_kinds_needed_follow_what_the_vms_use():
    plain = b.served_vm("p", disks=["root"])
    need = {k.kind for k in graph.kinds_needed([plain])}
    assert "Secret" not in need and "NetworkAttachmentDefinition" not in need and "DataVolume" not in need
    assert {"PersistentVolumeClaim", "Service", "NetworkPolicy"} <= need
    rich = b.served_fixture_vm("velero-plugin-fixtures/vm-with-different-volume-types.yaml")
    need = {k.kind for k in graph.kinds_needed([rich])}
    assert {"DataVolume", "Secret", "ConfigMap", "ServiceAccount"} <= need


def test_services_selecting_the_labels_kubevirt_puts_on_the_launcher_pod_belong_to_the_vm():
    # `virtctl expose` selects on vm.kubevirt.io/name (v1.5, v1.6) or vmi.kubevirt.io/id (v1.7+): labels KubeVirt
    # adds to the virt-launcher pod (services/template.go podLabels), never written in the VM's template.
    long_name = "a" * 70
    vms = [b.served_vm("web"), b.served_vm("db", extra_spec={}), b.served_vm(long_name)]
    vms[1]["spec"]["template"]["spec"]["hostname"] = "database"
    long_id = long_name[:54] + "-" + __import__("hashlib").sha1(long_name.encode()).hexdigest()[:8]
    objs = b.served_storage_basics() + vms + [
        b.served_service("web-ssh", {"vm.kubevirt.io/name": "web"}),
        b.served_service("web-id", {"vmi.kubevirt.io/id": "web"}),
        b.served_service("db-by-host", {"vm.kubevirt.io/name": "database"}),
        b.served_service("long-id", {"vmi.kubevirt.io/id": long_id}),
        b.served_service("all-launchers", {"kubevirt.io": "virt-launcher"}),
        b.served_service("by-creator", {"kubevirt.io/created-by": "some-vmi-uid"}),
        b.served_networkpolicy("launchers", {"matchLabels": {"kubevirt.io": "virt-launcher"}})]
    inv = inventory.Inventory.from_objects(objs, "src", "dst")
    g = graph.build(inv, ["web", "db", long_name])
    assert g.nodes["web"].deps["Service"] == ["all-launchers", "web-id", "web-ssh"]
    assert g.nodes["db"].deps["Service"] == ["all-launchers", "db-by-host"]
    assert g.nodes[long_name].deps["Service"] == ["all-launchers", "long-id"]
    assert g.nodes["web"].deps["NetworkPolicy"] == ["launchers"]
    # A Service of one VM is not shared with the others just because they are all virt-launcher pods.
    assert not g.is_shared("Service", "web-ssh")

"""The pure rewrites that turn source objects into target manifests, each checked against the schemas."""

import json

import pytest

from kubectl_vmmove.move import rewrite
from tests.kubesim import builders as b


def _every_field_vm():
    vm = b.load_fixture("upstream-examples/apitesting-vm-every-field.yaml")[0]
    return vm


def test_vm_for_target_strips_server_fields_and_keeps_identity():
    vm = b.served_vm("web", disks=["web-root"], running=True,
              interfaces=[{"name": "default", "masquerade": {}, "macAddress": "02:00:00:aa:bb:cc"}],
              networks=[{"name": "default", "pod": {}}],
              annotations={"kubevirt.io/latest-observed-api-version": "v1",
                           "kubevirt.io/storage-observed-api-version": "v1",
                           "kubemacpool.io/transaction-timestamp": "2026-01-01T00:00:00Z",
                           "kubectl.kubernetes.io/last-applied-configuration": "{}",
                           "team": "web"})
    vm["metadata"]["finalizers"] = ["kubevirt.io/virtualMachineControllerFinalize"]
    vm["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Foo", "name": "x", "uid": "u"}]
    vm["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    vm["spec"]["template"]["spec"]["domain"]["firmware"] = {"uuid": "5d307ca9-b3ef-428c-8861-06e72d69f223",
                                                            "serial": "SER-1"}
    out = rewrite.vm_for_target(vm, "dst", move_id="abc123", source_namespace="src")
    md = out["metadata"]
    assert md["namespace"] == "dst" and md["name"] == "web"
    for key in ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "ownerReferences",
                "finalizers"):
        assert key not in md
    assert "status" not in out
    assert md["annotations"] == {"team": "web", "vmmove.io/source": "src/web"}
    assert md["labels"]["vmmove.io/move-id"] == "abc123"
    domain = out["spec"]["template"]["spec"]["domain"]
    assert domain["firmware"] == {"uuid": "5d307ca9-b3ef-428c-8861-06e72d69f223", "serial": "SER-1"}
    assert domain["devices"]["interfaces"][0]["macAddress"] == "02:00:00:aa:bb:cc"
    assert out["spec"]["runStrategy"] == "Halted"
    assert b.schema_errors(out) == []
    # The source object is untouched.
    assert vm["metadata"]["uid"] and vm["spec"]["runStrategy"] == "Always"


def test_vm_for_target_normalises_running_to_run_strategy():
    vm = b.served_vm("a")
    del vm["spec"]["runStrategy"]
    vm["spec"]["running"] = True
    assert rewrite.run_strategy_of(vm) == "Always"
    out = rewrite.vm_for_target(vm, "dst", source_namespace="src", run_strategy=None)
    assert out["spec"]["runStrategy"] == "Always" and "running" not in out["spec"]
    vm["spec"]["running"] = False
    assert rewrite.vm_for_target(vm, "dst", source_namespace="src", run_strategy=None)["spec"]["runStrategy"] == \
        "Halted"


def test_missing_firmware_uuid_is_pinned_to_the_legacy_name_based_value():
    vm = b.served_vm("testvm")
    out = rewrite.vm_for_target(vm, "dst", source_namespace="src")
    # KubeVirt's CalculateLegacyUUID: SHA-1 name-based UUID of the VM name in namespace 6a1a24a1-...
    import uuid
    expected = str(uuid.uuid5(uuid.UUID("6a1a24a1-4061-4607-8bf4-a3963d0c5895"), "testvm"))
    assert out["spec"]["template"]["spec"]["domain"]["firmware"]["uuid"] == expected


def test_new_mac_policy_drops_mac_addresses_only():
    vm = b.served_vm("a", interfaces=[{"name": "default", "masquerade": {}, "macAddress": "02:00:00:00:00:01"}],
              networks=[{"name": "default", "pod": {}}])
    out = rewrite.vm_for_target(vm, "dst", source_namespace="src", new_macs=True)
    assert out["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"] == [{"name": "default",
                                                                                  "masquerade": {}}]


def test_data_volume_templates_get_source_namespace_and_pre_populated_annotation():
    vm = b.served(b.load_fixture("upstream-examples/vm-alpine-datavolume.yaml")[0], "src")
    tpl = vm["spec"]["dataVolumeTemplates"][0]
    tpl["spec"]["source"] = {"pvc": {"name": "golden"}}
    vm["spec"]["dataVolumeTemplates"].append({"metadata": {"name": "from-ref"}, "spec": {
        "sourceRef": {"kind": "DataSource", "name": "fedora"}, "storage": {"storageClassName": "old"}}})
    vm["spec"]["dataVolumeTemplates"].append({"metadata": {"name": "explicit"}, "spec": {
        "sourceRef": {"kind": "DataSource", "name": "rhel9", "namespace": "os-images"}, "storage": {}}})
    out = rewrite.vm_for_target(vm, "dst", source_namespace="src", storage_class_map={"old": "new"})
    t0, t1, t2 = out["spec"]["dataVolumeTemplates"]
    assert t0["spec"]["source"]["pvc"] == {"name": "golden", "namespace": "src"}
    assert t1["spec"]["sourceRef"]["namespace"] == "src"
    assert t1["spec"]["storage"]["storageClassName"] == "new"
    assert t2["spec"]["sourceRef"]["namespace"] == "os-images"
    for t in (t0, t1, t2):
        assert t["metadata"]["annotations"]["cdi.kubevirt.io/storage.prePopulated"] == t["metadata"]["name"]
    assert b.schema_errors(out) == []


def test_every_field_fixture_loses_server_fields_but_keeps_unknown_spec_fields():
    vm = _every_field_vm()
    out = rewrite.vm_for_target(vm, "dst", source_namespace="src")
    assert "status" not in out
    assert set(out["metadata"]) <= {"name", "namespace", "labels", "annotations"}
    for tpl in out["spec"].get("dataVolumeTemplates") or ():
        assert not set(tpl["metadata"]) & {"uid", "resourceVersion", "ownerReferences", "managedFields",
                                            "finalizers", "creationTimestamp"}
    # Spec fields the rewrite does not know about are carried over unchanged.
    assert out["spec"]["template"]["spec"]["domain"]["devices"] == vm["spec"]["template"]["spec"]["domain"]["devices"]


def test_instancetype_revision_name_comes_from_status_when_spec_has_none():
    vm = b.served(b.load_fixture("upstream-examples/vm-windows-clarge-windows.yaml")[0], "src")
    vm["status"] = {"instancetypeRef": {"controllerRevisionRef": {"name": "win-clarge-v1beta1-abc-1"}},
                    "preferenceRef": {"controllerRevisionRef": {"name": "win-windows-v1beta1-def-1"}}}
    out = rewrite.vm_for_target(vm, "dst", source_namespace="src")
    assert out["spec"]["instancetype"]["revisionName"] == "win-clarge-v1beta1-abc-1"
    assert out["spec"]["preference"]["revisionName"] == "win-windows-v1beta1-def-1"
    vm["spec"]["instancetype"]["revisionName"] = "explicit-rev"
    out = rewrite.vm_for_target(vm, "dst", source_namespace="src")
    assert out["spec"]["instancetype"]["revisionName"] == "explicit-rev"
    assert b.schema_errors(out) == []


def test_datavolume_for_clone_names_the_source_claim_and_maps_the_class():
    pvc = b.served_pvc("root", size="20Gi", sc="old", mode="Block",
                annotations={"cdi.kubevirt.io/storage.contentType": "kubevirt",
                             "cdi.kubevirt.io/storage.extended.clone.token": "tok"})
    out = rewrite.datavolume_for_clone(pvc, "dst", source_namespace="src", move_id="m1", storage_class="new")
    assert out["metadata"]["name"] == "root" and out["metadata"]["namespace"] == "dst"
    assert out["spec"]["source"] == {"pvc": {"namespace": "src", "name": "root"}}
    # The `pvc` API: CDI takes it verbatim, so the copy has exactly the source's size, modes and the mapped class.
    assert "storage" not in out["spec"]
    assert out["spec"]["pvc"] == {"resources": {"requests": {"storage": "20Gi"}}, "accessModes": ["ReadWriteOnce"],
                                  "volumeMode": "Block", "storageClassName": "new"}
    assert out["spec"]["contentType"] == "kubevirt"
    assert "tok" not in json.dumps(out)
    assert out["metadata"]["labels"] == {"vmmove.io/move-id": "m1"}
    assert b.schema_errors(out) == []


def test_pvc_for_transfer_pins_the_volume_and_drops_binding_state():
    pvc = b.served_pvc("root", volume="pv-123", annotations={"pv.kubernetes.io/bind-completed": "yes",
                                                     "volume.kubernetes.io/selected-node": "node1",
                                                     "keep": "me"},
                owner={"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "name": "root", "uid": "u"})
    pvc["spec"]["dataSourceRef"] = {"apiGroup": "cdi.kubevirt.io", "kind": "VolumeCloneSource", "name": "x"}
    out = rewrite.pvc_for_transfer(pvc, "dst", source_namespace="src", move_id="m1")
    assert out["spec"]["volumeName"] == "pv-123" and "dataSourceRef" not in out["spec"]
    assert out["metadata"]["annotations"] == {"keep": "me", "vmmove.io/source": "src/root"}
    assert "ownerReferences" not in out["metadata"] and "status" not in out
    assert b.schema_errors(out) == []


def test_service_loses_allocated_addresses_and_ports():
    svc = b.served_service("web", {"app": "web"}, svc_type="LoadBalancer", node_port=30022)
    out = rewrite.service_for_target(svc, "dst", move_id="m1", source_namespace="src")
    spec = out["spec"]
    assert "clusterIP" not in spec and "clusterIPs" not in spec and "healthCheckNodePort" not in spec
    assert all("nodePort" not in p for p in spec["ports"])
    assert spec["selector"] == {"app": "web"} and spec["type"] == "LoadBalancer"
    assert "status" not in out
    assert b.schema_errors(out) == []


def test_headless_service_stays_headless():
    svc = b.served_service("db", {"app": "db"}, cluster_ip="None")
    out = rewrite.service_for_target(svc, "dst")
    assert out["spec"]["clusterIP"] == "None" and "clusterIPs" not in out["spec"]


def test_pinned_node_port_fixture_is_cleared():
    svc = b.served(b.load_fixture("user-guide/service-nodeport-pinned.yaml")[0], "src")
    assert any("nodePort" in p for p in svc["spec"]["ports"])
    out = rewrite.service_for_target(svc, "dst")
    assert all("nodePort" not in p for p in out["spec"]["ports"])
    assert b.schema_errors(out) == []


def test_nad_config_naming_the_old_namespace_is_rewritten():
    nad = b.served_nad("l2", ns="src")
    out = rewrite.nad_for_target(nad, "dst", source_namespace="src")
    assert json.loads(out["spec"]["config"])["netAttachDefName"] == "dst/l2"
    assert b.schema_errors(out) == []
    other = b.served_nad("br", ns="src", config='{"cniVersion":"0.3.1","type":"bridge","bridge":"br1"}')
    assert rewrite.nad_for_target(other, "dst", source_namespace="src")["spec"]["config"] == \
        other["spec"]["config"]


@pytest.mark.parametrize("fn,obj", [
    (rewrite.secret_for_target, b.served_secret("s")),
    (rewrite.configmap_for_target, b.served_configmap("c")),
    (rewrite.networkpolicy_for_target, b.served_networkpolicy("np", {"matchLabels": {"app": "web"}})),
    (rewrite.instancetype_for_target, b.served(b.load_fixture("upstream-examples/instancetype-clarge.yaml")[0],
                                               "src")),
    (rewrite.instancetype_for_target, b.served(b.load_fixture("upstream-examples/preference-windows.yaml")[0],
                                               "src")),
])
def test_dependency_copies_are_clean_and_valid(fn, obj):
    out = fn(obj, "dst", source_namespace="src", move_id="m1")
    assert out["metadata"]["namespace"] == "dst"
    assert out["metadata"]["annotations"]["vmmove.io/source"] == f"src/{obj['metadata']['name']}"
    assert b.schema_errors(out) == []


def test_service_account_copy_has_no_token_secrets():
    out = rewrite.serviceaccount_for_target(b.served_serviceaccount("builder"), "dst", source_namespace="src")
    assert "secrets" not in out
    assert b.schema_errors(out) == []


def test_controller_revision_copy_keeps_data_and_drops_owner():
    cr = b.served({"apiVersion": "apps/v1", "kind": "ControllerRevision",
                   "metadata": {"name": "vm-clarge-1", "labels": {"instancetype.kubevirt.io/object-kind": "x"},
                                "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                                                     "name": "vm", "uid": "u", "controller": True}]},
                   "data": {"apiVersion": "instancetype.kubevirt.io/v1beta1", "kind": "VirtualMachineInstancetype",
                            "spec": {"cpu": {"guest": 4}, "memory": {"guest": "2Gi"}}}, "revision": 1}, "src")
    out = rewrite.controller_revision_for_target(cr, "dst", source_namespace="src")
    assert out["data"] == cr["data"] and out["revision"] == 1 and "ownerReferences" not in out["metadata"]
    assert b.schema_errors(out) == []


def test_schema_check_catches_a_broken_manifest():
    # The validation used above would notice a rewrite that produced something invalid.
    vm = rewrite.vm_for_target(b.served_vm("a"), "dst", source_namespace="src")
    vm["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"] = [{"name": "x", "masqurade": {}}]
    assert b.schema_errors(vm)
    svc = rewrite.service_for_target(b.served_service("s", {"a": "b"}), "dst")
    svc["spec"]["ports"][0]["tragetPort"] = 1
    assert b.schema_errors(svc)


def test_datavolume_for_clone_asks_for_the_source_capacity_not_an_inflated_storage_size():
    # A `storage` spec with a size on a Filesystem claim is inflated by CDI's filesystem overhead
    # (renderPvcSpecVolumeSize); the `pvc` spec is not. The request is the source's capacity, which is never less
    # than its request, so CDI's size check (target >= source request) holds.
    pvc = b.served_pvc("data", size="10Gi", mode="Filesystem")
    pvc["spec"]["accessModes"] = ["ReadWriteMany"]
    pvc["status"]["capacity"] = {"storage": "10752Mi"}
    out = rewrite.datavolume_for_clone(pvc, "dst", source_namespace="src", storage_class="standard")
    assert out["spec"]["pvc"]["resources"]["requests"]["storage"] == "10752Mi"
    assert out["spec"]["pvc"]["accessModes"] == ["ReadWriteMany"] and out["spec"]["pvc"]["volumeMode"] == "Filesystem"
    assert b.schema_errors(out) == []


def test_multus_network_named_with_the_source_namespace_follows_the_copied_nad():
    vm = b.served_vm("a", interfaces=[{"name": "default", "masquerade": {}}, {"name": "n1", "bridge": {}},
                               {"name": "n2", "bridge": {}}, {"name": "n3", "bridge": {}}],
              networks=[{"name": "default", "pod": {}}, {"name": "n1", "multus": {"networkName": "src/l2"}},
                        {"name": "n2", "multus": {"networkName": "shared/l2"}},
                        {"name": "n3", "multus": {"networkName": "bare"}}])
    out = rewrite.vm_for_target(vm, "dst", source_namespace="src")
    names = [n.get("multus", {}).get("networkName") for n in out["spec"]["template"]["spec"]["networks"]]
    assert names == [None, "dst/l2", "shared/l2", "bare"]
    assert vm["spec"]["template"]["spec"]["networks"][1]["multus"]["networkName"] == "src/l2"

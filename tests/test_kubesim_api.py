"""kubesim's API-server semantics, checked through the Python kubernetes client and raw HTTP."""

import json

import kubernetes
import pytest
import urllib3

from tests.kubesim import KubeSim
from tests.kubesim.http import RawClient, lines

VMS = "/apis/kubevirt.io/v1/namespaces/{ns}/virtualmachines"


def vm(name, ns="ns1", run_strategy="Halted", labels=None, **meta):
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}, **meta},
            "spec": {"runStrategy": run_strategy,
                     "template": {"spec": {"domain": {"devices": {}, "memory": {"guest": "1Gi"}}}}}}


def cm(name, ns="ns1", labels=None, **meta):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns,
                                                                  "labels": labels or {}, **meta},
            "data": {"k": "v"}}


def ns_obj(name, labels=None):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


@pytest.fixture
def sim(kubesim_factory):
    # API-server semantics only: the KubeVirt/CDI controllers would otherwise update the VMs used as plain objects.
    s = kubesim_factory(controllers=False)
    s.apply([ns_obj("ns1"), ns_obj("ns2")])
    return s


@pytest.fixture
def raw(sim):
    c = RawClient(sim)
    yield c
    c.close()


@pytest.fixture
def custom(sim):
    cfg = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=sim.kubeconfig_path, client_configuration=cfg)
    with kubernetes.client.ApiClient(cfg) as api:
        yield kubernetes.client.CustomObjectsApi(api)


# ---------------------------------------------------------------- discovery
def test_discovery_lists_served_groups_and_short_names(raw):
    groups = {g["name"] for g in raw.get("/apis").json["groups"]}
    assert {"kubevirt.io", "cdi.kubevirt.io", "subresources.kubevirt.io", "k8s.cni.cncf.io",
            "instancetype.kubevirt.io", "snapshot.storage.k8s.io", "rbac.authorization.k8s.io"} <= groups
    res = {r["name"]: r for r in raw.get("/apis/kubevirt.io/v1").json["resources"]}
    assert res["virtualmachines"]["shortNames"] == ["vm", "vms"]
    assert "virtualmachines/status" in res
    core = {r["name"]: r for r in raw.get("/api/v1").json["resources"]}
    assert core["persistentvolumes"]["namespaced"] is False and core["persistentvolumeclaims"]["shortNames"] == ["pvc"]
    # Aggregated discovery is asked for first; the legacy answer is what kubectl falls back to.
    r = raw.get("/apis", headers={"Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                                            "application/json"})
    assert r.status == 200 and r.json["kind"] == "APIGroupList"


def test_cluster_without_cdi_serves_no_cdi_group(kubesim_factory):
    sim = kubesim_factory(served_groups={"", "kubevirt.io", "subresources.kubevirt.io", "storage.k8s.io",
                                         "rbac.authorization.k8s.io"})
    raw = RawClient(sim)
    try:
        groups = {g["name"] for g in raw.get("/apis").json["groups"]}
        assert "kubevirt.io" in groups and "cdi.kubevirt.io" not in groups
        r = raw.get("/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes")
        assert r.status == 404
    finally:
        raw.close()


def test_unauthenticated_requests_get_401(sim):
    raw = RawClient(sim, token="not-a-token")
    try:
        r = raw.get("/api/v1/namespaces")
        assert r.status == 401 and r.json["reason"] == "Unauthorized"
    finally:
        raw.close()


# ---------------------------------------------------------------- objects
def test_create_assigns_server_fields_and_duplicate_is_409(custom):
    created = custom.create_namespaced_custom_object("kubevirt.io", "v1", "ns1", "virtualmachines", vm("vm1"))
    meta = created["metadata"]
    assert meta["uid"] and meta["resourceVersion"] and meta["generation"] == 1 and meta["creationTimestamp"]
    with pytest.raises(kubernetes.client.ApiException) as e:
        custom.create_namespaced_custom_object("kubevirt.io", "v1", "ns1", "virtualmachines", vm("vm1"))
    assert e.value.status == 409
    assert json.loads(e.value.body)["message"] == 'virtualmachines.kubevirt.io "vm1" already exists'


def test_generate_name(raw):
    body = vm("")
    body["metadata"] = {"generateName": "web-"}
    r = raw.post(VMS.format(ns="ns1"), body)
    assert r.status == 201 and r.json["metadata"]["name"].startswith("web-") and len(r.json["metadata"]["name"]) == 9


def test_stale_resource_version_conflicts_with_real_message(custom):
    created = custom.create_namespaced_custom_object("kubevirt.io", "v1", "ns1", "virtualmachines", vm("vm1"))
    first = json.loads(json.dumps(created))
    created["spec"]["runStrategy"] = "Always"
    updated = custom.replace_namespaced_custom_object("kubevirt.io", "v1", "ns1", "virtualmachines", "vm1", created)
    assert updated["metadata"]["generation"] == 2
    first["metadata"]["labels"] = {"x": "y"}
    with pytest.raises(kubernetes.client.ApiException) as e:
        custom.replace_namespaced_custom_object("kubevirt.io", "v1", "ns1", "virtualmachines", "vm1", first)
    assert e.value.status == 409
    assert json.loads(e.value.body)["message"] == (
        'Operation cannot be fulfilled on virtualmachines.kubevirt.io "vm1": the object has been modified; please '
        'apply your changes to the latest version and try again')


def test_metadata_change_keeps_generation_and_status_is_ignored_on_main_resource(raw):
    r = raw.post(VMS.format(ns="ns1"), dict(vm("vm1"), status={"printableStatus": "Running"}))
    assert "status" not in r.json
    r = raw.patch(VMS.format(ns="ns1") + "/vm1", {"metadata": {"labels": {"a": "b"}}, "status": {"ready": True}})
    assert r.json["metadata"]["generation"] == 1 and "status" not in r.json
    r = raw.patch(VMS.format(ns="ns1") + "/vm1/status", {"status": {"printableStatus": "Stopped"}})
    assert r.status == 200 and r.json["status"] == {"printableStatus": "Stopped"}
    assert r.json["metadata"]["generation"] == 1


def test_noop_update_writes_nothing(raw):
    r = raw.post("/api/v1/namespaces/ns1/configmaps", cm("c"))
    rv = r.json["metadata"]["resourceVersion"]
    r = raw.put("/api/v1/namespaces/ns1/configmaps/c", r.json)
    assert r.status == 200 and r.json["metadata"]["resourceVersion"] == rv


def test_create_in_missing_or_terminating_namespace(sim, raw):
    r = raw.post(VMS.format(ns="nope"), vm("vm1", ns="nope"))
    assert r.status == 404 and r.json["message"] == 'namespaces "nope" not found'
    sim.apply(cm("held", ns="ns2", finalizers=["example.com/hold"]))
    assert raw.delete("/api/v1/namespaces/ns2").status == 200
    sim.settle()
    r = raw.post("/api/v1/namespaces/ns2/configmaps", cm("new", ns="ns2"))
    assert r.status == 403
    assert r.json["message"] == ('configmaps "new" is forbidden: unable to create new content in namespace ns2 '
                                 'because it is being terminated')


def test_namespace_deletion_empties_it_then_removes_it(sim, raw):
    sim.apply([cm("a", ns="ns2"), vm("v", ns="ns2"), cm("held", ns="ns2", finalizers=["example.com/hold"])])
    raw.delete("/api/v1/namespaces/ns2")
    sim.settle()
    assert raw.get("/api/v1/namespaces/ns2").json["status"]["phase"] == "Terminating"
    assert raw.get("/api/v1/namespaces/ns2/configmaps/a").status == 404
    assert raw.get(VMS.format(ns="ns2") + "/v").status == 404
    assert raw.get("/api/v1/namespaces/ns2/configmaps/held").json["metadata"]["deletionTimestamp"]
    raw.patch("/api/v1/namespaces/ns2/configmaps/held", {"metadata": {"finalizers": None}})
    sim.settle()
    assert raw.get("/api/v1/namespaces/ns2").status == 404


# ---------------------------------------------------------------- validation
def test_wrong_type_in_custom_resource_is_422_with_field_path(raw):
    body = vm("vm1")
    body["spec"]["runStrategy"] = 7
    r = raw.post(VMS.format(ns="ns1"), body)
    assert r.status == 422 and r.json["reason"] == "Invalid"
    assert r.json["message"] == ('VirtualMachine.kubevirt.io "vm1" is invalid: spec.runStrategy: Invalid value: '
                                 '"integer": spec.runStrategy in body must be of type string: "integer"')
    assert r.json["details"]["causes"][0]["field"] == "spec.runStrategy"


def test_unknown_fields_pruned_with_warning_or_rejected_when_strict(raw):
    body = vm("vm1")
    body["spec"]["runStrategyy"] = "Always"
    r = raw.post(VMS.format(ns="ns1"), body)
    assert r.status == 201 and "runStrategyy" not in r.json["spec"]
    assert 'unknown field \\"spec.runStrategyy\\"' in r.headers["Warning"]
    body["metadata"]["name"] = "vm2"
    r = raw.post(VMS.format(ns="ns1") + "?fieldValidation=Strict", body)
    assert r.status == 400
    assert r.json["message"] == ('VirtualMachine in version "v1" cannot be handled as a VirtualMachine: strict '
                                 'decoding error: unknown field "spec.runStrategyy"')


def test_metadata_and_core_field_validation(raw):
    r = raw.post("/api/v1/namespaces/ns1/configmaps", cm("Bad_Name"))
    assert r.status == 422 and "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain" in \
        r.json["message"]
    r = raw.post("/api/v1/namespaces/ns1/configmaps", cm("ok", labels={"a": "not valid!"}))
    assert r.status == 422 and "metadata.labels: Invalid value: \"not valid!\"" in r.json["message"]
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "p"},
           "spec": {"accessModes": ["ReadWriteOnce"], "resources": {}}}
    r = raw.post("/api/v1/namespaces/ns1/persistentvolumeclaims", pvc)
    assert r.status == 422 and r.json["message"] == ('PersistentVolumeClaim "p" is invalid: spec.resources[storage]: '
                                                     'Required value')
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "***"}}
    r = raw.post("/api/v1/namespaces/ns1/secrets", secret)
    assert r.status == 400 and "illegal base64 data" in r.json["message"]
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 0}]}}
    r = raw.post("/api/v1/namespaces/ns1/services", svc)
    assert r.status == 422 and "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive" in \
        r.json["message"]


def test_secret_string_data_is_stored_as_data(raw):
    r = raw.post("/api/v1/namespaces/ns1/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                                                    "stringData": {"password": "hunter2"}})
    assert r.json["data"] == {"password": "aHVudGVyMg=="} and "stringData" not in r.json
    assert r.json["type"] == "Opaque"


def test_configmaps_and_secrets_hold_at_most_1_mib_as_on_a_real_apiserver(raw):
    import base64

    base = "/api/v1/namespaces/ns1/configmaps"
    limit = 1024 * 1024
    half = base64.b64encode(b"\0" * (limit // 2)).decode()     # binaryData counts decoded bytes
    fits = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
            "data": {"a": "x" * (limit // 2)}, "binaryData": {"b": half}}
    assert raw.post(base, fits).status == 201
    r = raw.patch(base + "/big", {"data": {"c": "y"}})
    assert r.status == 422 and r.json["reason"] == "Invalid"
    assert r.json["message"] == 'ConfigMap "big" is invalid: []: Too long: must have at most 1048576 bytes'
    assert r.json["details"]["causes"][0]["reason"] == "FieldValueTooLong"
    over = dict(fits, metadata={"name": "over"}, data={"a": "x" * (limit // 2 + 1)})
    assert raw.post(base + "?dryRun=All", over).status == 422          # dry-run is validated too
    rv = raw.get(base + "/big").json["metadata"]["resourceVersion"]
    r = raw.put(base + "/big", dict(fits, metadata={"name": "big", "resourceVersion": rv},
                                    data={"a": "x" * (limit // 2 + 1)}))
    assert r.status == 422
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
              "data": {"k": base64.b64encode(b"\0" * (limit + 1)).decode()}}
    r = raw.post("/api/v1/namespaces/ns1/secrets", secret)
    assert r.status == 422 and r.json["message"] == 'Secret "s" is invalid: data: Too long: must have at most ' \
                                                    '1048576 bytes'
    r = raw.post(base, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"},
                        "data": {"a": "x" * (3 * 1024 * 1024)}})
    assert r.status == 413 and r.json["reason"] == "RequestEntityTooLarge"
    assert r.json["message"] == "Request entity too large: limit is 3145728"
    assert raw.get(base + "/big").json["data"] == {"a": "x" * (limit // 2)}


def test_dry_run_validates_but_stores_nothing(raw):
    r = raw.post(VMS.format(ns="ns1") + "?dryRun=All", vm("vm1"))
    assert r.status == 201 and r.json["metadata"]["uid"]
    assert raw.get(VMS.format(ns="ns1") + "/vm1").status == 404
    bad = vm("vm2")
    bad["spec"]["runStrategy"] = 1
    assert raw.post(VMS.format(ns="ns1") + "?dryRun=All", bad).status == 422
    raw.post(VMS.format(ns="ns1"), vm("vm1"))
    r = raw.delete(VMS.format(ns="ns1") + "/vm1?dryRun=All")
    assert r.status == 200 and raw.get(VMS.format(ns="ns1") + "/vm1").status == 200


# ---------------------------------------------------------------- patches
def test_patch_types(raw):
    raw.post("/api/v1/namespaces/ns1/configmaps", cm("c"))
    r = raw.patch("/api/v1/namespaces/ns1/configmaps/c", [{"op": "test", "path": "/data/k", "value": "x"},
                                                          {"op": "replace", "path": "/data/k", "value": "y"}], "json")
    assert r.status == 422 and "testing value /data/k failed" in r.json["details"]["causes"][0]["message"]
    r = raw.patch("/api/v1/namespaces/ns1/configmaps/c", [{"op": "test", "path": "/data/k", "value": "v"},
                                                          {"op": "add", "path": "/data/n", "value": "1"}], "json")
    assert r.json["data"] == {"k": "v", "n": "1"}
    r = raw.patch("/api/v1/namespaces/ns1/configmaps/c", {"data": {"k": None}}, "strategic")
    assert r.json["data"] == {"n": "1"}
    raw.post(VMS.format(ns="ns1"), vm("vm1"))
    r = raw.patch(VMS.format(ns="ns1") + "/vm1", {"spec": {"runStrategy": "Always"}}, "strategic")
    assert r.status == 415
    r = raw.patch(VMS.format(ns="ns1") + "/vm1", {"metadata": {"resourceVersion": "1"}, "spec": {}}, "merge")
    assert r.status == 409


def test_strategic_merge_keeps_containers_by_name(sim, raw):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}
    raw.post("/api/v1/namespaces/ns1/pods", pod)
    r = raw.patch("/api/v1/namespaces/ns1/pods/p", {"spec": {"containers": [{"name": "b", "image": "z"}]}},
                  "strategic")
    assert [(c["name"], c["image"]) for c in r.json["spec"]["containers"]] == [("a", "x"), ("b", "z")]


# ---------------------------------------------------------------- lists
def test_label_and_field_selectors(sim, raw):
    sim.apply([cm("a", labels={"tier": "web", "env": "prod"}), cm("b", labels={"tier": "db"}), cm("c"),
               cm("d", ns="ns2", labels={"tier": "web"})])

    def names(q, ns="ns1"):
        path = f"/api/v1/namespaces/{ns}/configmaps" if ns else "/api/v1/configmaps"
        r = raw.get(path + "?" + q)
        assert r.status == 200, r
        # every namespace has the root-CA ConfigMap (no labels), as on a real cluster
        return [i["metadata"]["name"] for i in r.json["items"] if i["metadata"]["name"] != "kube-root-ca.crt"]
    assert names("labelSelector=tier%3Dweb") == ["a"]
    assert names("labelSelector=tier!%3Dweb") == ["b", "c"]
    assert names("labelSelector=tier%20in%20(web,db)") == ["a", "b"]
    assert names("labelSelector=tier%20notin%20(web)") == ["b", "c"]
    assert names("labelSelector=!tier") == ["c"]
    assert names("labelSelector=tier,env%3D%3Dprod") == ["a"]
    assert names("fieldSelector=metadata.name%3Db") == ["b"]
    assert names("labelSelector=tier%3Dweb", ns=None) == ["a", "d"]
    assert names("fieldSelector=metadata.namespace%3Dns2", ns=None) == ["d"]
    assert raw.get("/api/v1/namespaces/ns1/configmaps?fieldSelector=spec.x%3D1").status == 400


def test_paging_with_continue_and_expired_token(sim, raw):
    sim.apply([cm(f"c{i:02d}") for i in range(25)])
    seen, cont, pages = [], "", 0
    while True:
        r = raw.get("/api/v1/namespaces/ns1/configmaps?limit=10" + (f"&continue={cont}" if cont else ""))
        pages += 1
        seen += [i["metadata"]["name"] for i in r.json["items"]]
        cont = r.json["metadata"].get("continue")
        if pages == 1:
            assert r.json["metadata"]["remainingItemCount"] == 16   # 25 + kube-root-ca.crt - 10
            first_token = cont
        if not cont:
            break
    assert pages == 3 and seen == [f"c{i:02d}" for i in range(25)] + ["kube-root-ca.crt"]
    sim.apply(cm("later"))
    sim.store.compact()   # as etcd compaction does: revisions before now are gone
    r = raw.get(f"/api/v1/namespaces/ns1/configmaps?limit=10&continue={first_token}")
    assert r.status == 410 and r.json["reason"] == "Expired"


def test_metadata_only_list_and_get_carry_no_data(sim, raw):
    sim.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns1", "labels": {"a": "b"}},
               "stringData": {"password": "hunter2"}})
    accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
    r = raw.get("/api/v1/namespaces/ns1/secrets", headers={"Accept": accept})
    assert r.json["kind"] == "PartialObjectMetadataList" and r.json["apiVersion"] == "meta.k8s.io/v1"
    item = r.json["items"][0]
    assert set(item) == {"kind", "apiVersion", "metadata"} and item["metadata"]["labels"] == {"a": "b"}
    assert b"aHVudGVyMg" not in r.data
    r = raw.get("/api/v1/namespaces/ns1/secrets/s",
                headers={"Accept": "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"})
    assert r.json["kind"] == "PartialObjectMetadata" and "data" not in r.json


def test_table_for_kubectl_get(sim, raw):
    sim.apply(vm("vm1"))
    r = raw.get(VMS.format(ns="ns1"), headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    table = r.json
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age", "Status", "Ready"]
    assert table["rows"][0]["cells"][0] == "vm1"
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


# ---------------------------------------------------------------- watch
def _watch(raw, path, n, timeout=5):
    resp = raw.stream(path, timeout=timeout)
    out = []
    try:
        for ev in lines(resp):
            out.append(ev)
            if len(out) >= n:
                break
    finally:
        resp.release_conn()
        resp.close()
    return out


def test_watch_from_list_resource_version_has_no_gap(sim, raw):
    sim.apply(cm("before"))
    rv = raw.get("/api/v1/namespaces/ns1/configmaps").json["metadata"]["resourceVersion"]
    sim.apply([cm("after"), cm("other", ns="ns2")])
    sim.delete("configmaps", "before", "ns1")
    events = _watch(raw, f"/api/v1/namespaces/ns1/configmaps?watch=1&resourceVersion={rv}", 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "after"),
                                                                             ("DELETED", "before")]
    assert int(events[1]["object"]["metadata"]["resourceVersion"]) > int(rv)


def test_watch_without_resource_version_starts_with_current_state(sim, raw):
    sim.apply([cm("a"), cm("b")])
    events = _watch(raw, "/api/v1/namespaces/ns1/configmaps?watch=true", 2)
    assert {(e["type"], e["object"]["metadata"]["name"]) for e in events} == {("ADDED", "a"), ("ADDED", "b")}


def test_watch_too_old_resource_version_gets_410_error_event(kubesim_factory):
    sim = kubesim_factory(history=5)
    sim.apply(ns_obj("ns1"))
    raw = RawClient(sim)
    try:
        rv = raw.get("/api/v1/namespaces/ns1/configmaps").json["metadata"]["resourceVersion"]
        sim.apply([cm(f"c{i}") for i in range(10)])
        events = _watch(raw, f"/api/v1/namespaces/ns1/configmaps?watch=1&resourceVersion={rv}", 1)
        assert events[0]["type"] == "ERROR"
        assert events[0]["object"]["code"] == 410 and events[0]["object"]["reason"] == "Expired"
        assert events[0]["object"]["message"].startswith(f"too old resource version: {rv} (")
    finally:
        raw.close()


def test_watch_with_selector_sees_objects_leave_and_single_object_by_name(sim, raw):
    sim.apply([cm("a", labels={"app": "x"}), cm("b", labels={"app": "x"})])
    rv = sim.store.resource_version
    raw.patch("/api/v1/namespaces/ns1/configmaps/a", {"metadata": {"labels": {"app": "y"}}})
    raw.patch("/api/v1/namespaces/ns1/configmaps/b", {"data": {"k": "2"}})
    events = _watch(raw, f"/api/v1/namespaces/ns1/configmaps?watch=1&resourceVersion={rv}&labelSelector=app%3Dx", 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("DELETED", "a"), ("MODIFIED", "b")]
    events = _watch(raw, f"/api/v1/namespaces/ns1/configmaps?watch=1&resourceVersion={rv}"
                         f"&fieldSelector=metadata.name%3Db", 1)
    assert events[0]["object"]["metadata"]["name"] == "b"


def test_watch_bookmarks_and_timeout(kubesim_factory):
    sim = kubesim_factory(bookmark_interval=0.05)
    raw = RawClient(sim)
    try:
        rv = sim.store.resource_version
        events = _watch(raw, f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}"
                             f"&allowWatchBookmarks=true&timeoutSeconds=1", 1)
        assert events[0]["type"] == "BOOKMARK" and events[0]["object"]["metadata"]["resourceVersion"]
        resp = raw.stream(f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}&timeoutSeconds=0.2")
        assert list(lines(resp)) == []   # the stream ends by itself
        resp.release_conn()
    finally:
        raw.close()


def test_python_client_watch(sim):
    cfg = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=sim.kubeconfig_path, client_configuration=cfg)
    with kubernetes.client.ApiClient(cfg) as api:
        core = kubernetes.client.CoreV1Api(api)
        rv = core.list_namespaced_config_map("ns1").metadata.resource_version
        sim.apply(cm("w"))
        w = kubernetes.watch.Watch()
        for ev in w.stream(core.list_namespaced_config_map, "ns1", resource_version=rv, timeout_seconds=5):
            assert ev["type"] == "ADDED" and ev["object"].metadata.name == "w"
            w.stop()


# ---------------------------------------------------------------- deletion
def test_finalizers_hold_deletion_until_removed(sim, raw):
    sim.apply(vm("vm1", finalizers=["example.com/keep"]))
    r = raw.delete(VMS.format(ns="ns1") + "/vm1")
    assert r.status == 200 and r.json["metadata"]["deletionTimestamp"]
    assert raw.get(VMS.format(ns="ns1") + "/vm1").status == 200
    r = raw.patch(VMS.format(ns="ns1") + "/vm1", {"metadata": {"finalizers": ["example.com/keep", "new/one"]}})
    assert r.json["metadata"]["finalizers"] == ["example.com/keep"]   # none can be added while deleting
    raw.patch(VMS.format(ns="ns1") + "/vm1", [{"op": "remove", "path": "/metadata/finalizers"}], "json")
    assert raw.get(VMS.format(ns="ns1") + "/vm1").status == 404


def test_delete_preconditions(sim, raw):
    uid = sim.apply(cm("c"))[0]["metadata"]["uid"]
    r = raw.delete("/api/v1/namespaces/ns1/configmaps/c", {"preconditions": {"uid": "other"}})
    assert r.status == 409 and "the UID in the precondition (other) does not match" in r.json["message"]
    assert raw.delete("/api/v1/namespaces/ns1/configmaps/c", {"preconditions": {"uid": uid}}).status == 200


def _owned(name, owner, ns="ns1", block=False, **meta):
    ref = {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
           "uid": owner["metadata"]["uid"]}
    if block:
        ref["blockOwnerDeletion"] = True
    return cm(name, ns=ns, ownerReferences=[ref], **meta)


def test_garbage_collection_background_and_cross_namespace_owner(sim, raw):
    owner = sim.apply(vm("owner"))[0]
    sim.apply([_owned("dep", owner), _owned("elsewhere", owner, ns="ns2")])
    sim.settle()
    # An owner reference never resolves across namespaces: the real GC deletes such a dependent.
    assert raw.get("/api/v1/namespaces/ns2/configmaps/elsewhere").status == 404
    assert raw.get("/api/v1/namespaces/ns1/configmaps/dep").status == 200
    raw.delete(VMS.format(ns="ns1") + "/owner")
    assert raw.get(VMS.format(ns="ns1") + "/owner").status == 404
    sim.settle()
    assert raw.get("/api/v1/namespaces/ns1/configmaps/dep").status == 404


def test_garbage_collection_orphan_and_foreground(sim, raw):
    owner = sim.apply(vm("owner"))[0]
    sim.apply(_owned("kept", owner))
    raw.delete(VMS.format(ns="ns1") + "/owner", {"propagationPolicy": "Orphan"})
    sim.settle()
    assert raw.get(VMS.format(ns="ns1") + "/owner").status == 404
    kept = raw.get("/api/v1/namespaces/ns1/configmaps/kept").json
    assert "ownerReferences" not in kept["metadata"]

    owner = sim.apply(vm("owner2"))[0]
    sim.apply(_owned("child", owner, block=True, finalizers=["example.com/hold"]))
    r = raw.delete(VMS.format(ns="ns1") + "/owner2", {"propagationPolicy": "Foreground"})
    assert "foregroundDeletion" in r.json["metadata"]["finalizers"]
    sim.settle()
    assert raw.get(VMS.format(ns="ns1") + "/owner2").status == 200     # waits for its blocking dependent
    assert raw.get("/api/v1/namespaces/ns1/configmaps/child").json["metadata"]["deletionTimestamp"]
    raw.patch("/api/v1/namespaces/ns1/configmaps/child", {"metadata": {"finalizers": None}})
    sim.settle()
    assert raw.get(VMS.format(ns="ns1") + "/owner2").status == 404


# ---------------------------------------------------------------- RBAC
def _bind(sim, user, role, ns="ns1", kind="ClusterRole", name=None):
    sim.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": name or f"{user}-{role}", "namespace": ns},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})


def test_rbac_forbidden_message_and_aggregated_roles(sim):
    sim.apply(vm("vm1"))
    alice = RawClient(sim, user="alice")
    try:
        r = alice.get(VMS.format(ns="ns1") + "/vm1")
        assert r.status == 403
        assert r.json["message"] == ('virtualmachines.kubevirt.io "vm1" is forbidden: User "alice" cannot get '
                                     'resource "virtualmachines" in API group "kubevirt.io" in the namespace "ns1"')
        assert alice.get("/api/v1/persistentvolumes").json["message"] == (
            'persistentvolumes is forbidden: User "alice" cannot list resource "persistentvolumes" in API group "" '
            'at the cluster scope')
        _bind(sim, "alice", "view")
        sim.settle()
        assert alice.get(VMS.format(ns="ns1") + "/vm1").status == 200
        assert alice.get(VMS.format(ns="ns2") + "/vm1").status == 403
        assert alice.get("/api/v1/namespaces/ns1/secrets").status == 403    # view does not read secrets
        start = "/apis/subresources.kubevirt.io/v1/namespaces/ns1/virtualmachines/vm1/start"
        r = alice.put(start, {})
        assert r.status == 403 and 'cannot update resource "virtualmachines/start" in API group ' \
                                   '"subresources.kubevirt.io"' in r.json["message"]
    finally:
        alice.close()


def test_rbac_resource_names_and_subresources(sim):
    sim.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"name": "one-vm", "namespace": "ns1"},
               "rules": [{"apiGroups": ["kubevirt.io"], "resources": ["virtualmachines"], "verbs": ["get"],
                          "resourceNames": ["vm1"]},
                         {"apiGroups": ["cdi.kubevirt.io"], "resources": ["datavolumes/source"],
                          "verbs": ["create"]}]})
    _bind(sim, "bob", "one-vm", kind="Role")
    sim.apply([vm("vm1"), vm("vm2")])
    bob = RawClient(sim, user="bob")
    try:
        assert bob.get(VMS.format(ns="ns1") + "/vm1").status == 200
        assert bob.get(VMS.format(ns="ns1") + "/vm2").status == 403
        assert bob.get(VMS.format(ns="ns1")).status == 403     # a named rule does not grant list
        assert sim.authorize("bob", "create", "cdi.kubevirt.io", "datavolumes", "source", "ns1")
        assert not sim.authorize("bob", "create", "cdi.kubevirt.io", "datavolumes", "", "ns1")
    finally:
        bob.close()


def test_self_subject_access_review_and_impersonation(sim, raw):
    _bind(sim, "carol", "edit")
    sim.settle()
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"namespace": "ns1", "verb": "update", "group": "subresources.kubevirt.io",
                                              "resource": "virtualmachines", "subresource": "start"}}}
    carol = RawClient(sim, user="carol")
    try:
        r = carol.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review)
        assert r.status == 201 and r.json["status"]["allowed"] is True
        review["spec"]["resourceAttributes"]["namespace"] = "ns2"
        assert carol.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review).json["status"] == \
            {"allowed": False}
        # carol may not impersonate anyone.
        r = carol.get("/api/v1/namespaces/ns1/configmaps", headers={"Impersonate-User": "admin"})
        assert r.status == 403 and r.json["message"] == (
            'users "admin" is forbidden: User "carol" cannot impersonate resource "users" in API group "" at the '
            'cluster scope')
    finally:
        carol.close()
    # admin impersonating carol gets carol's rights.
    r = raw.get("/api/v1/namespaces/ns2/configmaps", headers={"Impersonate-User": "carol"})
    assert r.status == 403 and 'User "carol" cannot list' in r.json["message"]
    r = raw.get("/api/v1/namespaces/ns2/configmaps", headers={"Impersonate-User": "carol",
                                                              "Impersonate-Group": "system:masters"})
    assert r.status == 200
    sar = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
           "spec": {"user": "carol", "resourceAttributes": {"namespace": "ns1", "verb": "create", "group": "",
                                                              "resource": "secrets"}}}
    r = raw.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", sar)
    assert r.json["status"]["allowed"] is True and "RoleBinding" in r.json["status"]["reason"]


# ---------------------------------------------------------------- quota
def _pvc(name, size, sc=None):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if sc:
        spec["storageClassName"] = sc
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "ns1"},
            "spec": spec}


def test_resource_quota_admission_and_status(sim, raw):
    sim.apply({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "storage", "namespace": "ns1"},
               "spec": {"hard": {"requests.storage": "20Gi", "persistentvolumeclaims": "5",
                                 "fast.storageclass.storage.k8s.io/requests.storage": "5Gi",
                                 "count/virtualmachines.kubevirt.io": "1"}}})
    assert raw.post("/api/v1/namespaces/ns1/persistentvolumeclaims", _pvc("a", "15Gi")).status == 201
    r = raw.post("/api/v1/namespaces/ns1/persistentvolumeclaims", _pvc("b", "10Gi"))
    assert r.status == 403
    assert r.json["message"] == ('persistentvolumeclaims "b" is forbidden: exceeded quota: storage, requested: '
                                 'requests.storage=10Gi, used: requests.storage=15Gi, limited: requests.storage=20Gi')
    r = raw.post("/api/v1/namespaces/ns1/persistentvolumeclaims", _pvc("c", "3Gi", sc="fast"))
    assert r.status == 201
    r = raw.post("/api/v1/namespaces/ns1/persistentvolumeclaims", _pvc("d", "3Gi", sc="fast"))
    assert r.status == 403 and "fast.storageclass.storage.k8s.io/requests.storage=3Gi" in r.json["message"]
    assert raw.post(VMS.format(ns="ns1"), vm("v1")).status == 201
    r = raw.post(VMS.format(ns="ns1"), vm("v2"))
    assert r.status == 403 and "count/virtualmachines.kubevirt.io=1" in r.json["message"]
    sim.settle()
    used = raw.get("/api/v1/namespaces/ns1/resourcequotas/storage").json["status"]["used"]
    assert used["requests.storage"] == "18Gi" and used["persistentvolumeclaims"] == "2"


# ---------------------------------------------------------------- faults and request log
def test_injected_errors_are_counted_and_stop_after_times(sim, raw):
    sim.faults.inject(verb="list", resource="configmaps", status=503, times=2)
    sim.faults.inject(verb="get", resource="virtualmachines.kubevirt.io", status=429, retry_after=3)
    sim.requests.reset()
    codes = [raw.get("/api/v1/namespaces/ns1/configmaps").status for _ in range(3)]
    assert codes == [503, 503, 200]
    r = raw.get(VMS.format(ns="ns1") + "/x")
    assert r.status == 429 and r.headers["Retry-After"] == "3" and r.json["reason"] == "TooManyRequests"
    assert sim.requests.count(verb="list", resource="configmaps") == 3
    assert sim.requests.count(verb="get", resource="virtualmachines.kubevirt.io", namespace="ns1") == 1
    assert [e.status for e in sim.requests.entries][:3] == [503, 503, 200]


def test_connection_reset_fault(sim, raw):
    sim.faults.inject(verb="get", resource="configmaps", status="reset", times=1)
    sim.apply(cm("c"))
    with pytest.raises(urllib3.exceptions.HTTPError):
        raw.get("/api/v1/namespaces/ns1/configmaps/c")
    assert raw.get("/api/v1/namespaces/ns1/configmaps/c").status == 200
    assert [e.fault for e in sim.requests.entries if e.resource == "configmaps"][-2:] == ["reset", ""]


def test_faults_are_deterministic_for_a_seed():
    def pattern(seed):
        sim = KubeSim(seed=seed, controllers=False)
        sim.faults.inject(verb="get", status=500, rate=0.5)
        return [bool(sim.faults.pick("get", "", "pods")) for _ in range(30)]
    assert pattern(7) == pattern(7) and pattern(7) != pattern(8)


def test_dropped_watch_stream(sim, raw):
    sim.faults.drop_watches(1.0)
    sim.apply([cm("a"), cm("b")])
    resp = raw.stream("/api/v1/namespaces/ns1/configmaps?watch=1")
    got = []
    with pytest.raises(urllib3.exceptions.HTTPError):
        for ev in lines(resp):
            got.append(ev)
    assert len(got) == 1
    assert any(e.fault == "watch-drop" for e in sim.requests.entries)


def _node_port_service(name, ns="ns1", node_port=None):
    port = {"name": "http", "port": 80}
    if node_port:
        port["nodePort"] = node_port
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"type": "NodePort", "selector": {"app": name}, "ports": [port]}}


def test_node_ports_are_allocated_at_random_above_the_static_band_and_held_by_one_service(raw):
    # kube-apiserver (portallocator, ServiceNodePortStaticSubrange): a port left out comes from 30086-32767, the
    # band above the 86 ports of the default range kept for ports users choose; a taken port is a 422.
    allocated = []
    for i in range(12):
        r = raw.post("/api/v1/namespaces/ns1/services", _node_port_service(f"s{i}"))
        assert r.status == 201, r.json
        allocated.append(r.json["spec"]["ports"][0]["nodePort"])
    assert all(30086 <= p <= 32767 for p in allocated), allocated
    assert len(set(allocated)) == len(allocated)
    assert allocated != sorted(allocated)       # picked at random, not one after the other
    r = raw.post("/api/v1/namespaces/ns2/services", _node_port_service("copy", "ns2", allocated[0]))
    assert r.status == 422
    assert r.json["message"] == (f'Service "copy" is invalid: spec.ports[0].nodePort: Invalid value: {allocated[0]}: '
                                 "provided port is already allocated")
    assert raw.post("/api/v1/namespaces/ns2/services", _node_port_service("low", "ns2", 30001)).status == 201
    # Deleting the holder gives the port back: another Service may then ask for it.
    assert raw.delete("/api/v1/namespaces/ns1/services/s0").status == 200
    r = raw.post("/api/v1/namespaces/ns2/services", _node_port_service("copy", "ns2", allocated[0]))
    assert r.status == 201 and r.json["spec"]["ports"][0]["nodePort"] == allocated[0]


def test_a_local_load_balancer_gets_a_health_check_node_port_that_no_other_service_may_hold(raw):
    # kube-apiserver (storage/alloc.go allocHealthCheckNodePort): LoadBalancer + externalTrafficPolicy Local.
    lb = _node_port_service("lb")
    lb["spec"].update(type="LoadBalancer", externalTrafficPolicy="Local")
    r = raw.post("/api/v1/namespaces/ns1/services", lb)
    assert r.status == 201, r.json
    health, port = r.json["spec"]["healthCheckNodePort"], r.json["spec"]["ports"][0]["nodePort"]
    assert 30086 <= health <= 32767 and health != port
    r = raw.post("/api/v1/namespaces/ns2/services", _node_port_service("np", "ns2", health))
    assert r.status == 422 and "provided port is already allocated" in r.json["message"]
    copy = _node_port_service("lb", "ns2")
    copy["spec"].update(type="LoadBalancer", externalTrafficPolicy="Local", healthCheckNodePort=health)
    r = raw.post("/api/v1/namespaces/ns2/services", copy)
    assert r.status == 500 and r.json["message"] == (f"Internal error occurred: failed to allocate requested "
                                                     f"HealthCheck NodePort {health}: provided port is already "
                                                     "allocated")
    # An update that leaves it out keeps it (patchAllocatedValues).
    current = raw.get("/api/v1/namespaces/ns1/services/lb").json
    del current["spec"]["healthCheckNodePort"]
    r = raw.put("/api/v1/namespaces/ns1/services/lb", current)
    assert r.status == 200 and r.json["spec"]["healthCheckNodePort"] == health


def test_an_update_that_leaves_node_ports_out_keeps_them_by_port_name(raw):
    # kube-apiserver (storage.go patchAllocatedValues): a PUT without nodePort keeps the port of the same name.
    svc = _node_port_service("keep")
    svc["spec"]["ports"].append({"name": "https", "port": 443})
    created = raw.post("/api/v1/namespaces/ns1/services", svc).json
    ports = {p["name"]: p["nodePort"] for p in created["spec"]["ports"]}
    body = dict(created)
    body["spec"] = dict(created["spec"], ports=[{"name": "https", "port": 8443}, {"name": "http", "port": 80}])
    r = raw.put("/api/v1/namespaces/ns1/services/keep", body)
    assert r.status == 200, r.json
    assert {p["name"]: p["nodePort"] for p in r.json["spec"]["ports"]} == ports

"""kubesim answers as a stock kube-apiserver v1.28.7 does (with KubeVirt's and CDI's CRDs and cluster RBAC): one test
per line of ../shared/reference/kube-apiserver-fidelity.md, each asserting what the real server answered there."""

import json
import os
import subprocess

import pytest
import yaml

from kubectl_vmmove import cli
from tests.kubesim import builders as kb
from tests.kubesim.http import RawClient

RBAC = "rbac.authorization.k8s.io"
SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
SSRR = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


@pytest.fixture
def sim(kubesim_factory):
    s = kubesim_factory(controllers=False)
    s.apply(kb.namespace("ns1") + kb.namespace("legacy"))
    s.settle(timeout=10)
    return s


@pytest.fixture
def raw(sim):
    c = RawClient(sim)
    yield c
    c.close()


def _binding(name, ns, role, user, kind="ClusterRole"):
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": ns},
            "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role},
            "subjects": [{"apiGroup": RBAC, "kind": "User", "name": user}]}


def _user(sim, name):
    return RawClient(sim, user=name)


def _can(client, verb, resource, ns="ns1", group="", subresource=""):
    ra = {"verb": verb, "resource": resource, "group": group, "namespace": ns, "subresource": subresource}
    r = client.post(SSAR, {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                           "spec": {"resourceAttributes": ra}})
    assert r.status == 201, r
    return r.json["status"]


def _kubectl(sim, *args, user=None, tmp_path=None):
    config = sim.kubeconfig_path if user is None else sim.write_kubeconfig(str(tmp_path / f"kc-{user}"), user=user)
    env = dict(os.environ, HOME=str(tmp_path), KUBECACHEDIR=str(tmp_path / "cache"))
    return subprocess.run(["kubectl", "--kubeconfig", config, "--cache-dir", str(tmp_path / "cache"), *args],
                          capture_output=True, text=True, env=env, timeout=60)


# ---------------------------------------------------------------- RBAC and access reviews
@pytest.mark.parametrize("role", ["edit", "admin"])
def test_edit_and_admin_may_only_read_controllerrevisions(sim, role):
    sim.apply([_binding("alice", "ns1", role, "alice")])
    sim.settle(timeout=10)
    alice = _user(sim, "alice")
    for verb in ("get", "list", "watch"):
        assert _can(alice, verb, "controllerrevisions", group="apps")["allowed"] is True
    for verb in ("create", "update", "patch", "delete"):
        assert _can(alice, verb, "controllerrevisions", group="apps")["allowed"] is False


@pytest.mark.parametrize("role", ["edit", "admin"])
def test_edit_and_admin_may_write_events(sim, role):
    sim.apply([_binding("alice", "ns1", role, "alice")])
    sim.settle(timeout=10)
    alice = _user(sim, "alice")
    for verb in ("create", "update", "patch", "delete"):
        assert _can(alice, verb, "events")["allowed"] is True


def test_plan_as_a_namespace_admin_sees_controllerrevisions_blocked_and_no_events_warning(kubesim_factory, capsys,
                                                                                         tmp_path):
    sim = kubesim_factory()
    it = {"apiVersion": "instancetype.kubevirt.io/v1beta1", "kind": "VirtualMachineInstancetype",
          "metadata": {"name": "small", "namespace": "src"}, "spec": {"cpu": {"guest": 1}, "memory": {"guest": "1Gi"}}}
    sim.apply(kb.namespace("src") + kb.namespace("dst") + [it] +
              kb.vm("web", "src", disks=(("rootdisk", "1Gi"),), instancetype=("VirtualMachineInstancetype", "small")) +
              [_binding("alice", ns, "admin", "alice") for ns in ("src", "dst")])
    sim.settle(timeout=60)
    config = sim.write_kubeconfig(str(tmp_path / "alice"), user="alice", namespace="src")
    rc = cli.main(["--kubeconfig", config, "plan", "--to", "dst", "web", "-o", "yaml"])
    doc = yaml.safe_load(capsys.readouterr().out)
    findings = doc["status"]["findings"]
    assert rc == 1
    assert any(f["code"] == "PermissionDenied" and "create controllerrevisions" in f["message"] for f in findings)
    assert not any("events" in f["message"] for f in findings), findings


def test_every_authenticated_user_gets_the_default_cluster_bindings(sim):
    nobody = _user(sim, "nobody")
    assert _can(nobody, "list", "kubevirts", ns="", group="kubevirt.io")["allowed"] is True
    assert _can(nobody, "get", "cdiconfigs", ns="", group="cdi.kubevirt.io")["allowed"] is True
    assert _can(nobody, "list", "storageprofiles", ns="", group="cdi.kubevirt.io")["allowed"] is True
    assert _can(nobody, "list", "virtualmachineclusterinstancetypes", ns="",
                group="instancetype.kubevirt.io")["allowed"] is True
    assert _can(nobody, "create", "selfsubjectrulesreviews", ns="", group="authorization.k8s.io")["allowed"] is True
    bound = {b["metadata"]["name"] for b in sim.list("clusterrolebindings")
             if {"kind": "Group", "name": "system:authenticated", "apiGroup": RBAC} in b.get("subjects", [])}
    assert {"system:basic-user", "system:discovery", "kubevirt.io:default", "cdi.kubevirt.io:config-reader",
            "instancetype.kubevirt.io:view"} <= bound
    assert _can(nobody, "list", "virtualmachines", group="kubevirt.io")["allowed"] is False


def test_version_verb_of_a_user_without_rights_reads_the_kubevirt_version(kubesim_factory, capsys, tmp_path):
    sim = kubesim_factory()
    sim.settle(timeout=30)
    config = sim.write_kubeconfig(str(tmp_path / "nobody"), user="nobody")
    rc = cli.main(["--kubeconfig", config, "version"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    kv = sim.list("kubevirts.kubevirt.io")[0]
    line = next(x for x in out.splitlines() if x.startswith("KubeVirt"))
    assert line.split()[-1] == kv["status"]["observedKubeVirtVersion"], out


def test_rules_review_in_a_namespace_without_bindings_lists_cluster_and_non_resource_rules(sim):
    r = _user(sim, "nobody").post(SSRR, {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                                         "spec": {"namespace": "ns1"}})
    assert r.status == 201
    status = r.json["status"]
    urls = {u for rule in status["nonResourceRules"] for u in rule["nonResourceURLs"]}
    assert {"/api", "/apis/*", "/version"} <= urls
    granted = {(g, res, v) for rule in status["resourceRules"] for g in rule.get("apiGroups", [])
               for res in rule["resources"] for v in rule["verbs"]}
    assert ("authorization.k8s.io", "selfsubjectaccessreviews", "create") in granted
    assert ("kubevirt.io", "kubevirts", "list") in granted


def test_rules_review_without_a_namespace_is_a_bad_request(sim):
    r = _user(sim, "nobody").post(SSRR, {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                                         "spec": {}})
    assert r.status == 400
    assert r.json["reason"] == "BadRequest" and r.json["message"] == "no namespace on request"


def test_access_review_reason_names_the_rolebinding_with_its_namespace(sim):
    sim.apply([_binding("alice-view", "legacy", "view", "alice")])
    sim.settle(timeout=10)
    status = _can(_user(sim, "alice"), "list", "configmaps", ns="legacy")
    assert status["allowed"] is True
    assert status["reason"] == 'RBAC: allowed by RoleBinding "alice-view/legacy" of ClusterRole "view" to User "alice"'


def test_access_review_with_an_empty_spec_is_invalid_as_the_real_validation_says(raw):
    r = raw.post(SSAR, {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}})
    assert r.status == 422
    assert r.json["message"] == ('.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: '
                                 '"null": exactly one of nonResourceAttributes or resourceAttributes must be specified')
    assert [c["reason"] for c in r.json["details"]["causes"]] == ["FieldValueInvalid"]


def test_kubectl_auth_can_i_list_works(sim, tmp_path):
    sim.apply([_binding("alice-view", "ns1", "view", "alice")])
    sim.settle(timeout=10)
    p = _kubectl(sim, "auth", "can-i", "--list", "-n", "ns1", user="alice", tmp_path=tmp_path)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:2] == ["Resources", "Non-Resource"]
    assert any(line.split()[0] == "configmaps" and "[get list watch]" in line for line in lines)
    assert any(line.split()[0] == "kubevirts.kubevirt.io" for line in lines)
    assert any(line.split()[0] == "[/api/*]" for line in lines if line.startswith(" "))


def test_kubectl_auth_whoami_works(sim, tmp_path):
    p = _kubectl(sim, "auth", "whoami", "-o", "json", user="alice", tmp_path=tmp_path)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["kind"] == "SelfSubjectReview"
    assert doc["status"]["userInfo"]["username"] == "alice"
    assert "system:authenticated" in doc["status"]["userInfo"]["groups"]


# ---------------------------------------------------------------- namespace contents made by controllers
def test_every_namespace_gets_a_default_service_account(sim):
    for ns in ("default", "kube-system", "ns1", "legacy"):
        assert sim.get("serviceaccounts", "default", ns) is not None, ns


def test_every_namespace_gets_kube_root_ca_counted_by_quota(sim):
    sim.apply(kb.namespace("empty") + [{"apiVersion": "v1", "kind": "ResourceQuota",
                                         "metadata": {"name": "q", "namespace": "empty"},
                                         "spec": {"hard": {"configmaps": "5"}}}])
    sim.settle(timeout=10)
    cm = sim.get("configmaps", "kube-root-ca.crt", "empty")
    assert cm is not None and cm["data"]["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    assert sim.get("resourcequotas", "q", "empty")["status"]["used"]["configmaps"] == "1"


def test_plan_of_a_vm_mounting_the_default_service_account_and_root_ca_is_movable(kubesim_factory, capsys):
    sim = kubesim_factory()
    vm = kb.vm("web", "src", disks=(("rootdisk", "1Gi"),))
    for obj in vm:
        if obj["kind"] == "VirtualMachine":
            tspec = obj["spec"]["template"]["spec"]
            tspec["volumes"] += [{"name": "sa", "serviceAccount": {"serviceAccountName": "default"}},
                                 {"name": "ca", "configMap": {"name": "kube-root-ca.crt"}}]
            tspec["domain"]["devices"]["disks"] += [{"name": "sa", "disk": {}}, {"name": "ca", "disk": {}}]
    sim.apply(kb.namespace("src") + kb.namespace("dst") + vm)
    sim.settle(timeout=60)
    rc = cli.main(["--kubeconfig", sim.kubeconfig_path, "plan", "-n", "src", "--to", "dst", "web", "-o", "yaml"])
    out, err = capsys.readouterr()
    doc = yaml.safe_load(out)
    codes = [f["code"] for f in doc["status"]["findings"]]
    assert "MissingDependency" not in codes, doc["status"]["findings"]
    assert rc == 0, err
    # the target namespace has its own: nothing to copy, nothing to clean up in the source
    entry = doc["spec"]["vms"][0]
    touched = {(s["kind"], s["name"]) for s in entry["steps"] + entry["cleanup"]}
    assert not touched & {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}


# ---------------------------------------------------------------- defaulting and metadata
def test_network_policy_policy_types_are_defaulted(raw):
    base = "/apis/networking.k8s.io/v1/namespaces/ns1/networkpolicies"
    r = raw.post(base, {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": "in"}, "spec": {"podSelector": {}}})
    assert r.status == 201 and r.json["spec"]["policyTypes"] == ["Ingress"]
    r = raw.post(base, {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "both"},
                        "spec": {"podSelector": {}, "egress": [{}]}})
    assert r.status == 201 and r.json["spec"]["policyTypes"] == ["Ingress", "Egress"]


def test_managed_fields_on_objects_and_responses(raw):
    cms = "/api/v1/namespaces/ns1/configmaps"
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "v"}}
    r = raw.post(cms, body, headers={"User-Agent": "kubectl-create/v1.28.7 (linux/amd64)"})
    mf = r.json["metadata"]["managedFields"]
    assert mf[0]["manager"] == "kubectl-create" and mf[0]["operation"] == "Update"
    assert mf[0]["fieldsType"] == "FieldsV1" and "f:data" in mf[0]["fieldsV1"] and mf[0]["apiVersion"] == "v1"
    assert raw.get(cms + "/x").json["metadata"]["managedFields"] == mf
    partial = raw.get(cms, headers={"Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"})
    item = next(i for i in partial.json["items"] if i["metadata"]["name"] == "x")
    assert item["metadata"]["managedFields"] == mf
    dry = raw.post(cms + "?dryRun=All&fieldManager=tester", dict(body, metadata={"name": "y"}))
    assert dry.json["metadata"]["managedFields"][0]["manager"] == "tester"
    patched = raw.patch(cms + "/x?fieldManager=patcher", {"data": {"k2": "v2"}})
    assert [m["manager"] for m in patched.json["metadata"]["managedFields"]] == ["kubectl-create", "patcher"]
    review = raw.post(SSAR, {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                             "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}})
    assert review.json["metadata"]["managedFields"]


def test_custom_resource_lists_carry_an_empty_continue(raw):
    r = raw.get("/apis/kubevirt.io/v1/namespaces/ns1/virtualmachines")
    assert r.json["metadata"]["continue"] == "" and r.json["metadata"]["resourceVersion"]


# ---------------------------------------------------------------- discovery
def test_aggregated_discovery_documents_and_kubectl_api_resources_in_two_requests(sim, raw, tmp_path):
    for path in ("/api", "/apis"):
        r = raw.get(path, headers={"Accept": AGGREGATED + ",application/json"})
        assert r.status == 200 and r.headers["Content-Type"] == AGGREGATED
        assert r.json["kind"] == "APIGroupDiscoveryList" and r.json["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    groups = {g["metadata"]["name"]: g for g in raw.get("/apis", headers={"Accept": AGGREGATED}).json["items"]}
    vms = next(r for r in groups["kubevirt.io"]["versions"][0]["resources"] if r["resource"] == "virtualmachines")
    assert vms["scope"] == "Namespaced" and vms["responseKind"]["kind"] == "VirtualMachine"
    assert {s["subresource"] for s in vms["subresources"]} == {"status"}
    sim.requests.reset()
    p = _kubectl(sim, "api-resources", "-o", "name", tmp_path=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "virtualmachines.kubevirt.io" in p.stdout.split()
    # (the kubectl on this machine is a dispatcher that first reads /version to pick its binary)
    assert [e.path for e in sim.requests.entries if e.path != "/version"] == ["/api", "/apis"]


def test_a_client_asking_for_v2_discovery_first_gets_v2beta1_from_a_1_28_server(raw):
    # kubectl 1.30+ asks for v2, then v2beta1, then the legacy form; a 1.28 apiserver does not serve v2 and
    # negotiates the next alternative it knows, so such a kubectl still needs two requests.
    v2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    for path in ("/api", "/apis"):
        r = raw.get(path, headers={"Accept": f"{v2},{AGGREGATED},application/json"})
        assert r.status == 200 and r.headers["Content-Type"] == AGGREGATED
        assert r.json["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    r = raw.get("/apis", headers={"Accept": f"{v2},application/json"})
    assert r.status == 200 and r.json["kind"] == "APIGroupList"


@pytest.mark.parametrize("path", ["/apis/nosuch.example.com/v1", "/apis/nosuch.example.com/v1/things",
                                  "/api/v1/namespaces/ns1/things", "/apis/kubevirt.io/v1/things", "/nosuch"])
def test_unknown_paths_answer_plain_404_page_not_found(raw, path):
    r = raw.get(path)
    assert r.status == 404
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8" and r.data == b"404 page not found\n"


def test_cdi_resource_list_as_its_crds_declare_it(raw):
    names = {r["name"] for r in raw.get("/apis/cdi.kubevirt.io/v1beta1").json["resources"]}
    for plural in ("cdiconfigs", "cdis", "datasources", "storageprofiles"):
        assert plural in names and f"{plural}/status" not in names
    assert {"dataimportcrons", "volumeimportsources", "volumeuploadsources", "datavolumes/status"} <= names


def test_kubevirt_resource_list_has_presets_and_replicaset_scale(raw):
    names = {r["name"] for r in raw.get("/apis/kubevirt.io/v1").json["resources"]}
    assert {"virtualmachineinstancepresets", "virtualmachineinstancereplicasets/scale"} <= names


def test_version_is_the_one_modelled(raw):
    v = raw.get("/version").json
    assert (v["major"], v["minor"], v["gitVersion"]) == ("1", "28", "v1.28.7")


# ---------------------------------------------------------------- tables
def test_controllerrevisions_table_columns(sim, raw):
    sts = sim.apply([{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "ns1"},
                      "spec": {"selector": {"matchLabels": {"app": "db"}}, "serviceName": "db",
                               "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": []}}}}])[0]
    sim.apply([{"apiVersion": "apps/v1", "kind": "ControllerRevision",
                "metadata": {"name": "rev", "namespace": "ns1",
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db",
                                                  "uid": sts["metadata"]["uid"], "controller": True}]},
                "revision": 3, "data": {}}])
    r = raw.get("/apis/apps/v1/namespaces/ns1/controllerrevisions",
                headers={"Accept": "application/json;as=Table;g=meta.k8s.io;v=v1"})
    cols = [c["name"] for c in r.json["columnDefinitions"]]
    assert cols == ["Name", "Controller", "Revision", "Age"]
    assert r.json["rows"][0]["cells"][:3] == ["rev", "statefulset.apps/db", 3]


# ---------------------------------------------------------------- errors and list semantics
def test_bad_quantity_is_a_decode_error(raw):
    r = raw.post("/api/v1/namespaces/ns1/persistentvolumeclaims",
                 {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"},
                  "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gx"}}}})
    assert r.status == 400 and r.json["reason"] == "BadRequest"
    assert r.json["message"].startswith('PersistentVolumeClaim in version "v1" cannot be handled as a '
                                        'PersistentVolumeClaim: quantities must match the regular expression')


def test_wrong_type_in_a_custom_resource_is_field_value_type_invalid(raw):
    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "v"},
          "spec": {"runStrategy": 5, "template": {"spec": {"domain": {"devices": {}}}}}}
    r = raw.post("/apis/kubevirt.io/v1/namespaces/ns1/virtualmachines", vm)
    assert r.status == 422
    causes = [c for c in r.json["details"]["causes"] if c["field"] == "spec.runStrategy"]
    assert [c["reason"] for c in causes] == ["FieldValueTypeInvalid"]


@pytest.mark.parametrize("ops", [[{"op": "test", "path": "/data/k", "value": "other"}],
                                 [{"op": "replace", "path": "/data/missing/deeper", "value": "x"}],
                                 [{"op": "remove", "path": "/data/nokey"}]])
def test_failed_json_patch_operations_answer_the_generic_422(sim, raw, ops):
    sim.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "ns1"},
                "data": {"k": "v"}}])
    r = raw.patch("/api/v1/namespaces/ns1/configmaps/x", ops, patch_type="json")
    assert r.status == 422 and r.json["reason"] == "Invalid"
    assert r.json["message"] == "the server rejected our request due to an error in our request"


def test_merge_patch_with_invalid_json_reports_the_go_decoder_text(sim, raw):
    sim.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "ns1"}}])
    r = raw.request("PATCH", "/api/v1/namespaces/ns1/configmaps/x", b"{not json}",
                    content_type="application/merge-patch+json")
    assert r.status == 400
    assert r.json["message"] == "error decoding patch: invalid character 'n' looking for beginning of object key string"


def test_patch_with_plain_json_content_type_is_415(sim, raw):
    sim.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "ns1"}}])
    r = raw.request("PATCH", "/api/v1/namespaces/ns1/configmaps/x", {"data": {}}, content_type="application/json")
    assert r.status == 415 and r.data == b"415: Unsupported Media Type"


def test_delete_with_a_stale_uid_precondition(sim, raw):
    cm = sim.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "ns1"}}])[0]
    r = raw.delete("/api/v1/namespaces/ns1/configmaps/x", {"preconditions": {"uid": "other-uid"}})
    assert r.status == 409 and r.json["reason"] == "Conflict"
    assert r.json["message"] == (f'Operation cannot be fulfilled on ConfigMap "x": the UID in the precondition '
                                 f'(other-uid) does not match the UID in record ({cm["metadata"]["uid"]}). The object '
                                 f'might have been deleted and then recreated')
    assert r.json["details"]["kind"] == "ConfigMap"


def test_list_with_a_bogus_continue_token(raw):
    r = raw.get("/api/v1/namespaces/ns1/configmaps?limit=1&continue=bogus")
    assert r.status == 400
    assert r.json["message"] == "invalid continue token: continue key is not valid: illegal base64 data at input byte 4"


def test_list_with_an_unparsable_label_selector(raw):
    r = raw.get("/api/v1/namespaces/ns1/configmaps?labelSelector=a%3D%3D%3Db")
    assert r.status == 400
    assert r.json["message"] == "unable to parse requirement: found '=', expected: identifier"


def test_exact_list_returns_the_state_at_that_revision(sim, raw):
    sim.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "ns1"}}])
    rv = raw.get("/api/v1/namespaces/ns1/configmaps").json["metadata"]["resourceVersion"]
    sim.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "ns1"}}])
    sim.delete("configmaps", "a", "ns1")
    names = lambda r: sorted(i["metadata"]["name"] for i in r.json["items"])  # noqa: E731
    r = raw.get("/api/v1/namespaces/ns1/configmaps?resourceVersion=1&resourceVersionMatch=Exact")
    assert r.status == 200 and names(r) == [] and r.json["metadata"]["resourceVersion"] == "1"
    r = raw.get(f"/api/v1/namespaces/ns1/configmaps?resourceVersion={rv}&resourceVersionMatch=Exact")
    assert names(r) == ["a", "kube-root-ca.crt"] and r.json["metadata"]["resourceVersion"] == rv
    sim.store.compact()
    r = raw.get(f"/api/v1/namespaces/ns1/configmaps?resourceVersion={rv}&resourceVersionMatch=Exact")
    assert r.status == 410 and r.json["reason"] == "Expired"


def test_not_older_than_a_future_revision_is_too_large(raw):
    r = raw.get("/api/v1/namespaces/ns1/configmaps?resourceVersion=999999999&resourceVersionMatch=NotOlderThan")
    assert r.status == 504 and r.json["reason"] == "Timeout"
    assert r.json["message"].startswith("Timeout: Too large resource version: 999999999, current: ")
    assert [c["reason"] for c in r.json["details"]["causes"]] == ["ResourceVersionTooLarge"]


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_kubevirt_start_and_stop_accept_put_only(kubesim_factory, method):
    sim = kubesim_factory()
    sim.apply(kb.namespace("ns1") + kb.vm("v", "ns1"))
    raw = RawClient(sim)
    try:
        for sub in ("start", "stop"):
            r = raw.request(method, f"/apis/subresources.kubevirt.io/v1/namespaces/ns1/virtualmachines/v/{sub}",
                            {} if method != "DELETE" else None)
            assert r.status == 405, (sub, r)
        assert raw.put("/apis/subresources.kubevirt.io/v1/namespaces/ns1/virtualmachines/v/start", {}).status == 202
    finally:
        raw.close()

"""Every preflight finding: one scenario that triggers it and the same scenario without the cause."""

import pytest

from kubectl_vmmove.move.planning import graph, inventory, permissions, preflight
from kubectl_vmmove.move.planning import moveplan as plan
from tests.kubesim import builders as b

MAC = "02:00:00:00:00:01"


def _web(**kw):
    kw.setdefault("disks", ["web-root"])
    kw.setdefault("volumes", [{"name": "ci", "cloudInitNoCloud": {"secretRef": {"name": "web-ci"}}}])
    return b.served_vm("web", **kw)


def scenario(vm_kw=None, extra=(), replace=None, target_exists=True, not_served=(), opts=None, mutate=None,
             names=("web",), storage=None):
    """Findings of planning VM "web" (a disk, a cloud-init Secret, a Service) from "src" to "dst"."""
    objs = list(storage if storage is not None else b.served_storage_basics())
    objs += [_web(**(vm_kw or {})), b.served_pvc("web-root"), b.served_secret("web-ci"), b.served_service("web-ssh", {"app": "web"})]
    if replace:
        objs = replace(objs)
    objs += list(extra)
    inv = inventory.Inventory.from_objects(objs, "src", "dst", not_served=not_served, target_exists=target_exists)
    if mutate:
        mutate(inv)
    g = graph.build(inv, list(names))
    doc = plan.build(inv, g, plan.PlanOptions("src", "dst", move_id="t1", **(opts or {})))
    return preflight.run(inv, g, doc), doc


def codes(**kw):
    return {f["code"] for f in scenario(**kw)[0]}


def _perm_codes(allowed, **kw):
    """Findings when each permission the plan needs is answered by `allowed(permission)`."""
    _, doc = scenario(**kw)
    perms = permissions.required(doc)
    perms += [p.alternative for p in perms if p.alternative is not None]
    objs = list(b.served_storage_basics()) + [_web(**(kw.get("vm_kw") or {})), b.served_pvc("web-root"), b.served_secret("web-ci"),
                                       b.served_service("web-ssh", {"app": "web"})]
    inv = inventory.Inventory.from_objects(objs, "src", "dst")
    inv.permissions = {p.key: allowed(p) for p in perms}
    g = graph.build(inv, ["web"])
    doc = plan.build(inv, g, plan.PlanOptions("src", "dst", move_id="t1", **(kw.get("opts") or {})))
    return preflight.run(inv, g, doc)


def _running(**extra_status):
    status = {"printableStatus": "Running", "created": True, "ready": True}
    status.update(extra_status)
    return {"running": True, "status": status}


def _swap(kind, name, new):
    def replace(objs):
        return [new if (o["kind"], o["metadata"]["name"]) == (kind, name) else o for o in objs]
    return replace


def _drop(kind):
    return lambda objs: [o for o in objs if o["kind"] != kind]


def _set(**values):
    def mutate(inv):
        for k, v in values.items():
            setattr(inv, k, v)
    return mutate


def _snap(kind, name, source_kind, source_name):
    group = "snapshot.kubevirt.io" if kind == "VirtualMachineSnapshot" else "export.kubevirt.io"
    return b.served({"apiVersion": f"{group}/v1beta1", "kind": kind, "metadata": {"name": name},
                     "spec": {"source": {"kind": source_kind, "name": source_name}}}, "src")


def _transfer(**kw):
    opts = dict(kw.pop("opts", {}), strategy="transfer")
    return dict(kw, opts=opts)


def _mac_vm(**kw):
    return dict(interfaces=[{"name": "default", "masquerade": {}, "macAddress": MAC}],
                networks=[{"name": "default", "pod": {}}], **kw)


def _multus_vm(net):
    return dict(interfaces=[{"name": "default", "masquerade": {}}, {"name": "net1", "bridge": {}}],
                networks=[{"name": "default", "pod": {}}, {"name": "net1", "multus": {"networkName": net}}])


def _serial_vm():
    """A VM whose spec already names its firmware serial (created by KubeVirt v1.7+, or set by hand)."""
    vm = _web()
    vm["spec"]["template"]["spec"]["domain"]["firmware"] = {"serial": "5f3b6a4c-serial"}
    return vm


def _pinned_lb():
    svc = b.served_service("web-ssh", {"app": "web"}, svc_type="LoadBalancer")
    svc["spec"]["loadBalancerIP"] = "192.0.2.10"
    return svc


# code -> (scenario kwargs that trigger it, scenario kwargs with the cause removed)
CASES = {
    "TargetNamespaceMissing": (dict(target_exists=False), dict()),
    "TargetNamespaceCreated": (dict(target_exists=False, opts={"create_namespace": True}), dict()),
    "TargetNamespaceUnknown": (dict(target_exists=False, mutate=_set(target_namespace_known=False)),
                               dict(target_exists=False)),
    "NameConflict": (dict(extra=[b.served_vm("web", ns="dst")]), dict(extra=[b.served_vm("other", ns="dst")])),
    "AlreadyCreated": (dict(extra=[b.served_vm("web", ns="dst", labels={"vmmove.io/move-id": "t1"})]),
                       dict(extra=[b.served_vm("web", ns="dst", labels={"vmmove.io/move-id": "zz9"})])),
    "QuotaExceeded": (dict(extra=[b.served_quota("q", {"requests.storage": "5Gi"})]),
                      dict(extra=[b.served_quota("q", {"requests.storage": "1Ti"})])),
    "SourceQuotaForClone": (dict(extra=[b.served_quota("q", {"requests.storage": "12Gi"}, {"requests.storage": "10Gi"},
                                                ns="src")]),
                            dict(extra=[b.served_quota("q", {"requests.storage": "100Gi"}, {"requests.storage": "10Gi"},
                                                ns="src")])),
    "CdiMissing": (dict(not_served=["DataVolume"]), dict()),
    "ClaimMissing": (dict(replace=_drop("PersistentVolumeClaim")), dict()),
    "DataVolumeNotReady": (dict(extra=[b.served_dv("web-root", phase="ImportInProgress")]),
                           dict(extra=[b.served_dv("web-root", phase="Succeeded")])),
    "ClaimNotBound": (dict(replace=_swap("PersistentVolumeClaim", "web-root", b.served_pvc("web-root", phase="Pending"))),
                      dict()),
    "DiskShared": (dict(extra=[b.served_vm("other", disks=["web-root"])]), dict(extra=[b.served_vm("other", disks=["o-root"]),
                                                                                b.served_pvc("o-root")])),
    "StorageClassMissing": (dict(opts={"storage_class_map": {"standard": "nope"}}),
                            dict(opts={"storage_class_map": {"standard": "fast"}},
                                 extra=[b.served_storageclass("fast"), b.served_storageprofile("fast")])),
    "NoStorageClass": (dict(replace=_swap("PersistentVolumeClaim", "web-root", b.served_pvc("web-root", sc=None)),
                            storage=[b.served_storageclass("standard"), b.served_csidriver(), b.served_storageprofile("standard")]),
                       dict(replace=_swap("PersistentVolumeClaim", "web-root", b.served_pvc("web-root", sc=None)))),
    "SlowClone": (dict(storage=[b.served_storageclass("standard", default=True), b.served_csidriver(),
                                b.served_storageprofile("standard", "copy")]), dict()),
    "StorageClassMapUnused": (dict(opts={"storage_class_map": {"gold": "fast"}}), dict()),
    "StorageClassMapIgnored": (_transfer(opts={"storage_class_map": {"standard": "fast"}}), _transfer()),
    "ObjectTransferDeprecated": (_transfer(), _transfer(not_served=["ObjectTransfer"])),
    "ClaimInUseByClone": (_transfer(replace=_swap("PersistentVolumeClaim", "web-root", b.served_pvc(
        "web-root", finalizers=["snapshot.storage.kubernetes.io/pvc-as-source-protection"]))), _transfer()),
    "ReclaimPolicyDelete": (_transfer(extra=[b.served_pv("pv-src-web-root", "Delete")]),
                            _transfer(extra=[b.served_pv("pv-src-web-root", "Retain")])),
    "CsiSecretInSourceNamespace": (_transfer(extra=[b.served_pv("pv-src-web-root", "Retain", csi_secret_ns="src")]),
                                   _transfer(extra=[b.served_pv("pv-src-web-root", "Retain", csi_secret_ns="ceph")])),
    "MultusMissing": (dict(vm_kw=_multus_vm("l2"), not_served=["NetworkAttachmentDefinition"]),
                      dict(vm_kw=_multus_vm("l2"), extra=[b.served_nad("l2")])),
    "NadMissing": (dict(vm_kw=_multus_vm("l2")), dict(vm_kw=_multus_vm("l2"), extra=[b.served_nad("l2")])),
    "NadReused": (dict(vm_kw=_multus_vm("l2"), extra=[b.served_nad("l2", ns="dst")]),
                  dict(vm_kw=_multus_vm("l2"), extra=[b.served_nad("l2")])),
    "NadConfigRewritten": (dict(vm_kw=_multus_vm("l2"), extra=[b.served_nad("l2")]),
                           dict(vm_kw=_multus_vm("l2"), extra=[b.served_nad("l2", config='{"type":"bridge"}')])),
    "NadUnreachable": (dict(vm_kw=_multus_vm("shared/l2"), mutate=_set(external_nads={("shared", "l2"): None})),
                       dict(vm_kw=_multus_vm("shared/l2"), extra=[b.served_nad("l2", ns="shared")])),
    "NadUnverified": (dict(vm_kw=_multus_vm("shared/l2"),
                           mutate=_set(external_nads_unreadable={("shared", "l2"): "forbidden"})),
                      dict(vm_kw=_multus_vm("shared/l2"), extra=[b.served_nad("l2", ns="shared")])),
    "MacInUse": (dict(vm_kw=_mac_vm(), extra=[b.served_vm("db", ns="dst", **_mac_vm())]),
                 dict(vm_kw=_mac_vm(), extra=[b.served_vm("db", ns="dst")])),
    "MacRejected": (dict(vm_kw=_mac_vm(), mutate=_set(dry_run={"vm": "web", "ok": False, "macRejected": True,
                                                               "message": "failed to allocate requested mac address"})),
                    dict(vm_kw=_mac_vm(), opts={"mac_policy": "opt-out"},
                         mutate=_set(dry_run={"vm": "web", "ok": False, "macRejected": True, "message": "x"}))),
    "MacsKept": (dict(vm_kw=_mac_vm()), dict()),
    "MacsChange": (dict(vm_kw=_mac_vm(), opts={"mac_policy": "new"}), dict(opts={"mac_policy": "new"})),
    "MacPoolOptOut": (dict(opts={"mac_policy": "opt-out"}), dict(opts={"mac_policy": "keep"})),
    "DryRunRejected": (dict(mutate=_set(dry_run={"vm": "web", "ok": False, "message": "spec.template: Invalid"})),
                       dict(mutate=_set(dry_run={"vm": "web", "ok": True}))),
    "VmTerminating": (dict(replace=lambda objs: [dict(o, metadata=dict(o["metadata"], deletionTimestamp="2026-01-01T00:00:00Z"))
                                                 if o["kind"] == "VirtualMachine" else o for o in objs]), dict()),
    "VmRunning": (dict(vm_kw=_running()), dict()),
    "MigrationInProgress": (dict(vm_kw=_running(printableStatus="Migrating")), dict(vm_kw=_running())),
    "SnapshotInProgress": (dict(vm_kw={"status": {"printableStatus": "Stopped", "snapshotInProgress": "snap-1"}}),
                           dict()),
    "RestoreInProgress": (dict(vm_kw={"status": {"printableStatus": "Stopped", "restoreInProgress": "restore-1"}}),
                          dict()),
    "OwnedByPool": (dict(replace=lambda objs: [dict(o, metadata=dict(o["metadata"], ownerReferences=[{
        "apiVersion": "pool.kubevirt.io/v1beta1", "kind": "VirtualMachinePool", "name": "pool", "uid": "u"}]))
        if o["kind"] == "VirtualMachine" else o for o in objs]), dict()),
    "SnapshotsStayBehind": (dict(extra=[_snap("VirtualMachineSnapshot", "s1", "VirtualMachine", "web")]),
                            dict(extra=[_snap("VirtualMachineSnapshot", "s1", "VirtualMachine", "other")])),
    "ExportStaysBehind": (dict(extra=[_snap("VirtualMachineExport", "e1", "VirtualMachine", "web")]),
                          dict(extra=[_snap("VirtualMachineExport", "e1", "PersistentVolumeClaim", "other")])),
    "DnsNameChanges": (dict(vm_kw={"extra_spec": {}}, replace=lambda objs: [
        _with_subdomain(o) if o["kind"] == "VirtualMachine" else o for o in objs]), dict()),
    "UnsupportedDevice": (dict(vm_kw={"disks_spec": [{"name": "web-root", "lun": {}}, {"name": "ci", "disk": {}}]}),
                          dict(vm_kw={"disks_spec": [{"name": "web-root", "disk": {}}, {"name": "ci", "disk": {}}]})),
    "MissingDependency": (dict(replace=_drop("Secret")), dict()),
    "ListForbidden": (dict(mutate=_set(unreadable={("Secret", "target"): "secrets is forbidden"})), dict()),
    "SharedDependency": (dict(extra=[b.served_vm("other", disks=["o-root"], volumes=[
        {"name": "ci", "cloudInitNoCloud": {"secretRef": {"name": "web-ci"}}}]), b.served_pvc("o-root")]),
        dict(extra=[b.served_vm("other", disks=["o-root"]), b.served_pvc("o-root")])),
    "ServicesSkipped": (dict(opts={"services": False}), dict(opts={"services": False},
                                                           replace=_drop("Service"))),
    "ServiceAddressChanges": (dict(replace=_swap("Service", "web-ssh", b.served_service("web-ssh", {"app": "web"},
                                                                                svc_type="NodePort",
                                                                                node_port=30022))), dict()),
    "NetworkPolicyNamespaceSelector": (dict(extra=[b.served_networkpolicy("np", {}, namespace_selector=True)]),
                                       dict(extra=[b.served_networkpolicy("np", {})])),
    "LoadBalancerIpPinned": (dict(replace=_swap("Service", "web-ssh", _pinned_lb())),
                             dict(replace=_swap("Service", "web-ssh", b.served_service("web-ssh", {"app": "web"},
                                                                                svc_type="LoadBalancer")))),
    "TargetWillStart": (dict(vm_kw={"run_strategy": "RerunOnFailure"}),
                        dict(vm_kw={"run_strategy": "RerunOnFailure"}, opts={"target_run_strategy": "Halted"})),
    "NadInOtherNamespace": (dict(vm_kw=_multus_vm("shared/l2"), extra=[b.served_nad("l2", ns="shared")]),
                            dict(vm_kw=_multus_vm("default/l2"), extra=[b.served_nad("l2", ns="default")])),
    "StorageClassUnknown": (dict(storage=[], mutate=_set(unreadable={("StorageClass", "cluster"): "forbidden"})),
                            dict()),
    "KubeVirtTooOld": (dict(storage=b.served_storage_basics()[:-1] + [b.served_kubevirt("v1.2.0")]), dict()),
    "SerialWillChange": (dict(storage=b.served_storage_basics()[:-1] + [b.served_kubevirt("v1.7.1")]),
                         dict(storage=b.served_storage_basics()[:-1] + [b.served_kubevirt("v1.7.1")],
                              replace=_swap("VirtualMachine", "web", _serial_vm()))),
    "CdiTooOld": (dict(storage=b.served_storage_basics()[:-2] + [b.served_cdi("v1.58.1"), b.served_kubevirt()]), dict()),
}


def _with_subdomain(vm):
    vm = dict(vm)
    vm["spec"] = dict(vm["spec"])
    tpl = dict(vm["spec"]["template"])
    tpl["spec"] = dict(tpl["spec"], hostname="web", subdomain="vms")
    vm["spec"]["template"] = tpl
    return vm


def test_base_scenario_is_clean():
    findings, doc = scenario()
    assert [f for f in findings if f["severity"] != "info"] == []
    assert not plan.errors_in(doc)


@pytest.mark.parametrize("code", sorted(CASES))
def test_finding_is_triggered_by_its_cause(code):
    trigger, _ = CASES[code]
    found = [f for f in scenario(**trigger)[0] if f["code"] == code]
    assert found, f"{code} not reported"
    f = found[0]
    assert f["severity"] in ("error", "warning", "info") and f["message"]
    if f["severity"] != "info":
        assert f.get("remedy"), f"{code} has no remedy"


@pytest.mark.parametrize("code", sorted(CASES))
def test_finding_is_absent_without_its_cause(code):
    _, clean = CASES[code]
    assert code not in codes(**clean)


def test_permission_denied_and_missing():
    denied = _perm_codes(lambda p: not (p.subresource == "source" or p.resource == "pods"))
    errors = [f for f in denied if f["code"] == "PermissionDenied"]
    assert len(errors) == 1 and "datavolumes/source" in errors[0]["message"] and "src" in errors[0]["message"]
    assert "nor create pods" in errors[0]["message"]
    # `TYPE/NAME` would ask about a DataVolume named "source": the subresource is a flag of its own.
    assert "kubectl auth can-i create datavolumes.cdi.kubevirt.io --subresource=source -n src" in errors[0]["remedy"]
    optional = _perm_codes(lambda p: p.verb != "delete")
    assert {f["code"] for f in optional} >= {"PermissionMissing"}
    assert not [f for f in optional if f["code"] == "PermissionDenied"]
    allowed = _perm_codes(lambda p: True)
    assert not {f["code"] for f in allowed} & {"PermissionDenied", "PermissionMissing"}


def test_clone_from_the_source_namespace_is_allowed_by_create_pods_as_cdi_does():
    # CDI sends two access reviews in the source namespace and accepts either: create datavolumes/source, or
    # create pods (authorize_utils.go getResourceAttributesPvc). A Role with only the second still clones.
    only_pods = _perm_codes(lambda p: p.subresource != "source")
    assert not [f for f in only_pods if f["code"] == "PermissionDenied"]


def test_required_permissions_cover_every_step():
    _, doc = scenario(vm_kw=_running(), opts={"create_namespace": True}, target_exists=False)
    texts = {p.text() for p in permissions.required(doc)}
    assert 'update virtualmachines/stop in API group "subresources.kubevirt.io" in namespace "src"' in texts
    assert 'update virtualmachines/start in API group "subresources.kubevirt.io" in namespace "dst"' in texts
    assert 'create datavolumes/source in API group "cdi.kubevirt.io", nor create pods in namespace "src"' in texts
    assert 'create namespaces at the cluster scope' in texts
    assert 'get secrets in namespace "src"' in texts and 'create secrets in namespace "dst"' in texts
    assert 'create virtualmachines in API group "kubevirt.io" in namespace "dst"' in texts
    _, doc = scenario(**_transfer())
    texts = {p.text() for p in permissions.required(doc)}
    assert 'create objecttransfers in API group "cdi.kubevirt.io" at the cluster scope' in texts
    _, doc = scenario(**_transfer(not_served=["ObjectTransfer"]))
    texts = {p.text() for p in permissions.required(doc)}
    assert "patch persistentvolumes at the cluster scope" in texts


def test_rules_review_grants_are_read_like_rbac():
    perm = permissions.Permission("update", "subresources.kubevirt.io", "virtualmachines", "src", "stop")
    assert permissions.rules_allow([{"verbs": ["update"], "apiGroups": ["subresources.kubevirt.io"],
                                     "resources": ["virtualmachines/stop"]}], perm)
    assert permissions.rules_allow([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}], perm)
    assert not permissions.rules_allow([{"verbs": ["update"], "apiGroups": ["subresources.kubevirt.io"],
                                         "resources": ["virtualmachines"]}], perm)
    assert not permissions.rules_allow([{"verbs": ["update"], "apiGroups": ["subresources.kubevirt.io"],
                                         "resources": ["virtualmachines/stop"], "resourceNames": ["web"]}], perm)


def test_a_plan_with_errors_is_still_complete():
    findings, doc = scenario(target_exists=False)
    assert plan.errors_in(doc) and doc["spec"]["vms"][0]["steps"]
    assert doc["status"]["summary"]["errors"] == 1


def test_findings_name_the_vms_they_concern():
    findings, _ = scenario(extra=[b.served_vm("db", disks=["db-root"], running=True), b.served_pvc("db-root")],
                           vm_kw=_running(), names=("web", "db"))
    running = [f for f in findings if f["code"] == "VmRunning"]
    assert sorted(f["vms"][0] for f in running) == ["db", "web"]


def test_unreadable_storage_classes_are_unknown_not_missing():
    found = codes(storage=[], mutate=_set(unreadable={("StorageClass", "cluster"): "forbidden"}))
    assert "StorageClassUnknown" in found
    assert not found & {"StorageClassMissing", "NoStorageClass"}


def test_mac_findings_agree_with_the_number_of_vms():
    kept = [f for f in scenario(vm_kw=_mac_vm())[0] if f["code"] == "MacsKept"][0]
    assert kept["message"].startswith('VM "web" keeps its MAC addresses; ')
    changed = [f for f in scenario(vm_kw=_mac_vm(), opts={"mac_policy": "new"})[0] if f["code"] == "MacsChange"][0]
    assert changed["message"].startswith('--mac-policy new: VM "web" gets new MAC addresses; ')


def test_a_reference_to_what_every_namespace_has_is_never_missing():
    # Kubernetes makes the "default" ServiceAccount and the kube-root-ca.crt ConfigMap in every namespace; one not
    # (yet) there in the source is no missing dependency: the target has its own and nothing is copied.
    vols = [{"name": "ci", "cloudInitNoCloud": {"secretRef": {"name": "web-ci"}}},
            {"name": "sa", "serviceAccount": {"serviceAccountName": "default"}},
            {"name": "ca", "configMap": {"name": "kube-root-ca.crt"}}]
    findings, _ = scenario(vm_kw={"volumes": vols})
    assert "MissingDependency" not in {f["code"] for f in findings}
    vols[1]["serviceAccount"]["serviceAccountName"] = "builder"
    findings, _ = scenario(vm_kw={"volumes": vols})
    assert [f["subject"]["name"] for f in findings if f["code"] == "MissingDependency"] == ["builder"]

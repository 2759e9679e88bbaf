"""KubeVirt's virt-api webhooks and virt-controller's VirtualMachine controller (pkg/virt-controller/watch/vm):
run strategies, state change requests, dataVolumeTemplates, instancetype ControllerRevisions, the VM finalizer,
printableStatus and conditions.  The VMI side (launcher pods, phases) is in ``vmi.py``; the start/stop/restart
subresources are in ``vm_lifecycle.py``.
"""

import copy
import uuid

from ..errors import ApiError
from . import cdi_admission
from .base import (
    Reconciler,
    annotations,
    condition_is,
    controller_of,
    get_condition,
    is_controlled_by,
    is_deleting,
    owner_ref,
    remove_condition,
    set_condition,
    webhook_denied,
)

VM = "virtualmachines.kubevirt.io"
VMI = "virtualmachineinstances.kubevirt.io"
DV = "datavolumes.cdi.kubevirt.io"
PVC = "persistentvolumeclaims"
CR = "controllerrevisions.apps"
KUBEVIRT = "kubevirts.kubevirt.io"

VM_FINALIZER = "kubevirt.io/virtualMachineControllerFinalize"
LATEST_API = "kubevirt.io/latest-observed-api-version"
STORAGE_API = "kubevirt.io/storage-observed-api-version"
VM_GENERATION = "kubevirt.io/vm-generation"
ALLOW_ADOPTION = "cdi.kubevirt.io/allowClaimAdoption"
IMMEDIATE_DV = "kubevirt.io/immediate-data-volume-creation"

RUN_STRATEGIES = ("Always", "Halted", "Manual", "RerunOnFailure", "Once")
FINAL_PHASES = ("Succeeded", "Failed")
# The namespace of KubeVirt's legacy, name-based firmware UUIDs (pkg/virt-controller/watch/vm/firmware.go).
LEGACY_UUID_NAMESPACE = uuid.UUID("6a1a24a1-4061-4607-8bf4-a3963d0c5895")

KUBEVIRT_VERSION = "v1.6.0"

# Decentralized live migration (shared/reference/live-move.md §1.6-§2.1): Alpha in v1.6.0, so on only when listed in
# the KubeVirt CR's developerConfiguration.featureGates (KV pkg/virt-config/featuregate/active.go).
DECENTRALIZED_GATE = "DecentralizedLiveMigration"
WAIT_AS_RECEIVER = "WaitAsReceiver"
CREATE_MIGRATION_TARGET = "kubevirt.io/create-migration-target"   # KV types.go CreateMigrationTarget
RESTORE_RUN_STRATEGY = "kubevirt.io/restore-run-strategy"         # KV types.go RestoreRunStrategy
MIGRATION_TARGET_NODE = "kubevirt.io/migrationTargetNodeName"


def feature_gates(kv):
    return list((((kv or {}).get("spec") or {}).get("configuration") or {}).get("developerConfiguration", {})
                .get("featureGates") or ())


def decentralized_gate_on(kv):
    """True when the KubeVirt CR enables DecentralizedLiveMigration (Alpha up to v1.9: it must be listed)."""
    return DECENTRALIZED_GATE in feature_gates(kv)


def is_receiver(vmi):
    """A receiver VMI: created for a WaitAsReceiver VM and not yet handed a migration target node (KV
    pkg/virt-controller/watch/vmi/lifecycle.go)."""
    meta_ = vmi.get("metadata") or {}
    return (meta_.get("annotations") or {}).get(CREATE_MIGRATION_TARGET) == "true" and \
        MIGRATION_TARGET_NODE not in (meta_.get("labels") or {})


def has_receiver_annotation(vmi):
    return ((vmi.get("metadata") or {}).get("annotations") or {}).get(CREATE_MIGRATION_TARGET) == "true"


def migration_completed(vmi):
    """The VMI's migrationState reports a completed, not failed, migration."""
    ms = (vmi.get("status") or {}).get("migrationState") or {}
    return bool(ms.get("completed")) and not ms.get("failed")


def is_decentralized_source(vmi):
    ms = (vmi.get("status") or {}).get("migrationState") or {}
    return bool((ms.get("sourceState") or {}).get("migrationUID")) and \
        (ms.get("sourceState") or {}).get("virtualMachineInstanceUID") == vmi["metadata"].get("uid")


def legacy_firmware_uuid(vm_name):
    return str(uuid.uuid5(LEGACY_UUID_NAMESPACE, vm_name))


def run_strategy(vm):
    spec = vm.get("spec") or {}
    if spec.get("runStrategy"):
        return spec["runStrategy"]
    if spec.get("running") is True:
        return "Always"
    return "Halted"


def template_spec(vm):
    return ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}


def volume_claim_name(volume):
    if volume.get("persistentVolumeClaim"):
        return volume["persistentVolumeClaim"].get("claimName")
    if volume.get("dataVolume"):
        return volume["dataVolume"].get("name")
    return None


def is_migrating(vmi):
    ms = (vmi.get("status") or {}).get("migrationState") or {}
    return bool(ms.get("startTimestamp")) and not ms.get("endTimestamp")


def vmi_is_final(vmi):
    return (vmi.get("status") or {}).get("phase") in FINAL_PHASES


def state_change_requests(vm):
    return list((vm.get("status") or {}).get("stateChangeRequests") or ())


def has_start_request(vm):
    reqs = state_change_requests(vm)
    return bool(reqs) and reqs[0].get("action") == "Start"


def has_stop_request_for(vm, vmi):
    reqs = state_change_requests(vm)
    return bool(reqs) and reqs[0].get("action") == "Stop" and vmi is not None and \
        reqs[0].get("uid") == vmi["metadata"]["uid"]


def is_set_to_start(vm, vmi):
    rs = run_strategy(vm)
    if rs == "Always":
        return True
    if rs == "Manual":
        return not has_stop_request_for(vm, vmi) if vmi is not None else has_start_request(vm)
    if rs == "RerunOnFailure":
        if vmi is not None:
            return (vmi.get("status") or {}).get("phase") != "Succeeded"
        return has_start_request(vm) or (vm.get("status") or {}).get("runStrategy") != rs
    if rs == "Once":
        return vmi is None
    return False


def kubevirt_objects():
    """The KubeVirt CR (so tools can read the version) and the common cluster instancetypes and preferences."""
    def cluster_it(name, cpu, mem):
        return {"apiVersion": "instancetype.kubevirt.io/v1beta1", "kind": "VirtualMachineClusterInstancetype",
                "metadata": {"name": name, "labels": {"instancetype.kubevirt.io/vendor": "kubevirt.io",
                                                      "instancetype.kubevirt.io/class": "general.purpose"}},
                "spec": {"cpu": {"guest": cpu}, "memory": {"guest": mem}}}

    def cluster_pref(name, extra):
        return {"apiVersion": "instancetype.kubevirt.io/v1beta1", "kind": "VirtualMachineClusterPreference",
                "metadata": {"name": name, "labels": {"instancetype.kubevirt.io/vendor": "kubevirt.io"}},
                "spec": extra}

    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubevirt",
                                                               "labels": {"kubevirt.io": ""}}},
        {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt",
         "metadata": {"name": "kubevirt", "namespace": "kubevirt"},
         "spec": {"certificateRotateStrategy": {}, "configuration": {"developerConfiguration": {}},
                  "customizeComponents": {}, "imagePullPolicy": "IfNotPresent", "workloadUpdateStrategy": {}}},
        cluster_it("u1.small", 1, "2Gi"),
        cluster_it("u1.medium", 1, "4Gi"),
        cluster_it("u1.large", 2, "8Gi"),
        cluster_it("u1.xlarge", 4, "16Gi"),
        cluster_pref("fedora", {"devices": {"preferredDiskBus": "virtio", "preferredInterfaceModel": "virtio"}}),
        cluster_pref("rhel.9", {"devices": {"preferredDiskBus": "virtio", "preferredInterfaceModel": "virtio"}}),
        cluster_pref("windows.11", {"devices": {"preferredDiskBus": "sata", "preferredInterfaceModel": "e1000e"},
                                    "features": {"preferredHyperv": {}}}),
    ]


def kubevirt_status():
    return {"phase": "Deployed", "observedKubeVirtVersion": KUBEVIRT_VERSION,
            "targetKubeVirtVersion": KUBEVIRT_VERSION, "operatorVersion": KUBEVIRT_VERSION,
            "observedKubeVirtRegistry": "quay.io/kubevirt", "targetKubeVirtRegistry": "quay.io/kubevirt",
            "observedDeploymentID": "kubesim", "targetDeploymentID": "kubesim", "defaultArchitecture": "amd64",
            "conditions": [
                {"type": "Available", "status": "True", "reason": "AllComponentsReady",
                 "message": "All components are ready."},
                {"type": "Progressing", "status": "False", "reason": "AllComponentsReady",
                 "message": "All components are ready."},
                {"type": "Degraded", "status": "False", "reason": "AllComponentsReady",
                 "message": "All components are ready."}]}


class VirtualMachineController(Reconciler):
    name = "kubevirt-vm"
    component = "virtualmachine-controller"
    watches = (VM, VMI, DV, PVC)
    retry_seconds = 10.0

    def __init__(self, sim, rng):
        super().__init__(sim)
        self.rng = rng
        self._vms_for_claim = {}    # (ns, claim/dv name) -> set of VM names referring to it

    # ---------------------------------------------------------------- indexes / queueing
    def observe(self, etype, rkey, obj):
        if rkey != VM:
            return
        m = obj["metadata"]
        ns, name = m.get("namespace", ""), m["name"]
        for claim in self._claims_of(obj):
            s = self._vms_for_claim.setdefault((ns, claim), set())
            if etype == "DELETED":
                s.discard(name)
            else:
                s.add(name)

    @staticmethod
    def _claims_of(vm):
        out = {volume_claim_name(v) for v in template_spec(vm).get("volumes") or ()}
        out.update(t["metadata"]["name"] for t in (vm.get("spec") or {}).get("dataVolumeTemplates") or ()
                   if (t.get("metadata") or {}).get("name"))
        out.discard(None)
        return out

    def keys_for(self, etype, rkey, obj):
        m = obj.get("metadata") or {}
        ns, name = m.get("namespace", ""), m.get("name")
        if rkey in (VM, VMI):
            return [(VM, ns, name)]
        return [(VM, ns, vm) for vm in sorted(self._vms_for_claim.get((ns, name), ()))]

    # ---------------------------------------------------------------- admission (virt-api webhooks)
    def admit(self, op, resource, obj, old, user):
        rkey = getattr(resource, "key", resource)
        if rkey != VM or op not in ("CREATE", "UPDATE") or is_deleting(obj):
            return obj
        spec = obj.get("spec") or {}
        causes = []
        if spec.get("running") is not None and spec.get("runStrategy") is not None:
            causes.append(("spec.running", "Running and RunStrategy are mutually exclusive. Note that Running is "
                                           "deprecated, please use RunStrategy instead"))
        if spec.get("running") is None and spec.get("runStrategy") is None:
            causes.append(("spec.running", "RunStrategy must be specified"))
        if spec.get("runStrategy") == WAIT_AS_RECEIVER:
            # KV vms-admitter.go validateRunStrategy: accepted only while the gate is on.
            if not decentralized_gate_on(self.peek(KUBEVIRT, "kubevirt", "kubevirt")):
                causes.append(("spec.runStrategy", f"Invalid RunStrategy ({WAIT_AS_RECEIVER}), {DECENTRALIZED_GATE} "
                                                   "feature gate is not enabled in kubevirt resource"))
        elif spec.get("runStrategy") is not None and spec["runStrategy"] not in RUN_STRATEGIES:
            causes.append(("spec.runStrategy", f"Invalid RunStrategy ({spec['runStrategy']})"))
        if not spec.get("template"):
            causes.append(("spec.template", "missing virtual machine template."))
        if causes:
            raise webhook_denied("virtualmachine-validator.kubevirt.io",
                                 ", ".join(f"{f}: {m}" for f, m in causes), reason="Invalid")
        if op == "CREATE":
            # virt-api's VM mutator: new VMs get a random firmware identity unless one is given (v1.6/v1.7+).
            domain = spec["template"].setdefault("spec", {}).setdefault("domain", {})
            fw = domain.get("firmware")
            if fw is None:
                fw = domain["firmware"] = {}
            if not fw.get("uuid"):
                fw["uuid"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            if not fw.get("serial"):
                fw["serial"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return obj

    # ---------------------------------------------------------------- sync
    def sync(self, key, now):
        _, ns, name = key
        vm = self.peek(VM, ns, name)
        if vm is None:
            return False
        vmi = self.peek(VMI, ns, name)
        if vmi is not None and controller_of(vmi) and not is_controlled_by(vmi, vm):
            vmi = None
        ann = annotations(vm)
        if ann.get(LATEST_API) != "kubevirt.io/v1" or ann.get(STORAGE_API) != "kubevirt.io/v1":
            # First step of every sync in virt-controller: record the API version the object was seen at (the
            # finalizer, added by the next sync in KubeVirt, is written in the same update here).
            new = copy.deepcopy(vm)
            new["metadata"].setdefault("annotations", {}).update({LATEST_API: "kubevirt.io/v1",
                                                                  STORAGE_API: "kubevirt.io/v1"})
            if not is_deleting(vm) and VM_FINALIZER not in (vm["metadata"].get("finalizers") or ()):
                new["metadata"].setdefault("finalizers", []).append(VM_FINALIZER)
            self.store.update(new)
            return True

        if is_deleting(vm):
            changed = False
            if vmi is not None and "orphan" not in (vm["metadata"].get("finalizers") or ()):
                changed |= self._stop_vmi(vm, vmi, now)
            elif VM_FINALIZER in (vm["metadata"].get("finalizers") or ()):
                self.store.remove_finalizer(VM, ns, name, VM_FINALIZER)
                return True
            vm = self.peek(VM, ns, name)
            if vm is not None:
                changed |= self._update_status(vm, self.peek(VMI, ns, name), None, now)
            return changed

        if VM_FINALIZER not in (vm["metadata"].get("finalizers") or ()):
            new = copy.deepcopy(vm)
            new["metadata"].setdefault("finalizers", []).append(VM_FINALIZER)
            self.store.update(new)
            return True

        sync_err = None
        changed = False
        try:
            changed |= self._sync_instancetypes(vm, now)
        except SyncError as e:
            sync_err = e
        if changed:
            return True

        rs = run_strategy(vm)
        ready = True
        if sync_err is None and annotations(vm).get(IMMEDIATE_DV) != "false":
            try:
                ready, dv_changed = self._handle_data_volumes(vm, now)
                changed |= dv_changed
            except SyncError as e:
                sync_err = e
                ready = False
        if sync_err is None and (ready or rs == "Halted"):
            try:
                changed |= self._sync_run_strategy(vm, vmi, rs, now)
            except SyncError as e:
                sync_err = e
        vm = self.peek(VM, ns, name)
        if vm is None:
            return True
        if sync_err is not None:
            # A failed sync is retried with backoff, as the work queue's rate limiter does.
            self.requeue_after(key, self.retry_seconds, now)
        changed |= self._update_status(vm, self.peek(VMI, ns, name), sync_err, now)
        return changed

    # ---------------------------------------------------------------- instancetypes
    def _sync_instancetypes(self, vm, now):
        spec = vm.get("spec") or {}
        status = copy.deepcopy(vm.get("status") or {})
        changed = False
        for matcher_key, status_key, ns_kinds, cluster_kinds, plural_ns, plural_cluster in (
                ("instancetype", "instancetypeRef",
                 ("virtualmachineinstancetype", "virtualmachineinstancetypes"),
                 ("virtualmachineclusterinstancetype", "virtualmachineclusterinstancetypes", ""),
                 "virtualmachineinstancetypes", "virtualmachineclusterinstancetypes"),
                ("preference", "preferenceRef",
                 ("virtualmachinepreference", "virtualmachinepreferences"),
                 ("virtualmachineclusterpreference", "virtualmachineclusterpreferences", ""),
                 "virtualmachinepreferences", "virtualmachineclusterpreferences")):
            matcher = spec.get(matcher_key)
            if not matcher:
                continue
            ref = copy.deepcopy(status.get(status_key) or {})
            clear = False
            if matcher.get("name") and matcher["name"] != ref.get("name"):
                ref["name"] = matcher["name"]
                clear = True
            if matcher.get("kind") and matcher["kind"] != ref.get("kind"):
                ref["kind"] = matcher["kind"]
                clear = True
            if clear:
                ref.pop("controllerRevisionRef", None)
            if matcher.get("revisionName"):
                if (ref.get("controllerRevisionRef") or {}).get("name") != matcher["revisionName"]:
                    ref["controllerRevisionRef"] = {"name": matcher["revisionName"]}
            if not ref.get("controllerRevisionRef"):
                kind = (matcher.get("kind") or "").lower()
                if kind in ns_kinds:
                    resource, obj_ns = f"{plural_ns}.instancetype.kubevirt.io", vm["metadata"]["namespace"]
                elif kind in cluster_kinds:
                    resource, obj_ns = f"{plural_cluster}.instancetype.kubevirt.io", ""
                else:
                    raise SyncError(f"got unexpected kind in {matcher_key.capitalize()}Matcher: {matcher.get('kind')}",
                                    "FailedCreate")
                source = self.peek(resource, obj_ns, matcher.get("name"))
                if source is None:
                    raise SyncError(f'{resource} "{matcher.get("name")}" not found', "FailedCreate")
                revision = self._store_revision(vm, source)
                ref["controllerRevisionRef"] = {"name": revision["metadata"]["name"]}
            if status.get(status_key) != ref:
                status[status_key] = ref
                changed = True
        if changed:
            self.store.update({**vm, "status": status}, subresource="status")
        return changed

    def _store_revision(self, vm, source):
        sm = source["metadata"]
        version = source["apiVersion"].rpartition("/")[2]
        name = f"{vm['metadata']['name']}-{sm['name']}-{version}-{sm['uid']}-{sm.get('generation', 1)}"
        data = copy.deepcopy(source)
        for field in ("labels", "annotations", "finalizers", "ownerReferences", "managedFields"):
            data["metadata"].pop(field, None)
        rev = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
               "metadata": {"name": name, "namespace": vm["metadata"]["namespace"],
                            "ownerReferences": [owner_ref(vm)],
                            "labels": {"instancetype.kubevirt.io/object-generation": str(sm.get("generation", 1)),
                                       "instancetype.kubevirt.io/object-kind": source["kind"],
                                       "instancetype.kubevirt.io/object-name": sm["name"],
                                       "instancetype.kubevirt.io/object-uid": sm["uid"],
                                       "instancetype.kubevirt.io/object-version": version}},
               "data": data, "revision": 0}
        existing = self.peek(CR, vm["metadata"]["namespace"], name)
        if existing is not None:
            return existing
        return self.store.create(rev)

    # ---------------------------------------------------------------- dataVolumeTemplates
    def _handle_data_volumes(self, vm, now):
        ns = vm["metadata"]["namespace"]
        ready = True
        changed = False
        for template in (vm.get("spec") or {}).get("dataVolumeTemplates") or ():
            tname = (template.get("metadata") or {}).get("name")
            if not tname:
                continue
            dv = self.peek(DV, ns, tname)
            if dv is None:
                ready = False
                manifest = self._dv_manifest(vm, template)
                self._authorize_clone(vm, manifest, now)
                try:
                    cdi_admission.stamp_clone_token(manifest, self.rng)
                    cdi_admission.validate_claim_may_exist(self.store, manifest)
                    self.create_admitted(manifest)
                except ApiError as e:
                    if self.peek(PVC, ns, tname) is not None and "already exists" in e.message:
                        continue
                    self.event(vm, "Warning", "FailedDataVolumeCreate",
                               f"Error creating DataVolume {tname}: {e.message}", now)
                    raise SyncError(f"Error encountered while creating DataVolumes: failed to create DataVolume: "
                                    f"{e.message}", "FailedCreate") from e
                self.event(vm, "Normal", "SuccessfulDataVolumeCreate", f"Created DataVolume {tname}", now)
                changed = True
                continue
            if not controller_of(dv) and not is_deleting(vm):
                # ClaimMatchedDataVolumes: an orphan DataVolume named like a template is adopted.
                new = copy.deepcopy(dv)
                new["metadata"].setdefault("ownerReferences", []).append(owner_ref(vm))
                self.store.update(new)
                changed = True
            # handleDataVolumes judges an existing DataVolume by its phase only, whoever controls it.
            phase = (dv.get("status") or {}).get("phase")
            if phase in ("Succeeded", "WaitForFirstConsumer", "PendingPopulation"):
                continue
            if phase == "Failed":
                self.event(vm, "Warning", "FailedDataVolumeImport",
                           f"DataVolume {tname} failed to import disk image", now)
            elif phase == "Pending":
                bound = get_condition(dv, "Bound") or {}
                if bound.get("status") != "True" and bound.get("reason") == "ErrExceededQuota":
                    # storagetypes.HasDataVolumeExceededQuotaError: the sync fails with CDI's quota message.
                    self.event(vm, "Warning", "FailedDataVolumeImport", f"DataVolume {tname} exceeds quota limits",
                               now)
                    raise SyncError(f"Error encountered while creating DataVolumes: DataVolume {tname} importer is "
                                    f"not running due to an error: {bound.get('message', '')}", "FailedCreate")
            ready = False
        return ready, changed

    def _dv_manifest(self, vm, template):
        tm = template.get("metadata") or {}
        ns = vm["metadata"]["namespace"]
        dv = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
              "metadata": {"name": tm["name"], "namespace": ns, "ownerReferences": [owner_ref(vm)]},
              "spec": copy.deepcopy(template.get("spec") or {})}
        if tm.get("labels"):
            dv["metadata"]["labels"] = dict(tm["labels"])
        dv["metadata"]["annotations"] = dict(tm.get("annotations") or {})
        dv["metadata"]["annotations"][ALLOW_ADOPTION] = "true"
        source = dv["spec"].get("source") or {}
        for kind in ("pvc", "snapshot"):
            if kind in source and not source[kind].get("namespace"):
                source[kind]["namespace"] = ns
        return dv

    def _authorize_clone(self, vm, dv, now):
        """virt-controller's authorizeDataVolume: cross-namespace clones are checked for the VM's ServiceAccount."""
        source = dv["spec"].get("source") or {}
        ns = vm["metadata"]["namespace"]
        src_ns = src_name = None
        if source.get("pvc"):
            src_ns, src_name = source["pvc"].get("namespace") or ns, source["pvc"].get("name")
            if self.peek(PVC, src_ns, src_name) is None:
                self.event(vm, "Warning", "SourcePVCNotAvailabe",
                           f"Source PVC {src_name} not available: Target PVC {dv['metadata']['name']} will remain "
                           f"unpopulated until source is created", now)
        elif source.get("snapshot"):
            src_ns, src_name = source["snapshot"].get("namespace") or ns, source["snapshot"].get("name")
        elif (dv["spec"].get("sourceRef") or {}).get("kind") == "DataSource":
            resolved = cdi_admission.resolve_data_source(self.store, dv, ns)
            if resolved is None:
                raise SyncError("Error encountered while creating DataVolumes: unable to create DataVolume manifest: "
                                f'datasources.cdi.kubevirt.io "{dv["spec"]["sourceRef"].get("name")}" not found',
                                "FailedCreate")
            _, src_ns, src_name = resolved
        if src_ns is None or src_ns == ns:
            return
        if cdi_admission.PRE_POPULATED in annotations(dv) or cdi_admission.CHECK_STATIC in annotations(dv):
            return
        sa = template_spec(vm).get("serviceAccountName") or next(
            (v["serviceAccount"].get("serviceAccountName") for v in template_spec(vm).get("volumes") or ()
             if v.get("serviceAccount")), None) or "default"
        user = f"system:serviceaccount:{ns}:{sa}"
        groups = ("system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated")
        allowed = cdi_admission.can_clone(self.sim, (user, groups), src_ns, src_name,
                                          snapshot=bool(source.get("snapshot")))
        if not allowed:
            reason = f"User {user} has insufficient permissions in clone source namespace {src_ns}"
            self.event(vm, "Warning", "UnauthorizedDataVolumeCreate",
                       f"Not authorized to create DataVolume {dv['metadata']['name']}: {reason}", now)
            raise SyncError("Error encountered while creating DataVolumes: not authorized to create DataVolume: "
                            f"{reason}", "FailedCreate")

    # ---------------------------------------------------------------- run strategy
    def _sync_run_strategy(self, vm, vmi, rs, now):
        if rs == WAIT_AS_RECEIVER:
            return self._sync_receiver(vm, vmi, now)
        if rs == "Always":
            if vmi is not None:
                if vmi_is_final(vmi) and is_decentralized_source(vmi) and migration_completed(vmi):
                    # KV vm.go syncRunStrategy: "decentralized migration completed, setting runStrategy to
                    # halted"; the Halted branch then deletes the Succeeded VMI.
                    return self._set_run_strategy(vm, "Halted")
                if has_stop_request_for(vm, vmi) or vmi_is_final(vmi):
                    return self._stop_vmi(vm, vmi, now)
                return False
            return self._start_vmi(vm, now)
        if rs == "RerunOnFailure":
            if vmi is not None:
                phase = (vmi.get("status") or {}).get("phase")
                if not is_deleting(vmi) and (has_stop_request_for(vm, vmi) or phase in FINAL_PHASES):
                    changed = self._stop_vmi(vm, vmi, now)
                    if phase == "Failed":
                        self._add_state_change(vm, {"action": "Start"})
                    return changed
                return False
            if not (has_start_request(vm) or (vm.get("status") or {}).get("runStrategy") != rs):
                return False
            return self._start_vmi(vm, now)
        if rs == "Manual":
            if vmi is not None:
                if has_stop_request_for(vm, vmi):
                    return self._stop_vmi(vm, vmi, now)
                return False
            if has_start_request(vm):
                return self._start_vmi(vm, now)
            return False
        if rs == "Halted":
            if vmi is None:
                if has_start_request(vm):
                    new = copy.deepcopy(vm)
                    if new["spec"].get("runStrategy") is not None:
                        new["spec"]["runStrategy"] = "Always"
                    else:
                        new["spec"]["running"] = True
                    self.store.update(new)
                    return True
                return False
            return self._stop_vmi(vm, vmi, now)
        if rs == "Once":
            if vmi is None:
                return self._start_vmi(vm, now)
            return False
        raise SyncError(f"unknown runstrategy: {rs}", "FailedCreate")

    def _sync_receiver(self, vm, vmi, now):
        """KV vm.go, WaitAsReceiver: a receiver VMI is created at once (and again when deleted); once the VMI has
        lost the receiver annotation and reports a completed migration, the run strategy is restored from the
        kubevirt.io/restore-run-strategy annotation, when there is one (live-move.md §1.6, §1.7)."""
        if vmi is None:
            return self._start_vmi(vm, now, receiver=True)
        if not has_receiver_annotation(vmi) and migration_completed(vmi):
            restore = annotations(vm).get(RESTORE_RUN_STRATEGY)
            return self._set_run_strategy(vm, restore) if restore else False
        return False

    def _set_run_strategy(self, vm, value):
        new = copy.deepcopy(vm)
        new["spec"].pop("running", None)
        new["spec"]["runStrategy"] = value
        self.store.update(new)
        return True

    def _add_state_change(self, vm, request):
        fresh = self.peek(VM, vm["metadata"]["namespace"], vm["metadata"]["name"])
        status = copy.deepcopy(fresh.get("status") or {})
        status.setdefault("stateChangeRequests", []).append(request)
        self.store.update({**fresh, "status": status}, subresource="status")

    def _start_vmi(self, vm, now, receiver=False):
        ns, name = vm["metadata"]["namespace"], vm["metadata"]["name"]
        if condition_is(vm, "ManualRecoveryRequired"):
            return False
        tmpl = copy.deepcopy((vm.get("spec") or {}).get("template") or {})
        tmeta = tmpl.get("metadata") or {}
        spec = tmpl.get("spec") or {}
        vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
               "metadata": {"name": name, "namespace": ns, "ownerReferences": [owner_ref(vm)],
                            "finalizers": [VM_FINALIZER],
                            "annotations": dict(tmeta.get("annotations") or {})},
               "spec": spec, "status": {}}
        if tmeta.get("labels"):
            vmi["metadata"]["labels"] = dict(tmeta["labels"])
        vmi["metadata"]["annotations"][VM_GENERATION] = str(vm["metadata"].get("generation", 1))
        if receiver:
            vmi["metadata"]["annotations"][CREATE_MIGRATION_TARGET] = "true"
        reqs = state_change_requests(vm)
        if reqs and reqs[0].get("action") == "Start" and (reqs[0].get("data") or {}).get("paused") == "true":
            spec["startStrategy"] = "Paused"
        domain = spec.setdefault("domain", {})
        fw = domain.setdefault("firmware", {})
        if not fw.get("uuid"):
            fw["uuid"] = legacy_firmware_uuid(name)
        self._apply_instancetype(vm, spec)
        devices = domain.setdefault("devices", {})
        if not spec.get("networks") and not devices.get("interfaces") and \
                devices.get("autoattachPodInterface") is not False:
            devices["interfaces"] = [{"name": "default", "masquerade": {}}]
            spec["networks"] = [{"name": "default", "pod": {}}]
        try:
            self.create_admitted(vmi)
        except ApiError as e:
            self.event(vm, "Warning", "FailedCreate", f"Error creating virtual machine instance: {e.message}", now)
            raise SyncError(f"Failure while starting VMI: {e.message}", "FailedCreate") from e
        if receiver:
            self.event(vm, "Normal", "SuccessfulCreate", f"Starting VM as receiver {name}", now)
            return True
        self.event(vm, "Normal", "SuccessfulCreate",
                   f"Started the virtual machine by creating the new virtual machine instance {name}", now)
        return True

    def _apply_instancetype(self, vm, spec):
        ref = ((vm.get("status") or {}).get("instancetypeRef") or {}).get("controllerRevisionRef") or {}
        if not ref.get("name"):
            return
        rev = self.peek(CR, vm["metadata"]["namespace"], ref["name"])
        if rev is None:
            return
        it = (rev.get("data") or {}).get("spec") or {}
        domain = spec.setdefault("domain", {})
        if (it.get("cpu") or {}).get("guest"):
            domain.setdefault("cpu", {}).update({"sockets": it["cpu"]["guest"], "cores": 1, "threads": 1})
        if (it.get("memory") or {}).get("guest"):
            domain.setdefault("memory", {})["guest"] = it["memory"]["guest"]

    def _stop_vmi(self, vm, vmi, now):
        if vmi is None or is_deleting(vmi):
            return False
        self.store.delete(VMI, vmi["metadata"]["namespace"], vmi["metadata"]["name"])
        self.event(vm, "Normal", "SuccessfulDelete",
                   f"Stopped the virtual machine by deleting the virtual machine instance {vmi['metadata']['uid']}",
                   now)
        return True

    # ---------------------------------------------------------------- status
    def _update_status(self, vm, vmi, sync_err, now):
        status = copy.deepcopy(vm.get("status") or {})
        if vmi is not None and controller_of(vmi) and not is_controlled_by(vmi, vm):
            vmi = None
        created = vmi is not None
        _set_flag(status, "created", created)
        ready = created and condition_is(vmi, "Ready")
        _set_flag(status, "ready", ready)
        rs = run_strategy(vm)
        if status.get("runStrategy") or created:
            status["runStrategy"] = rs
        reqs = status.get("stateChangeRequests") or []
        if reqs and self._trim_first_request(reqs[0], vmi):
            reqs = reqs[1:]
            if reqs:
                status["stateChangeRequests"] = reqs
            else:
                status.pop("stateChangeRequests", None)
        self._sync_conditions(vm, vmi, status, sync_err, now)
        status["printableStatus"] = self._printable_status(vm, vmi, status)
        status["desiredGeneration"] = vm["metadata"].get("generation", 1)
        if created and annotations(vmi).get(VM_GENERATION):
            status["observedGeneration"] = int(annotations(vmi)[VM_GENERATION])
        snaps = self._volume_snapshot_statuses(vm)
        if snaps:
            status["volumeSnapshotStatuses"] = snaps
        else:
            status.pop("volumeSnapshotStatuses", None)
        changed = self.update_status(vm, status)
        if vmi is not None and vmi_is_final(vmi) and VM_FINALIZER in (vmi["metadata"].get("finalizers") or ()):
            self.store.remove_finalizer(VMI, vmi["metadata"]["namespace"], vmi["metadata"]["name"], VM_FINALIZER)
            changed = True
        return changed

    @staticmethod
    def _trim_first_request(req, vmi):
        if req.get("action") == "Stop":
            return vmi is None or not req.get("uid") or req["uid"] != vmi["metadata"]["uid"]
        if req.get("action") == "Start":
            return vmi is not None and not is_deleting(vmi) and not vmi_is_final(vmi)
        return False

    def _sync_conditions(self, vm, vmi, status, sync_err, now):
        if vmi is None:
            set_condition(status, "Ready", "False", "VMINotExists", "VMI does not exist", now, probe=True)
        else:
            rc = get_condition(vmi, "Ready")
            if rc is None:
                set_condition(status, "Ready", "False", "VMIConditionMissing", "VMI is missing the Ready condition",
                              now, probe=True)
            else:
                set_condition(status, "Ready", rc.get("status"), rc.get("reason", ""), rc.get("message", ""), now,
                              probe=True)
        if sync_err is None:
            remove_condition(status, "Failure")
        else:
            set_condition(status, "Failure", "True", sync_err.reason, str(sync_err), now)
        if vmi is None:
            return
        ignore = {"Ready", "Failure", "RestartRequired"}
        vmi_types = set()
        for c in (vmi.get("status") or {}).get("conditions") or ():
            if c.get("type") in ignore:
                continue
            vmi_types.add(c["type"])
            set_condition(status, c["type"], c.get("status"), c.get("reason", ""), c.get("message", ""), now,
                          probe=True)
        for c in list(status.get("conditions") or ()):
            if c["type"] not in ignore and c["type"] not in vmi_types:
                remove_condition(status, c["type"])

    def _printable_status(self, vm, vmi, status):
        phase = (vmi.get("status") or {}).get("phase", "") if vmi else None
        paused = vmi is not None and condition_is(vmi, "Paused")
        if is_deleting(vm):
            return "Terminating"
        if run_strategy(vm) == WAIT_AS_RECEIVER and (vmi is None or is_receiver(vmi)):
            return "WaitingForReceiver"     # KV vm.go isVirtualMachineWaitingReceiver
        if vmi is not None and not vmi_is_final(vmi) and is_migrating(vmi):
            return "Migrating"              # KV pkg/util/migrations IsMigrating
        if vmi is not None and not vmi_is_final(vmi) and is_deleting(vmi):
            return "Stopping"
        if vmi is not None and phase == "Running" and paused:
            return "Paused"
        if vmi is not None and phase == "Running":
            return "Running"
        if vmi is not None and condition_is(vmi, "Synchronized", "False", "FailedPvcNotFound"):
            return "ErrorPvcNotFound"
        if self._data_volume_error(vm):
            return "DataVolumeError"
        if vmi is not None and condition_is(vmi, "PodScheduled", "False", "Unschedulable"):
            return "ErrorUnschedulable"
        if self._data_volume_provisioning(vm):
            return "Provisioning"
        if is_set_to_start(vm, vmi) and self._has_unbound_claim(vm):
            return "WaitingForVolumeBinding"
        if vmi is None:
            return "Stopped"
        if phase in ("", "Pending", "Scheduling", "Scheduled"):
            return "Starting"
        if vmi_is_final(vmi):
            return "Stopped"
        return "Unknown"

    def _data_volumes(self, vm):
        ns = vm["metadata"]["namespace"]
        for v in template_spec(vm).get("volumes") or ():
            if v.get("dataVolume"):
                dv = self.peek(DV, ns, v["dataVolume"].get("name"))
                if dv is not None:
                    yield dv

    def _data_volume_error(self, vm):
        for dv in self._data_volumes(vm):
            if (dv.get("status") or {}).get("phase") == "Failed":
                return True
            rc = get_condition(dv, "Running")
            if rc and rc.get("status") == "False" and rc.get("reason") in ("Error", "ImagePullFailed"):
                return True
        return False

    def _data_volume_provisioning(self, vm):
        for dv in self._data_volumes(vm):
            phase = (dv.get("status") or {}).get("phase")
            if phase in ("Succeeded", "PendingPopulation"):
                continue
            if condition_is(dv, "Bound") or phase != "WaitForFirstConsumer":
                return True
        return False

    def _has_unbound_claim(self, vm):
        ns = vm["metadata"]["namespace"]
        for v in template_spec(vm).get("volumes") or ():
            claim = volume_claim_name(v)
            if not claim:
                continue
            pvc = self.peek(PVC, ns, claim)
            if pvc is not None and (pvc.get("status") or {}).get("phase") != "Bound":
                return True
        return False

    def _volume_snapshot_statuses(self, vm):
        ns = vm["metadata"]["namespace"]
        out = []
        storage = self.sim_storage()
        for v in template_spec(vm).get("volumes") or ():
            claim = volume_claim_name(v)
            entry = {"name": v.get("name"), "enabled": False}
            if claim is None:
                entry["reason"] = f"Snapshot is not supported for this volumeSource type [{v.get('name')}]"
            else:
                pvc = self.peek(PVC, ns, claim)
                sc_name = ((pvc or {}).get("spec") or {}).get("storageClassName")
                sc = storage.storage_class(sc_name) if (storage and sc_name) else None
                if pvc is None:
                    entry["reason"] = f"No VolumeSnapshotClass: Volume snapshots are not configured for this " \
                                      f"StorageClass [] [{v.get('name')}]"
                elif sc is not None and any(c.get("driver") == sc.get("provisioner")
                                            for c in self.records("volumesnapshotclasses.snapshot.storage.k8s.io")):
                    entry = {"name": v.get("name"), "enabled": True}
                else:
                    entry["reason"] = f"No VolumeSnapshotClass: Volume snapshots are not configured for this " \
                                      f"StorageClass [{sc_name or ''}] [{v.get('name')}]"
            out.append(entry)
        return out

    def sim_storage(self):
        return getattr(self, "storage", None)


class SyncError(Exception):
    def __init__(self, message, reason):
        super().__init__(message)
        self.reason = reason


def _set_flag(status, key, value):
    if value:
        status[key] = True
    else:
        status.pop(key, None)

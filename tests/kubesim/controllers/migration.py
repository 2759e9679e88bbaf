"""KubeVirt's decentralized live migration in one cluster: the VMIM webhooks, virt-controller's migration
controller, the synchronization controller and the two virt-handlers, as far as a namespace move can observe them.

Every behaviour follows shared/reference/live-move.md (cited by section):

- admission (§1.3): the VMI exists, is not final, is migratable (``DisksNotLiveMigratable`` is fine for a
  decentralized VMIM), has no in-flight migration, and the DecentralizedLiveMigration gate is on for ``sendTo`` or
  ``receive``; the mutator adds the ``kubevirt.io/vmi-name`` label and the VMIM finalizer; the spec is immutable;
- phases (§1.5, §4.1): target ``WaitingForSync -> Pending -> Scheduling -> Scheduled -> PreparingTarget ->
  TargetReady -> Running -> Succeeded``; source ``Synchronizing -> Pending -> Scheduling -> Scheduled ->
  PreparingTarget -> TargetReady -> Running -> Succeeded``; the receiver VMI ``WaitingForSync -> Scheduling ->
  Scheduled -> Running`` with a launcher pod only once the source side is synchronized, on another node;
- the synchronization address (§1.8): ``<leader pod IP>:<spec.synchronizationPort or 9185>`` on the KubeVirt CR while
  the gate is on, and copied to every VMIM's status;
- switchover (§1.11): source VMI ``Succeeded`` (its VM controller then halts the VM), target VMI ``Running`` on the
  target node without the receiver annotation (its VM controller restores the run strategy);
- failures (§4.3): a target pod that never becomes ready (claim missing in the target namespace, no other node) is
  deleted after the pending/unschedulable timeouts and both VMIMs fail; a ``connectURL`` the synchronization
  controller cannot reach (or ``sync_reachable = False``) leaves the source in ``Synchronizing`` forever, since
  upstream has no timeout there (issue #17317); deleting either VMIM cancels both (``CancelMigration``).

Timing (our emulator choice, §4.2 "Emulator suggestion"): ``step_seconds`` per phase, then (guest memory + every
migrated volume) / ``bandwidth_bytes_per_second`` for the copy, like the CDI host-copy rate, then a
``switchover_seconds`` pause.  ``switchovers`` records, per migration ID, when the source guest paused and when the
target resumed (simulated epoch seconds): the API has no byte counters and only second-precision timestamps.
"""

import copy
import dataclasses

from .. import quantity
from ..errors import ApiError
from .base import (
    Reconciler,
    annotations,
    condition_is,
    get_condition,
    is_deleting,
    labels,
    owner_ref,
    remove_condition,
    rfc3339,
    set_condition,
    webhook_denied,
)
from .kubevirt import (
    CREATE_MIGRATION_TARGET,
    DECENTRALIZED_GATE,
    KUBEVIRT,
    MIGRATION_TARGET_NODE,
    PVC,
    VMI,
    decentralized_gate_on,
    volume_claim_name,
)
from .storage import NODES, capacity_bytes, request_bytes

VMIM = "virtualmachineinstancemigrations.kubevirt.io"
POD = "pods"
VMIM_FINALIZER = "kubevirt.io/migrationJobFinalize"
SYNC_FINALIZER = "synchronization.kubevirt.io/migrationFinalizer"
VMI_NAME_LABEL = "kubevirt.io/vmi-name"
JOB_UID_LABEL = "kubevirt.io/migrationJobUID"
STATE_LABEL = "persistent-state-for"
DEFAULT_SYNC_PORT = "9185"
SYNC_LEADER_IP = "10.244.0.9"
FINAL = ("Succeeded", "Failed")
TARGET_ORDER = ("", "WaitingForSync", "Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady",
                "Running", "Succeeded")
SOURCE_ORDER = ("", "Synchronizing", "Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady",
                "Running", "Succeeded")
WAITING_MESSAGE = "waiting for incoming synchronization, unable to proceed"


@dataclasses.dataclass
class MigrationRates:
    step_seconds: float = 1.0
    bandwidth_bytes_per_second: float = 100 * 2 ** 20
    switchover_seconds: float = 0.25
    # KV migration.go handlePendingPodTimeout defaults (overridable per target VMIM by annotation).
    unschedulable_pod_timeout_seconds: float = 300.0
    pending_pod_timeout_seconds: float = 900.0


def role_of(vmim):
    spec = vmim.get("spec") or {}
    if spec.get("sendTo") and not spec.get("receive"):
        return "source"
    if spec.get("receive") and not spec.get("sendTo"):
        return "target"
    return None


def migration_id(vmim):
    spec = vmim.get("spec") or {}
    return (spec.get("sendTo") or spec.get("receive") or {}).get("migrationID")


def phase(obj):
    return ((obj or {}).get("status") or {}).get("phase", "")


def sync_addresses(kv):
    """What virt-operator publishes (KV core.go updateSynchronizationAddress): the leader's IP and the port, only
    while the gate is on."""
    if not decentralized_gate_on(kv):
        return []
    port = str(((kv or {}).get("spec") or {}).get("synchronizationPort") or DEFAULT_SYNC_PORT)
    return [f"{SYNC_LEADER_IP}:{port}"]


class MigrationController(Reconciler):
    name = "kubevirt-migration"
    component = "migration-controller"
    watches = (VMIM, VMI, KUBEVIRT)

    def __init__(self, sim, storage=None):
        super().__init__(sim)
        self.storage = storage       # the StorageController, for the admission of the claims made here
        self.rates = MigrationRates()
        self.nodes = list(NODES)
        self.sync_reachable = True
        self.switchovers = {}        # migration ID -> {"paused": t, "resumed": t} (simulated epoch seconds)
        self._by_id = {}             # migration ID -> {role: (ns, name)}
        self._by_vmi = {}            # (ns, vmi name) -> migration IDs
        self._since = {}             # (ns, name, phase) -> simulated epoch seconds the VMIM entered it
        self._ip_seq = 0

    # ---------------------------------------------------------------- indexes / queueing
    def observe(self, etype, rkey, obj):
        if rkey != VMIM or role_of(obj) is None:
            return
        m = obj["metadata"]
        mid, role = migration_id(obj), role_of(obj)
        ids = self._by_vmi.setdefault((m.get("namespace", ""), (obj.get("spec") or {}).get("vmiName")), set())
        if etype == "DELETED":
            (self._by_id.get(mid) or {}).pop(role, None)
            ids.discard(mid)
        else:
            self._by_id.setdefault(mid, {})[role] = (m.get("namespace", ""), m["name"])
            ids.add(mid)

    def keys_for(self, etype, rkey, obj):
        m = obj.get("metadata") or {}
        if rkey == KUBEVIRT:
            return [("kubevirt",)]
        if rkey == VMIM:
            return [("pair", migration_id(obj))] if role_of(obj) else []
        return [("pair", mid) for mid in sorted(self._by_vmi.get((m.get("namespace", ""), m.get("name")), ()))]

    def kubevirt(self):
        return self.peek(KUBEVIRT, "kubevirt", "kubevirt")

    # ---------------------------------------------------------------- admission (virt-api webhooks)
    def admit(self, op, resource, obj, old, user):
        if getattr(resource, "key", resource) != VMIM or is_deleting(obj):
            return obj
        if op == "UPDATE":
            if old is not None and (obj.get("spec") or {}) != (old.get("spec") or {}):
                raise webhook_denied("migration-update-validator.kubevirt.io",
                                     "update of Migration object's spec is restricted", reason="Invalid")
            return obj
        if op != "CREATE":
            return obj
        self._admit_create(obj)
        # KV migration-create-mutator.go: the VMI label and the migration finalizer.
        meta = obj.setdefault("metadata", {})
        meta.setdefault("labels", {})[VMI_NAME_LABEL] = (obj.get("spec") or {}).get("vmiName", "")
        if VMIM_FINALIZER not in (meta.get("finalizers") or ()):
            meta.setdefault("finalizers", []).append(VMIM_FINALIZER)
        return obj

    def _admit_create(self, obj):
        """KV migration-create-admitter.go, in its order (live-move.md §1.3)."""
        spec = obj.get("spec") or {}
        ns = (obj.get("metadata") or {}).get("namespace", "")
        decentralized = bool(spec.get("sendTo") or spec.get("receive"))
        if decentralized and not decentralized_gate_on(self.kubevirt()):
            self._deny(f"{DECENTRALIZED_GATE} feature gate is not enabled in kubevirt resource")
        vmi = self.peek(VMI, ns, spec.get("vmiName"))
        if vmi is None:
            self._deny(f'the VMI "{ns}/{spec.get("vmiName")}" does not exist')
        if phase(vmi) in FINAL:
            self._deny("Cannot migrate VMI in finalized state.")
        cond = get_condition(vmi, "LiveMigratable")
        if cond is not None and cond.get("status") == "False" and \
                not (decentralized and cond.get("reason") == "DisksNotLiveMigratable"):
            self._deny(f"Cannot migrate VMI, Reason: {cond.get('reason', '')}, Message: {cond.get('message', '')}")
        for other in self.records(VMIM, ns):
            if (other.get("spec") or {}).get("vmiName") == spec.get("vmiName") and phase(other) not in FINAL:
                self._deny(f"in-flight migration detected. Active migration job ({other['metadata']['uid']}) is "
                           f"currently already in progress for VMI {spec.get('vmiName')}.")

    @staticmethod
    def _deny(message):
        raise webhook_denied("migration-create-validator.kubevirt.io", message, reason="Invalid")

    # ---------------------------------------------------------------- sync
    def sync(self, key, now):
        if key[0] == "kubevirt":
            return self._publish_addresses()
        return self._sync_pair(key[1], now)

    def _publish_addresses(self):
        kv = self.kubevirt()
        if kv is None:
            return False
        status = copy.deepcopy(kv.get("status") or {})
        addrs = sync_addresses(kv)
        if addrs:
            status["synchronizationAddresses"] = addrs
        else:
            status.pop("synchronizationAddresses", None)
        return self.update_status(kv, status)

    def _vmims(self, mid):
        out = {}
        for role, (ns, name) in list((self._by_id.get(mid) or {}).items()):
            obj = self.peek(VMIM, ns, name)
            if obj is not None:
                out[role] = obj
        return out.get("source"), out.get("target")

    def _sync_pair(self, mid, now):
        src, tgt = self._vmims(mid)
        if src is None and tgt is None:
            return False
        if any(v is not None and is_deleting(v) for v in (src, tgt)):
            return self._cancel(mid, src, tgt, now)
        for v in (src, tgt):
            if v is not None and self._vmi_of(v) is None:
                # KV migration.go execute: a VMIM whose VMI is gone is deleted by the controller.
                self.store.delete(VMIM, v["metadata"]["namespace"], v["metadata"]["name"])
                return True
        changed = self._publish_on(src) | self._publish_on(tgt)
        if changed:
            return True
        if src is not None and phase(src) == "Failed" and tgt is not None and phase(tgt) not in FINAL:
            return self._fail(mid, src, tgt, "source migration failed", now)
        if tgt is not None and phase(tgt) == "Failed" and src is not None and phase(src) not in FINAL:
            return self._fail(mid, src, tgt, "target migration failed", now)
        return self._advance(mid, src, tgt, now)

    def _vmi_of(self, vmim):
        return self.peek(VMI, vmim["metadata"]["namespace"], (vmim.get("spec") or {}).get("vmiName"))

    def _publish_on(self, vmim):
        """Copy the KubeVirt CR's addresses onto a VMIM (KV migration.go setSynchronizationAddressStatus) and add
        the synchronization finalizer while it is not final (KV sync controller handleMigrationFinalizer)."""
        if vmim is None:
            return False
        fins = list(vmim["metadata"].get("finalizers") or ())
        if phase(vmim) not in FINAL and SYNC_FINALIZER not in fins:
            new = copy.deepcopy(vmim)
            new["metadata"]["finalizers"] = fins + [SYNC_FINALIZER]
            self.store.update(new)
            return True
        addrs = sync_addresses(self.kubevirt())
        status = copy.deepcopy(vmim.get("status") or {})
        if addrs:
            status["synchronizationAddresses"] = addrs
        else:
            status.pop("synchronizationAddresses", None)
        return self.update_status(vmim, status)

    # ---------------------------------------------------------------- phase bookkeeping
    def _set_phase(self, vmim, new_phase, now, status=None):
        status = copy.deepcopy(status if status is not None else vmim.get("status") or {})
        status["phase"] = new_phase
        status.setdefault("phaseTransitionTimestamps", []).append(
            {"phase": new_phase, "phaseTransitionTimestamp": rfc3339(now)})
        m = vmim["metadata"]
        self._since[(m["namespace"], m["name"], new_phase)] = now.timestamp()
        self.update_status(vmim, status)
        self.requeue_after(("pair", migration_id(vmim)), self.rates.step_seconds, now)
        return True

    def _in_phase_for(self, vmim, now):
        m = vmim["metadata"]
        since = self._since.get((m["namespace"], m["name"], phase(vmim)))
        return now.timestamp() - since if since is not None else self.rates.step_seconds

    def _due(self, vmim, now, seconds=None):
        wait = self.rates.step_seconds if seconds is None else seconds
        elapsed = self._in_phase_for(vmim, now)
        if elapsed >= wait:
            return True
        self.requeue_after(("pair", migration_id(vmim)), wait - elapsed, now)
        return False

    def _patch_vmi(self, vmim, fn):
        vmi = self._vmi_of(vmim)
        if vmi is None:
            return False
        status = copy.deepcopy(vmi.get("status") or {})
        fn(status, vmi)
        return self.update_status(vmi, status)

    # ---------------------------------------------------------------- the happy path, one step per call
    def _advance(self, mid, src, tgt, now):
        if tgt is not None and phase(tgt) == "":
            return self._accept_target(tgt, now)
        if src is not None and phase(src) == "":
            return self._accept_source(src, tgt, now)
        if src is not None and phase(src) == "Synchronizing":
            return self._synchronize(src, tgt, now)
        if src is not None and phase(src) == "Pending" and self._due(src, now):
            return self._source_scheduling(src, tgt, now)
        if tgt is None or src is None:
            return False
        tp, sp = phase(tgt), phase(src)
        if tp == "WaitingForSync" and sp == "Scheduling" and self._due(tgt, now, 0):
            return self._target_pending(tgt, now)
        if tp == "Pending":
            return self._create_target_pod(src, tgt, now)
        if tp == "Scheduling":
            return self._target_pod_ready(src, tgt, now)
        if tp in ("Scheduled", "PreparingTarget") and self._due(tgt, now):
            return self._hand_off(src, tgt, now) if tp == "Scheduled" else self._set_phase(tgt, "TargetReady", now)
        if sp in ("Scheduling", "Scheduled", "PreparingTarget") and \
                TARGET_ORDER.index(tp) > TARGET_ORDER.index(sp) and self._due(src, now):
            return self._set_phase(src, SOURCE_ORDER[SOURCE_ORDER.index(sp) + 1], now)
        if tp == "TargetReady" and sp == "TargetReady":
            return self._start_copy(src, tgt, now)
        if tp == "Running" and sp == "Running":
            return self._finish_copy(mid, src, tgt, now)
        return False

    def _accept_target(self, tgt, now):
        vmi = self._vmi_of(tgt)
        for other in self.records(VMIM, tgt["metadata"]["namespace"]):
            if other["metadata"]["uid"] != tgt["metadata"]["uid"] and phase(other) not in FINAL and \
                    (other.get("spec") or {}).get("vmiName") == tgt["spec"]["vmiName"]:
                return self._set_phase(tgt, "Failed", now)      # canMigrateVMI: another migration owns it
        uid = tgt["metadata"]["uid"]

        def mark(status, _vmi):
            ms = status.setdefault("migrationState", {})
            for k in ("completed", "failed", "failureReason", "startTimestamp", "endTimestamp", "abortStatus",
                      "abortRequested", "sourceState", "mode"):
                ms.pop(k, None)     # a new target VMIM resets a finished state (KV decentralized.go)
            ms["migrationUid"] = uid
            ms["targetState"] = {"migrationUID": uid, "virtualMachineInstanceUID": vmi["metadata"]["uid"],
                                 "domainNamespace": tgt["metadata"]["namespace"], "domainName": vmi["metadata"]["name"]}
            set_condition(status, "DecentralizedLiveMigrationFailure", "True", "DecentralizedNotLiveMigratable",
                          WAITING_MESSAGE, now)
        self._patch_vmi(tgt, mark)
        status = copy.deepcopy(tgt.get("status") or {})
        set_condition(status, "decentralizedMigrationBlocked", "True", "DecentralizedNotLiveMigratable",
                      WAITING_MESSAGE, now)
        return self._set_phase(tgt, "WaitingForSync", now, status)

    def _accept_source(self, src, tgt, now):
        uid = src["metadata"]["uid"]

        def mark(status, vmi):
            ms = status.setdefault("migrationState", {})
            for k in ("completed", "failed", "failureReason", "startTimestamp", "endTimestamp", "abortStatus",
                      "abortRequested", "mode", "targetState"):
                ms.pop(k, None)
            ms["migrationUid"] = uid
            ms["sourceState"] = {"migrationUID": uid, "virtualMachineInstanceUID": vmi["metadata"]["uid"],
                                 "domainNamespace": src["metadata"]["namespace"]}
            ms["targetState"] = {"syncAddress": src["spec"]["sendTo"].get("connectURL", "")}
        self._patch_vmi(src, mark)
        return self._set_phase(src, "Synchronizing", now)

    def _synchronize(self, src, tgt, now):
        """The sync controllers exchange state through connectURL; with no reachable controller or no target VMIM
        the source stays Synchronizing, retried forever (KV sync controller; issue #17317)."""
        url = (src["spec"].get("sendTo") or {}).get("connectURL", "")
        if not self.sync_reachable or url not in sync_addresses(self.kubevirt()):
            message = f"source: failed to connect to synchronization controller at {url}: connection refused"
        elif tgt is None or phase(tgt) not in ("WaitingForSync",):
            message = f"source: unable to locate VMI for migrationID {migration_id(src)}"
        else:
            message = None
        if message is not None:
            self.requeue_after(("pair", migration_id(src)), 5.0, now)
            self._patch_vmi(src, lambda st, _v: set_condition(st, "DecentralizedLiveMigrationFailure", "True",
                                                               "DecentralizedNotLiveMigratable", message, now))
            status = copy.deepcopy(src.get("status") or {})
            set_condition(status, "decentralizedMigrationBlocked", "True", "DecentralizedNotLiveMigratable",
                          message, now)
            return self.update_status(src, status)
        if not self._due(src, now):
            return False
        tuid = tgt["metadata"]["uid"]
        tvmi = self._vmi_of(tgt)

        def exchange(status, _vmi):
            remove_condition(status, "DecentralizedLiveMigrationFailure")
            status.setdefault("migrationState", {}).setdefault("targetState", {})["migrationUID"] = tuid
            status["migrationState"]["targetState"]["virtualMachineInstanceUID"] = tvmi["metadata"]["uid"]
        self._patch_vmi(src, exchange)
        status = copy.deepcopy(src.get("status") or {})
        remove_condition(status, "decentralizedMigrationBlocked")
        return self._set_phase(src, "Pending", now, status)

    def _source_scheduling(self, src, tgt, now):
        vmi = self._vmi_of(src)
        if phase(vmi) != "Running":
            return False
        pod = self._source_pod(vmi)

        def mark(status, v):
            ss = status.setdefault("migrationState", {}).setdefault("sourceState", {})
            ss.update({"node": status.get("nodeName", ""), "pod": (pod or {}).get("metadata", {}).get("name", ""),
                       "nodeSelectors": {"kubernetes.io/hostname": status.get("nodeName", "")}})
            status["migrationState"]["sourceNode"] = status.get("nodeName", "")
            status["migratedVolumes"] = [{"volumeName": vol.get("name"),
                                          "sourcePVCInfo": {"claimName": volume_claim_name(vol)}}
                                         for vol in (v.get("spec") or {}).get("volumes") or ()
                                         if volume_claim_name(vol)]
        self._patch_vmi(src, mark)
        return self._set_phase(src, "Scheduling", now)

    def _source_pod(self, vmi):
        return next((p for p in self.records(POD, vmi["metadata"]["namespace"])
                     if labels(p).get("kubevirt.io/created-by") == vmi["metadata"]["uid"]
                     and not is_deleting(p)), None)

    def _target_pending(self, tgt, now):
        svmi = self._peer_vmi(tgt)

        def mark(status, _vmi):
            remove_condition(status, "DecentralizedLiveMigrationFailure")
            ss = ((svmi or {}).get("status") or {}).get("migrationState", {}).get("sourceState") or {}
            status.setdefault("migrationState", {})["sourceState"] = copy.deepcopy(ss)
            status["migrationMethod"] = "BlockMigration"
            status["migrationTransport"] = "Unix"
        self._patch_vmi(tgt, mark)
        status = copy.deepcopy(tgt.get("status") or {})
        remove_condition(status, "decentralizedMigrationBlocked")
        return self._set_phase(tgt, "Pending", now, status)

    def _peer_vmi(self, vmim):
        src, tgt = self._vmims(migration_id(vmim))
        peer = src if role_of(vmim) == "target" else tgt
        return self._vmi_of(peer) if peer is not None else None

    # ---------------------------------------------------------------- the target pod
    def _create_target_pod(self, src, tgt, now):
        vmi = self._vmi_of(tgt)
        ns = tgt["metadata"]["namespace"]
        existing = self._target_pod(tgt)
        if existing is None:
            pod = self._render_target_pod(vmi, tgt)
            try:
                state = self._target_state_claim(vmi)
                if state is not None:
                    pod["spec"]["volumes"].append({"name": "vm-state", "persistentVolumeClaim":
                                                   {"claimName": state["metadata"]["name"]}})
                self.store.create_admitted(pod)
            except ApiError as e:
                if e.code != 403:
                    raise
                status = copy.deepcopy(tgt.get("status") or {})
                set_condition(status, "migrationRejectedByResourceQuota", "True", "", e.message, now)
                self.requeue_after(("pair", migration_id(tgt)), 10.0, now)
                return self.update_status(tgt, status)
        self._patch_vmi(tgt, lambda st, _v: st.update(phase="Scheduling"))
        self.event(tgt, "Normal", "SuccessfulCreate", f"Created migration target pod {ns}/virt-launcher-"
                                                      f"{vmi['metadata']['name']}", now)
        return self._set_phase(tgt, "Scheduling", now)

    def _target_state_claim(self, vmi):
        """The target's persistent TPM/EFI state claim, created by virt-controller for the migration target (KV
        pkg/storage/backend-storage CreatePVCForMigrationTarget; live-move.md §1.1), owned like the VMI."""
        spec = vmi.get("spec") or {}
        domain = spec.get("domain") or {}
        tpm = ((domain.get("devices") or {}).get("tpm") or {}).get("persistent")
        efi = (((domain.get("firmware") or {}).get("bootloader") or {}).get("efi") or {}).get("persistent")
        if not (tpm or efi):
            return None
        ns, name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        for pvc in self.records(PVC, ns):
            if labels(pvc).get(STATE_LABEL) == name and not is_deleting(pvc):
                return pvc
        kv = self.kubevirt() or {}
        sc_name = ((kv.get("spec") or {}).get("configuration") or {}).get("vmStateStorageClass")
        pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"generateName": f"persistent-state-for-{name}-", "namespace": ns,
                            "labels": {STATE_LABEL: name},
                            "ownerReferences": [dict(r) for r in vmi["metadata"].get("ownerReferences") or ()]},
               "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem",
                        "resources": {"requests": {"storage": "10Mi"}}}}
        if sc_name:
            pvc["spec"]["storageClassName"] = sc_name
        if self.storage is not None:
            pvc = self.storage.admit("CREATE", PVC, pvc, None, None)
        return self.store.create_admitted(pvc)

    def _target_pod(self, tgt):
        uid = tgt["metadata"]["uid"]
        return next((p for p in self.records(POD, tgt["metadata"]["namespace"])
                     if labels(p).get(JOB_UID_LABEL) == uid and not is_deleting(p)), None)

    def _render_target_pod(self, vmi, tgt):
        name = vmi["metadata"]["name"]
        source_node = (((vmi.get("status") or {}).get("migrationState") or {}).get("sourceState") or {}).get("node")
        volumes = [{"name": v.get("name"), "persistentVolumeClaim": {"claimName": volume_claim_name(v)}}
                   for v in (vmi.get("spec") or {}).get("volumes") or () if volume_claim_name(v)]
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"generateName": f"virt-launcher-{name}-", "namespace": vmi["metadata"]["namespace"],
                             "labels": {**labels(vmi), "kubevirt.io": "virt-launcher",
                                        "kubevirt.io/created-by": vmi["metadata"]["uid"],
                                        "vm.kubevirt.io/name": name, JOB_UID_LABEL: tgt["metadata"]["uid"]},
                             "annotations": {"kubevirt.io/domain": name,
                                             "kubevirt.io/migrationJobName": tgt["metadata"]["name"]},
                             "ownerReferences": [owner_ref(vmi)]},
                "spec": {"containers": [{"name": "compute", "image": "quay.io/kubevirt/virt-launcher"}],
                         "volumes": volumes, "restartPolicy": "Never",
                         # KV migration.go createDecentralizedMigrationPodAntiAffinity
                         "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                             "nodeSelectorTerms": [{"matchExpressions": [
                                 {"key": "kubernetes.io/hostname", "operator": "NotIn",
                                  "values": [source_node or ""]}]}]}}}},
                "status": {"phase": "Pending"}}

    def _target_pod_ready(self, src, tgt, now):
        pod = self._target_pod(tgt)
        if pod is None:
            return self._fail(migration_id(tgt), src, tgt, "target pod shutdown during migration", now)
        if not self._due(tgt, now):
            return False
        ns = tgt["metadata"]["namespace"]
        source_node = self._source_node(src)
        nodes = [n for n in self.schedulable_nodes() if n != source_node]
        missing = [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"].get("volumes") or ()
                   if self.peek(PVC, ns, v["persistentVolumeClaim"]["claimName"]) is None]
        if not nodes or missing:
            return self._pod_not_ready(src, tgt, pod, nodes, missing, now)
        new = copy.deepcopy(pod)
        new["spec"]["nodeName"] = nodes[0]
        self.store.update(new)
        self._ip_seq += 1
        ip = f"10.244.200.{self._ip_seq % 250 + 2}"
        pod_status = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": rfc3339(now),
                      "conditions": [{"type": t, "status": "True"} for t in ("PodScheduled", "Ready")]}
        self.store.update({**self.peek(POD, ns, pod["metadata"]["name"]), "status": pod_status}, subresource="status")
        return self._set_phase(tgt, "Scheduled", now)

    def schedulable_nodes(self):
        """The nodes a launcher pod may land on: the Node objects not cordoned and labelled schedulable by
        virt-handler (``nodes`` when the cluster serves no Node objects)."""
        if not self.served("nodes"):
            return list(self.nodes)
        return [n["metadata"]["name"] for n in self.records("nodes")
                if n["metadata"]["name"] in self.nodes and not (n.get("spec") or {}).get("unschedulable")
                and labels(n).get("kubevirt.io/schedulable") == "true"]

    def _source_node(self, src):
        vmi = self._vmi_of(src) if src is not None else None
        return ((vmi or {}).get("status") or {}).get("nodeName")

    def _pod_not_ready(self, src, tgt, pod, nodes, missing, now):
        """The target pod stays Pending; after the unschedulable (5 min) or pending (15 min) timeout virt-controller
        deletes it and the migration fails (KV migration.go handlePendingPodTimeout)."""
        ann = annotations(tgt)
        if not nodes:
            timeout = float(ann.get("kubevirt.io/migrationUnschedulablePodTimeoutSeconds") or
                            self.rates.unschedulable_pod_timeout_seconds)
            count = len(self.records("nodes")) or len(self.nodes)
            message = f"0/{count} nodes are available: {count} node(s) didn't match Pod's node affinity/selector " \
                      "or were unschedulable."
            reason = "Unschedulable"
        else:
            timeout = float(ann.get("kubevirt.io/migrationPendingPodTimeoutSeconds") or
                            self.rates.pending_pod_timeout_seconds)
            message = f'persistentvolumeclaim "{missing[0]}" not found'
            reason = "Unschedulable"
        if not condition_is(pod, "PodScheduled", "False"):
            pod_status = copy.deepcopy(pod.get("status") or {})
            set_condition(pod_status, "PodScheduled", "False", reason, message, now)
            self.store.update({**pod, "status": pod_status}, subresource="status")
            self.event(tgt, "Warning", "migrationTargetPodUnschedulable",
                       f"Migration target pod for VMI [{tgt['metadata']['namespace']}/{tgt['spec']['vmiName']}] is "
                       f"currently unschedulable: {message}", now)
            self.requeue_after(("pair", migration_id(tgt)), 1.0, now)
            return True
        if not self._due(tgt, now, timeout):
            return False
        self.store.delete(POD, pod["metadata"]["namespace"], pod["metadata"]["name"])
        self.event(tgt, "Warning", "migrationTargetPodUnschedulable",
                   f"Migration target pod was removed from cluster after being pending for {int(timeout)} seconds",
                   now)
        return self._fail(migration_id(tgt), src, tgt, "target pod shutdown during migration", now)

    # ---------------------------------------------------------------- hand-off, copy, switchover
    def _hand_off(self, src, tgt, now):
        pod = self._target_pod(tgt)
        node = (pod or {}).get("spec", {}).get("nodeName", "")

        def mark(status, vmi):
            ts = status.setdefault("migrationState", {}).setdefault("targetState", {})
            ts.update({"pod": pod["metadata"]["name"], "node": node, "nodeAddress": "192.168.66.102",
                       "domainName": vmi["metadata"]["name"], "domainNamespace": vmi["metadata"]["namespace"]})
            status["migrationState"].update(targetNode=node, targetPod=pod["metadata"]["name"])
            status["phase"] = "Scheduled"
        self._patch_vmi(tgt, mark)
        tvmi = self._vmi_of(tgt)
        new = copy.deepcopy(tvmi)
        new["metadata"].setdefault("labels", {})[MIGRATION_TARGET_NODE] = node
        self.store.update(new)
        svmi_ts = copy.deepcopy(((self._vmi_of(tgt).get("status") or {}).get("migrationState") or {})
                                .get("targetState") or {})
        self._patch_vmi(src, lambda st, _v: st.setdefault("migrationState", {}).setdefault("targetState", {})
                        .update({k: svmi_ts[k] for k in ("pod", "node", "nodeAddress", "domainName",
                                                          "domainNamespace")}))
        return self._set_phase(tgt, "PreparingTarget", now)

    def copy_bytes(self, vmi):
        """Guest memory plus every migrated (PVC or DataVolume) volume: what libvirt streams (KV manager.go
        getVMIMigrationDataSize)."""
        spec = vmi.get("spec") or {}
        domain = spec.get("domain") or {}
        mem = (domain.get("memory") or {}).get("guest") or \
            ((domain.get("resources") or {}).get("requests") or {}).get("memory") or "1Gi"
        total = int(quantity.parse(mem))
        for v in spec.get("volumes") or ():
            claim = volume_claim_name(v)
            pvc = self.peek(PVC, vmi["metadata"]["namespace"], claim) if claim else None
            if pvc is not None:
                total += capacity_bytes(pvc) or request_bytes(pvc)
        return total

    def _start_copy(self, src, tgt, now):
        stamp = rfc3339(now)
        for vmim in (src, tgt):
            self._patch_vmi(vmim, lambda st, _v: st.setdefault("migrationState", {}).update(
                startTimestamp=stamp, mode="PreCopy"))
        self._set_phase(tgt, "Running", now)
        return self._set_phase(src, "Running", now)

    def _finish_copy(self, mid, src, tgt, now):
        svmi = self._vmi_of(src)
        copy_seconds = self.copy_bytes(svmi) / self.rates.bandwidth_bytes_per_second
        if not self._due(src, now, copy_seconds + self.rates.switchover_seconds):
            return False
        started = self._since.get((src["metadata"]["namespace"], src["metadata"]["name"], "Running"),
                                  now.timestamp())
        paused = started + copy_seconds
        self.switchovers[mid] = {"paused": paused, "resumed": paused + self.rates.switchover_seconds,
                                 "copy_bytes": self.copy_bytes(svmi)}
        self._switch_target(tgt, now)
        self._switch_source(src, now)
        self.event(tgt, "Normal", "SuccessfulMigration", "Source node reported migration succeeded", now)
        self._succeed(tgt, now)
        return self._succeed(src, now)

    def _switch_target(self, tgt, now):
        pod = self._target_pod(tgt)
        ip = ((pod or {}).get("status") or {}).get("podIP")
        peer = self._peer_vmi(tgt)
        stamp = rfc3339(now)

        def mark(status, vmi):
            ms = status.setdefault("migrationState", {})
            ms.update(completed=True, endTimestamp=stamp, targetNodeDomainDetected=True,
                      targetNodeDomainReadyTimestamp=stamp)
            status.update(phase="Running", nodeName=ms.get("targetNode"),
                          activePods={pod["metadata"]["uid"]: ms.get("targetNode")})
            status["phaseTransitionTimestamps"] = list(status.get("phaseTransitionTimestamps") or ()) + [
                {"phase": "Running", "phaseTransitionTimestamp": stamp}]
            status["interfaces"] = [dict(i, **({"ipAddress": ip, "ipAddresses": [ip]} if "ipAddress" in i and
                                               i.get("podInterfaceName") == "eth0" else {}))
                                    for i in ((peer or {}).get("status") or {}).get("interfaces") or ()]
            for c in ((peer or {}).get("status") or {}).get("conditions") or ():
                if c.get("type") in ("Ready", "LiveMigratable", "StorageLiveMigratable", "AgentConnected"):
                    set_condition(status, c["type"], c.get("status"), c.get("reason", ""), c.get("message", ""),
                                  now)
            status["guestOSInfo"] = copy.deepcopy(((peer or {}).get("status") or {}).get("guestOSInfo") or {})
        self._patch_vmi(tgt, mark)
        vmi = self._vmi_of(tgt)
        new = copy.deepcopy(vmi)
        new["metadata"].get("annotations", {}).pop(CREATE_MIGRATION_TARGET, None)
        new["metadata"].get("labels", {}).pop(MIGRATION_TARGET_NODE, None)
        self.store.update(new)
        self.event(vmi, "Normal", "Migrated", f"The VirtualMachineInstance migrated to node "
                                              f"{(vmi.get('status') or {}).get('nodeName')}.", now)

    def _switch_source(self, src, now):
        vmi = self._vmi_of(src)
        stamp = rfc3339(now)

        def mark(status, _vmi):
            status.setdefault("migrationState", {}).update(completed=True, endTimestamp=stamp)
            status["phase"] = "Succeeded"
            status["phaseTransitionTimestamps"] = list(status.get("phaseTransitionTimestamps") or ()) + [
                {"phase": "Succeeded", "phaseTransitionTimestamp": stamp}]
            set_condition(status, "Ready", "False", "PodTerminating", "virt-launcher pod is terminating", now)
        self._patch_vmi(src, mark)
        pod = self._source_pod(vmi)
        if pod is not None:
            self.store.update({**pod, "status": {**(pod.get("status") or {}), "phase": "Succeeded"}},
                              subresource="status")

    def _succeed(self, vmim, now):
        status = copy.deepcopy(vmim.get("status") or {})
        status["migrationState"] = copy.deepcopy(((self._vmi_of(vmim) or {}).get("status") or {})
                                                 .get("migrationState") or {})
        self._set_phase(vmim, "Succeeded", now, status)
        return self._drop_sync_finalizer(vmim)

    def _drop_sync_finalizer(self, vmim):
        """A final VMIM loses the synchronization finalizer and the migration finalizer."""
        ns, name = vmim["metadata"]["namespace"], vmim["metadata"]["name"]
        for fin in (SYNC_FINALIZER, VMIM_FINALIZER):
            fresh = self.peek(VMIM, ns, name)
            if fresh is not None and fin in (fresh["metadata"].get("finalizers") or ()):
                self.store.remove_finalizer(VMIM, ns, name, fin)
        return True

    # ---------------------------------------------------------------- failure and cancellation
    def _fail(self, mid, src, tgt, reason, now):
        """Both sides fail (KV commit 74d591b2fa propagates the failure): the source keeps running with
        migrationState.failed, the target VMI goes back to WaitingForSync, the target pod is deleted."""
        stamp = rfc3339(now)
        for vmim in (src, tgt):
            if vmim is None:
                continue
            self._patch_vmi(vmim, lambda st, _v: st.setdefault("migrationState", {}).update(
                completed=True, failed=True, failureReason=reason, endTimestamp=stamp))
            if phase(vmim) not in FINAL:
                self._set_phase(self.peek(VMIM, vmim["metadata"]["namespace"], vmim["metadata"]["name"]),
                                "Failed", now)
                self.event(vmim, "Warning", "FailedMigration", f"VMI's migration state was marked as failed: "
                                                               f"{reason}", now)
            self._drop_sync_finalizer(vmim)
        if tgt is not None:
            self._reset_target(tgt, now)
        return True

    def _reset_target(self, tgt, now):
        pod = self._target_pod(tgt)
        if pod is not None:
            self.store.delete(POD, pod["metadata"]["namespace"], pod["metadata"]["name"])
        vmi = self._vmi_of(tgt)
        # The target's state claim goes when the migration fails (KV backend-storage.go MigrationAbort).
        for pvc in self.records(PVC, tgt["metadata"]["namespace"]):
            if vmi is not None and labels(pvc).get(STATE_LABEL) == vmi["metadata"]["name"] and not is_deleting(pvc):
                self.store.delete(PVC, pvc["metadata"]["namespace"], pvc["metadata"]["name"])
        if vmi is None or not (vmi["metadata"].get("annotations") or {}).get(CREATE_MIGRATION_TARGET):
            return
        new = copy.deepcopy(vmi)
        new["metadata"].get("labels", {}).pop(MIGRATION_TARGET_NODE, None)
        status = new.setdefault("status", {})
        if status.get("phase") != "WaitingForSync":
            status["phase"] = "WaitingForSync"
            status["phaseTransitionTimestamps"] = list(status.get("phaseTransitionTimestamps") or ()) + [
                {"phase": "WaitingForSync", "phaseTransitionTimestamp": rfc3339(now)}]
        self.store.update(new)

    def _cancel(self, mid, src, tgt, now):
        """Deleting either VMIM cancels the migration and the sync controller deletes the peer (KV sync controller
        CancelMigration); the source keeps running with abortStatus Succeeded (live-move.md §1.11)."""
        running = any(v is not None and phase(v) not in FINAL for v in (src, tgt))
        if running:
            stamp = rfc3339(now)
            if src is not None:
                self._patch_vmi(src, lambda st, _v: st.setdefault("migrationState", {}).update(
                    abortRequested=True, abortStatus="Succeeded", completed=True, failed=True, endTimestamp=stamp))
            if tgt is not None:
                self._patch_vmi(tgt, lambda st, _v: st.setdefault("migrationState", {}).update(
                    completed=True, failed=True, endTimestamp=stamp))
                self._reset_target(tgt, now)
        for v in (src, tgt):
            if v is None:
                continue
            ns, name = v["metadata"]["namespace"], v["metadata"]["name"]
            if not is_deleting(v):
                if not running:
                    continue        # a finished peer stays (only an in-flight migration is cancelled)
                self.store.delete(VMIM, ns, name)
            for fin in (SYNC_FINALIZER, VMIM_FINALIZER):
                fresh = self.peek(VMIM, ns, name)
                if fresh is not None and fin in (fresh["metadata"].get("finalizers") or ()):
                    self.store.remove_finalizer(VMIM, ns, name, fin)
        return True

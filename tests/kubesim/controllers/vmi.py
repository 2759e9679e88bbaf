"""virt-controller's VMI controller, virt-handler and the kubelet, as far as a move can observe them: the
virt-launcher pod (labels, claims, node), VMI phases Pending -> Scheduling -> Scheduled -> Running with interfaces,
conditions and the guest agent, the persistent TPM/EFI state PVC, and the shutdown on delete.

Timings are simulated seconds (attributes of the controller, so tests and demos can change them).
"""

import copy

from ..clock import parse_rfc3339
from ..errors import ApiError
from .base import (
    Reconciler,
    condition_is,
    controller_of,
    is_deleting,
    is_quota_exceeded,
    labels,
    owner_ref,
    remove_condition,
    rfc3339,
    set_condition,
)
from .kubevirt import DV, KUBEVIRT_VERSION, PVC, VM_FINALIZER, VMI, has_receiver_annotation, volume_claim_name
from .storage import NODES, pod_is_active

POD = "pods"
NAD = "network-attachment-definitions.k8s.cni.cncf.io"
FOREGROUND_FINALIZER = "kubevirt.io/foregroundDeleteVirtualMachine"
LAUNCHER_IMAGE = f"quay.io/kubevirt/virt-launcher:{KUBEVIRT_VERSION}"
BACKEND_LABEL = "persistent-state-for"
DV_READY_TO_START = ("Succeeded", "WaitForFirstConsumer", "PendingPopulation")
# virt-controller's temporary launcher pod that consumes WaitForFirstConsumer DataVolume claims so they bind and CDI
# can fill them before the VM boots (RenderLaunchManifestNoVm).
EPHEMERAL_PROVISIONING = "kubevirt.io/ephemeral-provisioning"


def is_temporary_pod(pod):
    return ((pod.get("metadata") or {}).get("annotations") or {}).get(EPHEMERAL_PROVISIONING) == "true"


def vmi_id(name):
    """The `vmi.kubevirt.io/id` label value (KubeVirt pkg/apimachinery/labels.go CalculateVirtualMachineInstanceID):
    the name, or for names over 63 characters their first 54 and 8 hex digits of their SHA-1."""
    if len(name) <= 63:
        return name
    import hashlib

    return f"{name[:54]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def needs_backend_storage(spec):
    domain = spec.get("domain") or {}
    tpm = (domain.get("devices") or {}).get("tpm") or {}
    efi = ((domain.get("firmware") or {}).get("bootloader") or {}).get("efi") or {}
    return bool(tpm.get("persistent")) or bool(efi.get("persistent"))


def phase_since(vmi, phase):
    for entry in reversed((vmi.get("status") or {}).get("phaseTransitionTimestamps") or ()):
        if entry.get("phase") == phase:
            return parse_rfc3339(entry["phaseTransitionTimestamp"])
    return None


class VMIController(Reconciler):
    name = "kubevirt-vmi"
    component = "virtualmachineinstance-controller"
    watches = (VMI, POD, PVC, DV)

    # simulated seconds
    schedule_seconds = 2.0
    boot_seconds = 5.0
    agent_seconds = 10.0
    shutdown_seconds = 3.0
    # A create the API server refused is retried on the work queue's backoff.
    retry_seconds = 10.0

    def __init__(self, sim, rng, storage):
        super().__init__(sim)
        self.rng = rng
        self.storage = storage
        self._vmis_for_claim = {}   # (ns, claim) -> VMI names
        self._pod_ips = {}
        self._ip_seq = 0

    def observe(self, etype, rkey, obj):
        if rkey != VMI:
            return
        m = obj["metadata"]
        for v in (obj.get("spec") or {}).get("volumes") or ():
            claim = volume_claim_name(v)
            if claim:
                s = self._vmis_for_claim.setdefault((m.get("namespace", ""), claim), set())
                (s.discard if etype == "DELETED" else s.add)(m["name"])

    def keys_for(self, etype, rkey, obj):
        m = obj.get("metadata") or {}
        ns, name = m.get("namespace", ""), m.get("name")
        if rkey == VMI:
            return [(VMI, ns, name)]
        if rkey == POD:
            ref = controller_of(obj)
            if ref and ref.get("kind") == "VirtualMachineInstance":
                return [(VMI, ns, ref["name"])]
            return []
        return [(VMI, ns, n) for n in sorted(self._vmis_for_claim.get((ns, name), ()))]

    # ---------------------------------------------------------------- helpers
    def launcher_pods(self, vmi):
        uid = vmi["metadata"]["uid"]
        return [p for p in self.records(POD, vmi["metadata"]["namespace"])
                if labels(p).get("kubevirt.io/created-by") == uid]

    def _write(self, vmi, status, now):
        """Write VMI status (VMIs have no status subresource), recording phase transitions."""
        old_phase = (vmi.get("status") or {}).get("phase")
        if status.get("phase") != old_phase:
            status.setdefault("phaseTransitionTimestamps", []).append(
                {"phase": status.get("phase"), "phaseTransitionTimestamp": rfc3339(now)})
        return self.update_status(vmi, status)

    # ---------------------------------------------------------------- sync
    def sync(self, key, now):
        _, ns, name = key
        vmi = self.peek(VMI, ns, name)
        if vmi is None:
            return False
        fins = vmi["metadata"].get("finalizers") or []
        if not is_deleting(vmi) and FOREGROUND_FINALIZER not in fins:
            new = copy.deepcopy(vmi)
            new["metadata"]["finalizers"] = [FOREGROUND_FINALIZER] + list(fins)
            self.store.update(new)
            return True
        status = copy.deepcopy(vmi.get("status") or {})
        phase = status.get("phase", "")
        pods = self.launcher_pods(vmi)
        if is_deleting(vmi):
            return self._shut_down(vmi, status, pods, now)
        if has_receiver_annotation(vmi):
            # A receiver VMI gets no launcher pod: it waits in WaitingForSync, and the migration controller
            # (migration.py) drives it from there (KV pkg/virt-controller/watch/vmi/lifecycle.go).
            if not phase:
                status["phase"] = "WaitingForSync"
                return self._write(vmi, status, now)
            return False
        if phase in ("Succeeded", "Failed"):
            return False
        if phase in ("", "Pending"):
            return self._prepare(vmi, status, pods, now)
        pod = next((p for p in pods if not is_deleting(p) and not is_temporary_pod(p)), None)
        if pod is None:
            # The launcher pod vanished under a live VMI: virt-controller marks it failed.
            status["phase"] = "Failed"
            set_condition(status, "Ready", "False", "PodTerminating", "virt-launcher pod has been deleted", now,
                          probe=True)
            return self._write(vmi, status, now)
        if phase == "Scheduling":
            return self._schedule(vmi, status, pod, now)
        if phase == "Scheduled":
            return self._boot(vmi, status, pod, now)
        if phase == "Running":
            return self._run(vmi, status, pod, now)
        return False

    def _missing_network(self, vmi):
        """"NS/NAME" of the first Multus network whose NetworkAttachmentDefinition does not exist, else None."""
        ns = vmi["metadata"]["namespace"]
        for net in (vmi.get("spec") or {}).get("networks") or ():
            name = (net.get("multus") or {}).get("networkName")
            if not name:
                continue
            nad_ns, _, nad_name = name.rpartition("/")
            nad_ns = nad_ns or ns
            if self.served(NAD) and self.peek(NAD, nad_ns, nad_name) is None:
                return f"{nad_ns}/{nad_name}"
        return None

    def _prepare(self, vmi, status, pods, now):
        ns = vmi["metadata"]["namespace"]
        spec = vmi.get("spec") or {}
        changed = False
        wffc = False
        if not status.get("phase"):
            status["phase"] = "Pending"
            changed = True
        for v in spec.get("volumes") or ():
            claim = volume_claim_name(v)
            if not claim:
                continue
            pvc = self.peek(PVC, ns, claim)
            dv = self.peek(DV, ns, claim) if v.get("dataVolume") else None
            if pvc is None and dv is None:
                msg = f"PVC {ns}/{claim} does not exist, waiting for it to appear"
                if not condition_is(vmi, "Synchronized", "False", "FailedPvcNotFound"):
                    self.event(vmi, "Normal", "FailedPvcNotFound", msg, now)
                set_condition(status, "Synchronized", "False", "FailedPvcNotFound", msg, now, probe=True)
                return self._write(vmi, status, now) or changed
            dv_phase = ((dv or {}).get("status") or {}).get("phase")
            if dv_phase == "WaitForFirstConsumer":
                wffc = True
            elif dv is not None and dv_phase not in DV_READY_TO_START:
                # Not populated yet: a temporary pod (if any) keeps consuming the claim meanwhile.
                return self._write(vmi, status, now) or changed
        if wffc:
            # A legacy (non-populator) WaitForFirstConsumer disk: the VM must not boot on an empty claim, so
            # a temporary pod gets it bound; the real launcher pod is made once CDI has filled it.
            if not any(is_temporary_pod(p) for p in pods):
                try:
                    self._create_launcher(vmi, now, temporary=True)
                except ApiError as e:
                    if not is_quota_exceeded(e):
                        raise
                    self.event(vmi, "Warning", "FailedCreate", f"Error creating pod: {e.message}", now)
                    self.requeue_after((VMI, ns, vmi["metadata"]["name"]), self.retry_seconds, now)
                changed = True
            return self._write(vmi, status, now) or changed
        for pod in pods:
            if is_temporary_pod(pod) and not is_deleting(pod):
                self.store.delete(POD, ns, pod["metadata"]["name"])
                changed = True
        pods = [p for p in pods if not is_temporary_pod(p)]
        missing = self._missing_network(vmi) if not pods else None
        if missing is not None:
            # Rendering the launcher pod looks each Multus network's NetworkAttachmentDefinition up first
            # (pkg/virt-controller/services/template.go, network resources): when one is missing, the VMI's sync
            # fails with FailedCreate "failed to render launch manifest: ..." (pkg/virt-controller/watch/vmi.go),
            # reported as a Warning event and the Synchronized condition, and retried; no pod is made.
            msg = f"failed to render launch manifest: failed to locate network attachment definition {missing}"
            if not condition_is(vmi, "Synchronized", "False", "FailedCreate"):
                self.event(vmi, "Warning", "FailedCreate", msg, now)
            set_condition(status, "Synchronized", "False", "FailedCreate", msg, now, probe=True)
            self.requeue_after((VMI, ns, vmi["metadata"]["name"]), self.retry_seconds, now)
            return self._write(vmi, status, now) or changed
        remove_condition(status, "Synchronized")
        try:
            if needs_backend_storage(spec):
                pvc = self._backend_storage(vmi, now)
                if pvc is None:
                    self.enqueue((VMI, ns, vmi["metadata"]["name"]))
                    return True
            if not pods:
                self._create_launcher(vmi, now)
        except ApiError as e:
            if not is_quota_exceeded(e):
                raise
            # The launcher pod (or the state claim) refused by the namespace's quota: virt-controller reports
            # the sync failure on the VMI, which stays Pending, and retries.
            self.event(vmi, "Warning", "FailedCreate", f"Error creating pod: {e.message}", now)
            set_condition(status, "Synchronized", "False", "FailedCreate",
                          f"failed to create virtual machine pod: {e.message}", now, probe=True)
            self.requeue_after((VMI, ns, vmi["metadata"]["name"]), self.retry_seconds, now)
            return self._write(vmi, status, now) or changed
        status["phase"] = "Scheduling"
        set_condition(status, "Ready", "False", "GuestNotRunning", "Guest VM is not reported as running", now,
                      probe=True)
        status.setdefault("guestOSInfo", {})
        status["qosClass"] = "Burstable"
        status["launcherContainerImageVersion"] = LAUNCHER_IMAGE
        self._write(vmi, status, now)
        self.requeue_after((VMI, ns, vmi["metadata"]["name"]), self.schedule_seconds, now)
        return True

    def _backend_storage(self, vmi, now):
        """The persistent TPM/EFI state PVC (pkg/storage/backend-storage): found by label, else created."""
        ns, name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        for pvc in self.records(PVC, ns):
            if labels(pvc).get(BACKEND_LABEL) == name and not is_deleting(pvc):
                return pvc
        legacy = self.peek(PVC, ns, f"persistent-state-for-{name}")
        if legacy is not None:
            return legacy
        kv = self.peek("kubevirts.kubevirt.io", "kubevirt", "kubevirt") or {}
        sc_name = ((kv.get("spec") or {}).get("configuration") or {}).get("vmStateStorageClass")
        pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"generateName": f"persistent-state-for-{name}-", "namespace": ns,
                            "labels": {BACKEND_LABEL: name, "cdi.kubevirt.io/applyStorageProfile": "true"},
                            "ownerReferences": [dict(r) for r in vmi["metadata"].get("ownerReferences") or ()]},
               "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem",
                        "resources": {"requests": {"storage": "10Mi"}}}}
        if sc_name:
            pvc["spec"]["storageClassName"] = sc_name
        profile = self.peek("storageprofiles.cdi.kubevirt.io", "", sc_name or
                            ((self.storage.default_class() or {}).get("metadata") or {}).get("name"))
        sets = ((profile or {}).get("status") or {}).get("claimPropertySets") or ()
        if any("ReadWriteMany" in (s.get("accessModes") or ()) and s.get("volumeMode") == "Filesystem" for s in sets):
            pvc["spec"]["accessModes"] = ["ReadWriteMany"]
        pvc = self.storage.admit("CREATE", PVC, pvc, None, None)
        self.create_admitted(pvc)
        return None

    def _create_launcher(self, vmi, now, temporary=False):
        ns, name, uid = vmi["metadata"]["namespace"], vmi["metadata"]["name"], vmi["metadata"]["uid"]
        spec = vmi.get("spec") or {}
        pod_labels = dict(labels(vmi))
        pod_labels.update({"kubevirt.io": "virt-launcher", "kubevirt.io/created-by": uid,
                           "vm.kubevirt.io/name": spec.get("hostname") or name.split(".")[0][:63],
                           "vmi.kubevirt.io/id": vmi_id(name)})
        volumes = []
        for v in spec.get("volumes") or ():
            claim = volume_claim_name(v)
            if claim:
                volumes.append({"name": v.get("name"), "persistentVolumeClaim": {"claimName": claim}})
        if needs_backend_storage(spec):
            state = next((p for p in self.records(PVC, ns) if labels(p).get(BACKEND_LABEL) == name), None)
            if state is not None:
                volumes.append({"name": "vm-state", "persistentVolumeClaim":
                                {"claimName": state["metadata"]["name"]}})
        memory = ((spec.get("domain") or {}).get("memory") or {}).get("guest") or \
            (((spec.get("domain") or {}).get("resources") or {}).get("requests") or {}).get("memory") or "1Gi"
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"generateName": f"virt-launcher-{name}-", "namespace": ns, "labels": pod_labels,
                            "annotations": {"kubevirt.io/domain": name,
                                            "kubectl.kubernetes.io/default-container": "compute",
                                            "kubevirt.io/migrationTransportUnix": "true",
                                            "descheduler.alpha.kubernetes.io/request-evict-only": ""},
                            "ownerReferences": [owner_ref(vmi)]},
               "spec": {"containers": [{"name": "compute", "image": LAUNCHER_IMAGE,
                                        "command": ["/usr/bin/virt-launcher-monitor"],
                                        "resources": {"requests": {"cpu": "100m", "memory": memory}}}],
                        "volumes": volumes, "restartPolicy": "Never", "hostname": spec.get("hostname") or name,
                        "serviceAccountName": spec.get("serviceAccountName") or "default",
                        "nodeSelector": {"kubevirt.io/schedulable": "true"},
                        "terminationGracePeriodSeconds": int(spec.get("terminationGracePeriodSeconds", 30)) + 15},
               "status": {"phase": "Pending", "qosClass": "Burstable"}}
        if temporary:
            pod["metadata"]["annotations"][EPHEMERAL_PROVISIONING] = "true"
        created = self.create_admitted(pod)
        self.event(vmi, "Normal", "SuccessfulCreate", f"Created virtual machine pod {created['metadata']['name']}",
                   now)
        return created

    def _schedule(self, vmi, status, pod, now):
        ns = vmi["metadata"]["namespace"]
        key = (VMI, ns, vmi["metadata"]["name"])
        since = phase_since(vmi, "Scheduling") or now
        if (now - since).total_seconds() < self.schedule_seconds:
            self.requeue_after(key, self.schedule_seconds - (now - since).total_seconds(), now)
            return False
        # The scheduler waits until every claim of the pod is bound (a WaitForFirstConsumer claim binds now).
        for v in (pod.get("spec") or {}).get("volumes") or ():
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            pvc = self.peek(PVC, ns, claim) if claim else None
            if claim and (pvc is None or (pvc.get("status") or {}).get("phase") != "Bound"):
                self.requeue_after(key, 1.0, now)
                return False
        node = NODES[sum(map(ord, vmi["metadata"]["name"])) % len(NODES)]
        new = copy.deepcopy(pod)
        new["spec"]["nodeName"] = node
        self.store.update(new)
        pod_status = copy.deepcopy(pod.get("status") or {})
        set_condition(pod_status, "PodScheduled", "True", now=now)
        self.store.update({**self.peek(POD, ns, pod["metadata"]["name"]), "status": pod_status},
                          subresource="status")
        status["phase"] = "Scheduled"
        status["nodeName"] = node
        status["activePods"] = {pod["metadata"]["uid"]: node}
        self._write(vmi, status, now)
        self.requeue_after(key, self.boot_seconds, now)
        return True

    def _boot(self, vmi, status, pod, now):
        ns, name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        since = phase_since(vmi, "Scheduled") or now
        elapsed = (now - since).total_seconds()
        if elapsed < self.boot_seconds:
            self.requeue_after((VMI, ns, name), self.boot_seconds - elapsed, now)
            return False
        ip = self._pod_ip(pod)
        pod_status = copy.deepcopy(pod.get("status") or {})
        pod_status.update({"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "192.168.66.101",
                           "startTime": rfc3339(now),
                           "containerStatuses": [{"name": "compute", "ready": True, "restartCount": 0,
                                                  "image": LAUNCHER_IMAGE, "started": True,
                                                  "state": {"running": {"startedAt": rfc3339(now)}}}]})
        for ctype in ("Initialized", "Ready", "ContainersReady"):
            set_condition(pod_status, ctype, "True", now=now)
        self.store.update({**pod, "status": pod_status}, subresource="status")
        spec = vmi.get("spec") or {}
        status["phase"] = "Running"
        status["interfaces"] = self._interfaces(vmi, ip, agent=False)
        status["volumeStatus"] = self._volume_status(vmi)
        status["migrationMethod"] = "BlockMigration"
        paused = spec.get("startStrategy") == "Paused"
        if paused:
            set_condition(status, "Paused", "True", "PausedByUser", "VMI was paused by user", now, probe=True)
            set_condition(status, "Ready", "False", "Paused", "", now, probe=True)
        else:
            set_condition(status, "Ready", "True", "", "", now, probe=True)
        rwo = [c for c in self._claims(vmi) if "ReadWriteMany" not in
               ((((self.peek(PVC, ns, c) or {}).get("status") or {}).get("accessModes")) or ())]
        if rwo:
            set_condition(status, "LiveMigratable", "False", "DisksNotLiveMigratable",
                          f"cannot migrate VMI: PVC {rwo[0]} is not shared, live migration requires that all PVCs "
                          f"must be shared (using ReadWriteMany access mode)", now, probe=True)
        else:
            set_condition(status, "LiveMigratable", "True", "", "", now, probe=True)
        # virt-handler computes it on every running VMI (KV pkg/virt-handler/vm.go
        # calculateLiveStorageMigrationCondition; live-move.md §2.3): nothing here blocks a storage migration.
        set_condition(status, "StorageLiveMigratable", "True", "", "", now, probe=True)
        self._write(vmi, status, now)
        self.requeue_after((VMI, ns, name), self.agent_seconds, now)
        return True

    def _run(self, vmi, status, pod, now):
        ns, name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        if condition_is(vmi, "AgentConnected"):
            return False
        since = phase_since(vmi, "Running") or now
        elapsed = (now - since).total_seconds()
        if elapsed < self.agent_seconds:
            self.requeue_after((VMI, ns, name), self.agent_seconds - elapsed, now)
            return False
        set_condition(status, "AgentConnected", "True", "", "", now, probe=True)
        status["interfaces"] = self._interfaces(vmi, (pod.get("status") or {}).get("podIP"), agent=True)
        status["guestOSInfo"] = {"id": "fedora", "name": "Fedora Linux", "prettyName": "Fedora Linux 41 (Cloud "
                                 "Edition)", "version": "41", "versionId": "41", "kernelRelease": "6.11.4-301.fc41"
                                 ".x86_64", "kernelVersion": "#1 SMP PREEMPT_DYNAMIC", "machine": "x86_64"}
        return self._write(vmi, status, now)

    def _shut_down(self, vmi, status, pods, now):
        ns, name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        changed = False
        if status.get("phase") not in ("Succeeded", "Failed"):
            if status.get("phase") in ("Scheduled", "Running"):
                grace = int((vmi.get("spec") or {}).get("terminationGracePeriodSeconds", 30))
                wait = min(self.shutdown_seconds, float(grace))
                deleted_at = parse_rfc3339(vmi["metadata"]["deletionTimestamp"])
                elapsed = (now - deleted_at).total_seconds()
                if elapsed < wait:
                    self.requeue_after((VMI, ns, name), wait - elapsed, now)
                    return False
            status["phase"] = "Succeeded"
            set_condition(status, "Ready", "False", "PodTerminating", "virt-launcher pod is terminating", now,
                          probe=True)
            remove_condition(status, "AgentConnected")
            status.pop("activePods", None)
            self._write(vmi, status, now)
            changed = True
        for pod in pods:
            if pod_is_active(pod):
                pod_status = copy.deepcopy(pod.get("status") or {})
                pod_status["phase"] = "Succeeded"
                for cs in pod_status.get("containerStatuses") or ():
                    cs["ready"] = False
                    cs["state"] = {"terminated": {"exitCode": 0, "reason": "Completed",
                                                  "finishedAt": rfc3339(now)}}
                self.store.update({**pod, "status": pod_status}, subresource="status")
                changed = True
            if not is_deleting(pod):
                self.store.delete(POD, ns, pod["metadata"]["name"])
                changed = True
        if not self.launcher_pods(vmi) and FOREGROUND_FINALIZER in (vmi["metadata"].get("finalizers") or ()):
            self.store.remove_finalizer(VMI, ns, name, FOREGROUND_FINALIZER)
            changed = True
        elif not controller_of(vmi) and VM_FINALIZER in (vmi["metadata"].get("finalizers") or ()):
            # A VMI without its VM has nobody else to drop the VM controller's finalizer.
            self.store.remove_finalizer(VMI, ns, name, VM_FINALIZER)
            changed = True
        return changed

    # ---------------------------------------------------------------- status details
    def _claims(self, vmi):
        return [c for c in (volume_claim_name(v) for v in (vmi.get("spec") or {}).get("volumes") or ()) if c]

    def _pod_ip(self, pod):
        uid = pod["metadata"]["uid"]
        if uid not in self._pod_ips:
            self._ip_seq += 1
            self._pod_ips[uid] = f"10.244.{(self._ip_seq // 250) % 250}.{self._ip_seq % 250 + 2}"
        return self._pod_ips[uid]

    def _interfaces(self, vmi, pod_ip, agent):
        spec = vmi.get("spec") or {}
        networks = {n.get("name"): n for n in spec.get("networks") or ()}
        out = []
        previous = {i.get("name"): i for i in (vmi.get("status") or {}).get("interfaces") or ()}
        for idx, iface in enumerate(((spec.get("domain") or {}).get("devices") or {}).get("interfaces") or ()):
            net = networks.get(iface.get("name")) or {}
            mac = iface.get("macAddress") or (previous.get(iface.get("name")) or {}).get("mac") or \
                "52:54:00:%02x:%02x:%02x" % tuple(self.rng.getrandbits(8) for _ in range(3))
            entry = {"name": iface.get("name"), "mac": mac.lower(), "interfaceName": f"eth{idx}",
                     "queueCount": 1, "linkState": "up"}
            if "pod" in net:
                entry.update(ipAddress=pod_ip, ipAddresses=[pod_ip],
                             infoSource="domain, guest-agent" if agent else "domain")
                entry["podInterfaceName"] = "eth0"
            else:
                entry["infoSource"] = "domain, guest-agent, multus-status" if agent else "domain, multus-status"
                entry["podInterfaceName"] = f"pod{idx:x}"
                if agent:
                    addr = f"192.168.{100 + idx}.{sum(map(ord, vmi['metadata']['name'])) % 200 + 10}"
                    entry.update(ipAddress=addr, ipAddresses=[addr])
            out.append(entry)
        return out

    def _volume_status(self, vmi):
        ns = vmi["metadata"]["namespace"]
        out = []
        for idx, v in enumerate((vmi.get("spec") or {}).get("volumes") or ()):
            entry = {"name": v.get("name"), "target": f"vd{chr(ord('a') + idx)}"}
            claim = volume_claim_name(v)
            pvc = self.peek(PVC, ns, claim) if claim else None
            if pvc is not None:
                entry["persistentVolumeClaimInfo"] = {
                    "claimName": claim, "accessModes": (pvc.get("status") or {}).get("accessModes") or [],
                    "capacity": (pvc.get("status") or {}).get("capacity") or {},
                    "volumeMode": (pvc.get("spec") or {}).get("volumeMode", "Filesystem"),
                    "requests": ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}}
            out.append(entry)
        return out


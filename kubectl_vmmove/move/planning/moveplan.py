"""The MovePlan document: built from the graph, serialised with `plan -o yaml`, loaded and re-checked by `run -f`.

A plan lists, per VM and in order, every object to stop, copy, transfer, create, rewrite, start and later delete.
Each step that reads a source object records its uid and resourceVersion (and generation where the object has
one), so `run` can refuse a plan the source has moved away from. Objects the plan can show in full (the target
VM, DataVolumes, Services, NADs, policies, instance types, revisions) are embedded as the exact manifests `run`
creates; Secrets and ConfigMaps are named only and copied at run time, because a plan never carries Secret data.
"""

import datetime as _dt
import secrets as _random
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ...errors import UserError
from ...kube import kinds
from .. import rewrite
from . import estimates, policies
from . import graph as graphmod
from .inventory import SOURCE, TARGET

API_VERSION = "vmmove.io/v1alpha1"
KIND = "MovePlan"
STRATEGIES = ("clone", "transfer", "live")
TARGET_RUN_STRATEGIES = ("source", "Always", "Halted")
MAC_POLICIES = ("auto", "keep", "opt-out", "new")
KMP_OPT_OUT_LABEL = "mutatevirtualmachines.kubemacpool.io"

# Dependency kinds that are read at run time (never embedded): their payload stays on the server.
COPIED_AT_RUN_TIME = ("Secret", "ConfigMap")
# Objects every namespace has of its own: never copied, never deleted.
PER_NAMESPACE = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt"),
                 ("ConfigMap", "openshift-service-ca.crt")}
RUNNING_STATES = ("Running", "Starting", "Migrating", "Paused", "Stopping", "Provisioning", "WaitingForVolumeBinding")


class MovePlan:
    """A typed view over a MovePlan document, for reading it: the document stays the plain dict `plan -o yaml`
    prints, `run -f` loads and the journal keeps (nothing is converted on the way in or out)."""

    __slots__ = ("doc",)

    def __init__(self, doc: dict) -> None:
        self.doc = doc

    @property
    def spec(self) -> dict:
        return self.doc["spec"]

    @property
    def move_id(self) -> str:
        return self.spec["moveId"]

    @property
    def source(self) -> str:
        """The source namespace."""
        return self.spec["source"]["namespace"]

    @property
    def target(self) -> str:
        """The target namespace."""
        return self.spec["target"]["namespace"]

    @property
    def create_namespace(self) -> bool:
        return bool(self.spec["target"].get("createNamespace"))

    def strategy_of(self, vm) -> str:
        """The strategy of one VM (an entry or a name): its own with `--strategy auto`, else the plan's."""
        entry = self.vm(vm) if isinstance(vm, str) else vm
        return entry.get("strategy") or self.strategy

    @property
    def strategy(self) -> str:
        """clone or transfer (STRATEGIES)."""
        return self.spec["strategy"]

    @property
    def mac_policy(self) -> Optional[str]:
        return self.spec.get("macPolicy")

    @property
    def storage_class_map(self) -> Dict[str, str]:
        """Source storage class → target storage class (--storage-class-map)."""
        return dict(self.spec.get("storageClassMap") or {})

    @property
    def services(self) -> bool:
        """Whether the Services that select the VMs move with them."""
        return bool(self.spec.get("services", True))

    @property
    def vms(self) -> List[dict]:
        """One entry per VM: name, source ref, disks, dependencies, estimate, steps and cleanup steps."""
        return self.spec["vms"]

    @property
    def vm_names(self) -> List[str]:
        return [v["name"] for v in self.vms]

    def vm(self, name: str) -> dict:
        """The entry of VM `name`; KeyError when the plan does not move it."""
        for entry in self.vms:
            if entry["name"] == name:
                return entry
        raise KeyError(name)

    @property
    def prepare(self) -> List[dict]:
        """Steps run once before the VMs: the namespace, and the dependencies several moving VMs share."""
        return list(self.spec.get("prepare") or ())

    @property
    def cleanup(self) -> List[dict]:
        """Deletions of shared source dependencies, after every VM's own cleanup steps."""
        return list(self.spec.get("cleanup") or ())

    def run_steps(self) -> List[dict]:
        """The steps `run` takes, in plan order: prepare, then each VM's steps."""
        out = self.prepare
        for vm in self.spec.get("vms") or ():
            out += vm.get("steps") or ()
        return out

    def cleanup_steps(self) -> List[dict]:
        """The deletions `cleanup` makes, in order: each VM's own, then the shared dependencies'."""
        out: List[dict] = []
        for vm in self.vms:
            out += vm.get("cleanup") or ()
        return out + self.cleanup

    @property
    def findings(self) -> List[dict]:
        return list((self.doc.get("status") or {}).get("findings") or ())

    def options(self) -> "PlanOptions":
        """The options the plan was made with, to plan its VMs again (`run -f` re-checks a saved plan)."""
        spec = self.spec
        return PlanOptions(
            source=self.source, target=self.target, strategy=self.strategy,
            storage_class_map=self.storage_class_map, target_run_strategy=spec.get("targetRunStrategy", "source"),
            create_namespace=self.create_namespace, services=spec.get("services", True),
            mac_policy=spec.get("macPolicy", "keep"), move_id=self.move_id, selection=dict(spec.get("selection") or {}),
            copy_network_policies=bool(spec.get("copyNetworkPolicies")), live=dict(spec.get("live") or {}))


@dataclass
class PlanOptions:
    source: str
    target: str
    strategy: str = "clone"
    storage_class_map: Dict[str, str] = field(default_factory=dict)
    target_run_strategy: str = "source"
    create_namespace: bool = False
    services: bool = True
    mac_policy: str = "auto"
    move_id: str = ""
    selection: dict = field(default_factory=dict)
    copy_network_policies: bool = False     # copy the NetworkPolicies that select moving VMs only
    live: dict = field(default_factory=dict)     # live moves: syncTimeoutSeconds, keepFailed


LIVE_PAUSE_SECONDS = 1    # a live move's guest-visible pause: the switchover, well under a second (bench-run)


def live_migration_id(move_id: str, vm_name: str) -> str:
    """The migration ID joining a VM's two migrations: a UUID fixed by the move and the VM, so a re-run finds the
    migrations it created (live-move.md §1.2: unique per role cluster-wide)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"vmmove.io/{move_id}/{vm_name}"))


def live_migration_name(move_id: str, vm_name: str) -> str:
    return f"vmmove-{move_id}-{vm_name}"[:253]


def new_move_id() -> str:
    """Six hex characters: short enough to type, 16 million values per namespace pair."""
    return _random.token_hex(3)


def source_ref(obj: dict) -> dict:
    md = obj["metadata"]
    ref = {"namespace": md.get("namespace"), "name": md["name"], "uid": md.get("uid"),
           "resourceVersion": md.get("resourceVersion")}
    if md.get("generation") is not None:
        # Labels and annotations do not change the generation: their digest tells such a change (stale).
        ref["generation"] = md["generation"]
        ref["metadataDigest"] = rewrite.metadata_digest(obj)
    return {k: v for k, v in ref.items() if v is not None}


def _step(action, kind, name, namespace, **extra) -> dict:
    step = {"action": action, "kind": kind, "name": name}
    if namespace:
        step["namespace"] = namespace
    step.update({k: v for k, v in extra.items() if v is not None})
    return step


def node_ports(svc: dict) -> Optional[List[dict]]:
    """The node ports a source Service holds, by port: cleanup gives them back to the copy (None when it holds none)."""
    out = [{k: p[k] for k in ("name", "port", "protocol", "nodePort") if p.get(k) is not None}
           for p in (svc.get("spec") or {}).get("ports") or () if p.get("nodePort")]
    return out or None


def is_running(vm: dict) -> bool:
    status = vm.get("status") or {}
    return status.get("printableStatus") in RUNNING_STATES or bool(status.get("created")) or \
        bool(status.get("ready"))


def final_run_strategy(vm: dict, choice: str) -> str:
    return rewrite.run_strategy_of(vm) if choice == "source" else choice


def resolve_mac_policy(opts: PlanOptions) -> str:
    """The MAC policy the plan applies. `auto` keeps the MACs; preflight reports when KubeMacPool would refuse."""
    return "keep" if opts.mac_policy == "auto" else opts.mac_policy


def target_opted_out(inv) -> bool:
    labels = ((inv.target_namespace or {}).get("metadata") or {}).get("labels") or {}
    return labels.get(KMP_OPT_OUT_LABEL) == "ignore"


def vm_macs(vm: dict) -> List[str]:
    ifaces = ((((vm.get("spec") or {}).get("template") or {}).get("spec") or {}).get("domain") or {}) \
        .get("devices", {}).get("interfaces") or ()
    return [i["macAddress"].lower() for i in ifaces if i.get("macAddress")]


def kubemacpool_facts(inv) -> dict:
    """What can be told about KubeMacPool without cluster-admin rights: its VM annotation, the namespace label,
    and the answer of the server-side dry run (which runs the KubeMacPool webhook)."""
    seen = any(rewrite.KUBEMACPOOL_TIMESTAMP in (vm["metadata"].get("annotations") or {})
               for vm in inv.of(kinds.VM))
    facts: Dict[str, Any] = {"detected": seen, "targetNamespaceOptOut": target_opted_out(inv)}
    if inv.dry_run is not None:
        facts["dryRun"] = {"vm": inv.dry_run.get("vm"), "accepted": inv.dry_run.get("ok", False)}
        if inv.dry_run.get("macRejected"):
            facts["rejectsDuplicateMacs"] = True
            facts["detected"] = True
        elif inv.dry_run.get("ok"):
            facts["rejectsDuplicateMacs"] = False
    return facts


def build(inv, graph, opts: PlanOptions, *, user: str = "", now: Optional[_dt.datetime] = None) -> dict:
    """The MovePlan for the graph's VMs. Findings are added by preflight.run (plan['status']['findings'])."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    builder = _Builder(inv, graph, opts)
    shared_steps, shared_cleanup = builder.shared_dependencies()
    prepare = builder.namespace_steps() + shared_steps
    vms = [builder.vm_entry(node) for node in graph.nodes.values()]
    return builder.document(now, user, prepare, vms, shared_cleanup)


class _Builder:
    """One plan being built: the inventory, graph and options, and what follows from them for every VM."""

    def __init__(self, inv, graph, opts: PlanOptions) -> None:
        self.inv, self.graph, self.opts = inv, graph, opts
        self.src, self.dst, self.move_id = opts.source, opts.target, opts.move_id or new_move_id()
        self.mac_policy = resolve_mac_policy(opts)
        self.objects = {k: inv.by_name(k) for k in graphmod.DEPENDENCY_KINDS + graphmod.SELECTING_KINDS}
        self.target_nads = inv.by_name(kinds.NAD, TARGET)
        self.ot_served = inv.serves(kinds.OBJECTTRANSFER) and inv.listed(kinds.STORAGECLASS, "cluster")
        self.copied_policies = copied_policies(inv, graph, opts)
        # Which moving VMs use each dependency: one user → that VM's steps; several → prepared once for all.
        self.dep_users: Dict[tuple, List[str]] = {}
        for name, node in graph.nodes.items():
            for kind, names in node.deps.items():
                for dep in names:
                    if self.moves(kind, dep):
                        self.dep_users.setdefault((kind, dep), []).append(name)

    def moves(self, kind: str, dep: str) -> bool:
        """Whether the dependency goes with the VMs: Services unless --no-services; NetworkPolicies only with
        --copy-network-policies and when they select moving VMs only (policies.copyable)."""
        if kind == "Service":
            return bool(self.opts.services)
        return kind != "NetworkPolicy" or dep in self.copied_policies

    def namespace_steps(self) -> List[dict]:
        """Create the target namespace (--create-namespace) or opt it out of KubeMacPool (--mac-policy opt-out)."""
        if self.inv.target_namespace is None and self.opts.create_namespace:
            labels = {KMP_OPT_OUT_LABEL: "ignore"} if self.mac_policy == "opt-out" else None
            return [_step("create", "Namespace", self.dst, None,
                          object=rewrite.namespace_manifest(self.dst, self.move_id, labels))]
        if self.mac_policy == "opt-out" and not target_opted_out(self.inv):
            return [_step("label", "Namespace", self.dst, None, labels={KMP_OPT_OUT_LABEL: "ignore"})]
        return []

    def shared_dependencies(self) -> Tuple[List[dict], List[dict]]:
        """(prepare steps, cleanup steps) of the dependencies several moving VMs use, in creation order."""
        prepare: List[dict] = []
        cleanup: List[dict] = []
        order = {k: i for i, k in enumerate(graphmod.DEPENDENCY_KINDS + graphmod.SELECTING_KINDS)}
        for (kind, dep), users in sorted(self.dep_users.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
            if len(users) > 1:
                prepare += self.dependency_steps(kind, dep)
                cleanup += self.dependency_cleanup(kind, dep)
        return prepare, cleanup

    def dependency_steps(self, kind: str, dep: str) -> List[dict]:
        obj = self.objects[kind].get(dep)
        if obj is None or (kind, dep) in PER_NAMESPACE:
            return []
        if kind == "NetworkAttachmentDefinition" and dep in self.target_nads:
            return []   # the target already has a NAD of that name; the VM's bare networkName resolves to it
        ref = source_ref(obj)
        if kind in COPIED_AT_RUN_TIME:
            return [_step("copy", kind, dep, self.dst, source=ref)]
        fn = rewrite.FOR_KIND[kind]
        if kind == "Service":
            manifest = fn(obj, self.dst, move_id=self.move_id, source_namespace=self.src)
        else:
            manifest = fn(obj, self.dst, source_namespace=self.src, move_id=self.move_id)
        return [_step("create", kind, dep, self.dst, source=ref, object=manifest)]

    def dependency_cleanup(self, kind: str, dep: str) -> List[dict]:
        if self.graph.is_shared(kind, dep) or kind == "ControllerRevision" or dep not in self.objects[kind] or \
                (kind, dep) in PER_NAMESPACE:
            return []   # shared ones stay; revisions are owned by the VM and go with it
        obj = self.objects[kind][dep]
        return [_step("delete", kind, dep, self.src, source=source_ref(obj),
                      nodePorts=node_ports(obj) if kind == "Service" else None)]

    # ------------------------------------------------------------------------------------------ one VM

    def vm_entry(self, node) -> dict:
        """The VM's entry: what it is, its disks and dependencies, and its steps and cleanup steps in order."""
        vm, name = node.vm, node.name
        running = is_running(vm)
        live = self.opts.strategy == "live"
        final = rewrite.run_strategy_of(vm) if live else final_run_strategy(vm, self.opts.target_run_strategy)
        steps: List[dict] = [] if live else [_step("stop", "VirtualMachine", name, self.src, source=source_ref(vm),
                                                   wait="Stopped", skipIfStopped=True)]
        steps.append(_step("record-source", "VirtualMachine", name, self.src))
        cleanup: List[dict] = []
        disks = self._disks(node, steps, cleanup)
        self._own_dependencies(node, steps, cleanup)
        if live:
            target_vm = rewrite.receiver_vm(vm, self.dst, move_id=self.move_id, source_namespace=self.src,
                                            storage_class_map=self.opts.storage_class_map)
            start = self._live_steps(node, target_vm, steps)
        else:
            target_vm = rewrite.vm_for_target(vm, self.dst, move_id=self.move_id, source_namespace=self.src,
                                              run_strategy="Halted", storage_class_map=self.opts.storage_class_map,
                                              new_macs=self.mac_policy == "new")
            start = self._create_and_start(node, target_vm, final, running, steps)
        cleanup.insert(0, _step("delete", "VirtualMachine", name, self.src, source=source_ref(vm)))
        entry = {
            "name": name,
            "source": source_ref(vm),
            "runStrategy": rewrite.run_strategy_of(vm),
            "status": (vm.get("status") or {}).get("printableStatus", "Unknown" if vm.get("status") else "Stopped"),
            "running": running,
            "targetRunStrategy": final,
            "macAddresses": vm_macs(vm),
            "firmwareUUID": target_vm["spec"]["template"]["spec"]["domain"]["firmware"]["uuid"],
            "disks": disks,
            "dependencies": graphmod.dependency_entries(self.graph, node),
            "estimate": {"downtimeSeconds": (LIVE_PAUSE_SECONDS if live and running else
                                             estimates.downtime_seconds([d["estimateSeconds"] for d in disks],
                                                                        running, start))},
            "steps": steps,
            "cleanup": cleanup,
        }
        if node.external_nads:
            entry["externalNetworks"] = [f"{ns}/{n}" for ns, n in node.external_nads]
        source_policies = self.inv.of(kinds.NETWORKPOLICY)
        if source_policies or self.inv.of(kinds.NETWORKPOLICY, TARGET):
            copies = [p for p in source_policies if p["metadata"]["name"] in self.copied_policies]
            entry["networkPolicies"] = policies.view(source_policies, self.inv.of(kinds.NETWORKPOLICY, TARGET) + copies,
                                                     graphmod.launcher_labels(vm))
        return entry

    def _disks(self, node, steps: List[dict], cleanup: List[dict]) -> List[dict]:
        """The VM's disk entries; adds the clone or transfer step of each claim (and the label of the persistent
        state claim) to `steps`, and the deletion of a claim nothing else removes to `cleanup`."""
        disks = []
        for disk in node.disks:
            mapped = rewrite.map_storage_class(disk.storage_class, self.opts.storage_class_map)
            if self.opts.strategy == "transfer":
                est = estimates.transfer_estimate(disk.storage_class)
            elif self.opts.strategy == "live":
                est = estimates.live_estimate(disk.storage_class, mapped, disk.size)
            else:
                est = estimates.clone_estimate(self.inv, disk.storage_class, mapped, disk.size, disk.volume_mode)
            entry = {"claim": disk.claim, "role": disk.role, "size": disk.size,
                     "storageClass": disk.storage_class, "targetStorageClass": est.storage_class,
                     "volumeMode": disk.volume_mode, "method": est.method, "methodReason": est.reason,
                     "estimateSeconds": est.seconds}
            if disk.volume:
                entry["volume"] = disk.volume
            if disk.datavolume:
                entry["dataVolume"] = disk.datavolume
            disks.append(entry)
            if disk.pvc is None:
                continue   # nothing to copy; preflight reports the missing claim
            steps += self._disk_steps(node.name, disk, mapped)
            owned_by_vm = disk.role in ("dataVolumeTemplate", "persistentState") or _owned(disk, node.vm)
            shared = self.graph.claim_staying_users(disk.claim)
            if self.opts.strategy in ("clone", "live") and not owned_by_vm and not shared:
                kind = "DataVolume" if disk.dv is not None else "PersistentVolumeClaim"
                obj = disk.dv if disk.dv is not None else disk.pvc
                cleanup.append(_step("delete", kind, disk.claim, self.src, source=source_ref(obj)))
        return disks

    def _disk_steps(self, vm_name: str, disk, storage_class: Optional[str]) -> List[dict]:
        labels = {graphmod.STATE_LABEL: vm_name} if disk.role == "persistentState" else None
        src, dst, move_id = self.src, self.dst, self.move_id
        if self.opts.strategy == "live":
            if disk.role == "persistentState":
                return []    # KubeVirt creates the target's TPM/EFI state claim itself (live-move.md §1.1)
            return [_step("create", "DataVolume", disk.claim, dst, source=source_ref(disk.pvc),
                          blankFor="PersistentVolumeClaim",
                          object=rewrite.blank_datavolume(disk.pvc, dst, source_namespace=src, move_id=move_id,
                                                          storage_class=storage_class))]
        if self.opts.strategy == "transfer":
            pv = (disk.pvc.get("spec") or {}).get("volumeName")
            out = [_step("transfer", "PersistentVolumeClaim", disk.claim, dst, source=source_ref(disk.pvc),
                         persistentVolume=pv, objectTransfer=bool(self.ot_served) or None,
                         object=rewrite.pvc_for_transfer(disk.pvc, dst, source_namespace=src, move_id=move_id,
                                                         labels=labels))]
        else:
            out = [_step("clone", "DataVolume", disk.claim, dst, source=source_ref(disk.pvc),
                         sourceDataVolume=source_ref(disk.dv) if disk.dv is not None else None,
                         object=rewrite.datavolume_for_clone(disk.pvc, dst, source_namespace=src, move_id=move_id,
                                                             storage_class=storage_class, labels=labels,
                                                             source_dv=disk.dv))]
        if disk.role == "persistentState":
            out.append(_step("label", "PersistentVolumeClaim", disk.claim, dst,
                             labels={graphmod.STATE_LABEL: vm_name}))
        return out

    def _own_dependencies(self, node, steps: List[dict], cleanup: List[dict]) -> None:
        """The dependencies only this moving VM uses: copied in its steps, deleted in its cleanup."""
        for kind in graphmod.DEPENDENCY_KINDS + graphmod.SELECTING_KINDS:
            for dep in node.deps.get(kind, ()):
                if self.moves(kind, dep) and len(self.dep_users.get((kind, dep), ())) == 1:
                    steps += self.dependency_steps(kind, dep)
                    cleanup += self.dependency_cleanup(kind, dep)

    def _create_and_start(self, node, target_vm: dict, final: str, running: bool, steps: List[dict]) -> bool:
        """Create the VM Halted, give it its revisions and state claim, then start it and restore its run strategy
        as `final` says; returns whether it is started."""
        name = node.name
        steps.append(_step("create", "VirtualMachine", name, self.dst, source=source_ref(node.vm), object=target_vm))
        owned = [("ControllerRevision", n) for n in node.deps.get("ControllerRevision", ())]
        owned += [("PersistentVolumeClaim", d.claim) for d in node.disks if d.role == "persistentState"]
        for kind, dep in owned:
            steps.append(_step("set-owner", kind, dep, self.dst, owner={"kind": "VirtualMachine", "name": name}))
        start = final in ("Always", "Once") or (final in ("Manual", "RerunOnFailure") and running)
        if start:
            steps.append(_step("start", "VirtualMachine", name, self.dst, wait="Ready"))
        if final not in ("Halted",) and final != "Always":
            steps.append(_step("set-run-strategy", "VirtualMachine", name, self.dst, runStrategy=final))
        return start

    def _live_steps(self, node, target_vm: dict, steps: List[dict]) -> bool:
        """The receiver VM, then the two migrations joined by one migration ID (live-move.md §4.5): wait for the
        receiver VMI, create the target migration, then the source migration with the target's synchronization
        address, then wait for the switchover. Returns True: the VM runs in the target afterwards."""
        name = node.name
        steps.append(_step("create", "VirtualMachine", name, self.dst, source=source_ref(node.vm), object=target_vm))
        mid = live_migration_id(self.move_id, name)
        vmim = live_migration_name(self.move_id, name)
        steps.append(_step("await-receiver", "VirtualMachineInstance", name, self.dst))
        steps.append(_step("migrate-receive", "VirtualMachineInstanceMigration", vmim, self.dst, migrationID=mid))
        steps.append(_step("migrate-send", "VirtualMachineInstanceMigration", vmim, self.src, migrationID=mid))
        steps.append(_step("await-migration", "VirtualMachineInstanceMigration", vmim, self.dst, migrationID=mid))
        return True

    # ------------------------------------------------------------------------------------------ the document

    def document(self, now: _dt.datetime, user: str, prepare: List[dict], vms: List[dict],
                 cleanup: List[dict]) -> dict:
        opts, move_id = self.opts, self.move_id
        downtimes = [v["estimate"]["downtimeSeconds"] for v in vms]
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {
                "name": f"move-{move_id}",
                "creationTimestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "labels": {rewrite.MOVE_ID_LABEL: move_id},
                "annotations": {"vmmove.io/created-by": user or "unknown"},
            },
            "spec": {
                "moveId": move_id,
                "source": {"namespace": self.src},
                "target": {"namespace": self.dst, "createNamespace": bool(opts.create_namespace)},
                "strategy": opts.strategy,
                "storageClassMap": dict(opts.storage_class_map),
                "targetRunStrategy": opts.target_run_strategy,
                "services": bool(opts.services),
                "copyNetworkPolicies": bool(opts.copy_network_policies),
                "macPolicy": self.mac_policy,
                "kubemacpool": kubemacpool_facts(self.inv),
                "selection": dict(opts.selection),
                **({"live": dict(opts.live)} if opts.strategy == "live" else {}),
                "prepare": prepare,
                "vms": vms,
                "cleanup": cleanup,
            },
            "status": {
                "findings": [],
                "summary": {
                    "vms": len(vms),
                    "disks": sum(len(v["disks"]) for v in vms),
                    "bytes": sum(d["size"] for v in vms for d in v["disks"]),
                    "estimatedDowntimeSeconds": estimates.total_seconds(downtimes, max),
                    "estimatedSerialSeconds": estimates.total_seconds(downtimes),
                },
            },
        }


def copied_policies(inv, graph, opts: PlanOptions) -> set:
    """The source NetworkPolicies the plan copies: with --copy-network-policies, those that select moving VMs and
    nothing that stays (no VM that stays, no other pod of the source, not every pod)."""
    if not opts.copy_network_policies:
        return set()
    by_name = inv.by_name(kinds.NETWORKPOLICY)
    pods, moving = inv.of(kinds.POD), set(graph.nodes)
    names = {n for node in graph.nodes.values() for n in node.deps.get("NetworkPolicy", ())}
    return {n for n in names if n in by_name and policies.copyable(by_name[n], graph.staying_users("NetworkPolicy", n),
                                                                    pods, moving)}


def _owned(disk, vm) -> bool:
    uid = vm["metadata"].get("uid")
    obj = disk.dv if disk.dv is not None else disk.pvc
    return bool(uid) and any(r.get("uid") == uid for r in (obj or {}).get("metadata", {}).get("ownerReferences") or ())


# ---------------------------------------------------------------------------------------------- reading back


def errors_in(plan: dict) -> List[dict]:
    return [f for f in MovePlan(plan).findings if f.get("severity") == "error"]


def load(text: str, origin: str = "plan") -> dict:
    """Parse and validate a saved plan; UserError says what is wrong with it."""
    import yaml

    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
        if len(docs) > 1:
            raise UserError(f"{origin} holds {len(docs)} YAML documents; a plan file holds one: save each plan to "
                            "its own file ('kubectl vmmove plan ... -o yaml > plan.yaml') and run them one by one")
        doc: Any = docs[0] if docs else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise UserError(f"{origin} is not valid YAML{where}; save a plan with "
                        "'kubectl vmmove plan ... -o yaml > plan.yaml'") from err
    validate(doc, origin)
    return doc


def validate(doc, origin: str = "plan") -> None:
    problems = []
    if not isinstance(doc, dict):
        raise UserError(f"{origin} is not a MovePlan document (expected a mapping with apiVersion {API_VERSION})")
    if doc.get("apiVersion") != API_VERSION or doc.get("kind") != KIND:
        raise UserError(f'{origin} has apiVersion "{doc.get("apiVersion")}" and kind "{doc.get("kind")}"; '
                        f'expected {API_VERSION} {KIND}')
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        raise UserError(f"{origin} has no spec")
    for path, value in (("spec.moveId", spec.get("moveId")),
                        ("spec.source.namespace", (spec.get("source") or {}).get("namespace")),
                        ("spec.target.namespace", (spec.get("target") or {}).get("namespace"))):
        if not isinstance(value, str) or not value:
            problems.append(f"{path} is missing")
    if spec.get("strategy") not in STRATEGIES + ("auto",):
        problems.append(f"spec.strategy must be one of {', '.join(STRATEGIES + ('auto',))}")
    if spec.get("macPolicy") not in MAC_POLICIES[1:]:
        problems.append(f"spec.macPolicy must be one of {', '.join(MAC_POLICIES[1:])}")
    vms = spec.get("vms")
    if not isinstance(vms, list) or not vms:
        problems.append("spec.vms is empty")
    for i, vm in enumerate(vms if isinstance(vms, list) else ()):
        if not isinstance(vm, dict) or not vm.get("name") or not isinstance(vm.get("steps"), list):
            problems.append(f"spec.vms[{i}] needs a name and steps")
            continue
        for j, step in enumerate(vm["steps"]):
            if not isinstance(step, dict) or not step.get("action"):
                problems.append(f"spec.vms[{i}].steps[{j}] has no action")
    if problems:
        raise UserError(f"{origin} is not a valid MovePlan: " + "; ".join(problems))


def source_refs(plan: dict) -> List[tuple]:
    """(kind, ref) for every source object the plan read, once each."""
    seen, out = set(), []
    view = MovePlan(plan)
    steps = view.prepare + view.cleanup
    for vm in view.spec.get("vms") or ():
        steps += vm.get("steps") or ()
        steps += vm.get("cleanup") or ()
    for step in steps:
        from_claim = step["action"] in ("clone", "transfer") or step.get("blankFor") == "PersistentVolumeClaim"
        step_kind = "PersistentVolumeClaim" if from_claim else step["kind"]
        for kind, ref in ((step_kind, step.get("source")), ("DataVolume", step.get("sourceDataVolume"))):
            if not ref or ref.get("namespace") != view.source or (kind, ref["name"]) in seen:
                continue
            seen.add((kind, ref["name"]))
            out.append((kind, ref))
    return out


def stale(plan: dict, inv) -> List[dict]:
    """What changed in the source since the plan was made: [{kind, name, change}] (deleted, replaced, changed).

    Objects with a generation (VMs, DataVolumes, NetworkPolicies, custom resources) compare the generation, so
    status updates by controllers do not make a plan stale; others compare the resourceVersion. A label or
    annotation a user adds changes neither spec nor generation, yet a run from the plan would drop it: those
    objects' refs carry a digest of the user's labels and annotations, and a different one is "labels or
    annotations changed".

    Stopping or starting a VM with runStrategy Always or Halted patches its spec (a new generation), but with
    Manual or RerunOnFailure it only adds a state change request to the status (KubeVirt
    pkg/virt-api/rest/lifecycle.go). For those the plan's decision to start the target followed the running state
    at plan time, so a VM stopped (or started) since then makes the plan stale as well ("stopped", "started")."""
    out = []
    current_vms = inv.by_name(kinds.VM, SOURCE)
    for entry in MovePlan(plan).spec.get("vms") or ():
        current = current_vms.get(entry.get("name"))
        if current is None or entry.get("targetRunStrategy") not in ("Manual", "RerunOnFailure"):
            continue
        if (current["metadata"].get("uid") == (entry.get("source") or {}).get("uid")
                and is_running(current) != bool(entry.get("running"))):
            out.append({"kind": "VirtualMachine", "name": entry["name"],
                        "change": "started" if is_running(current) else "stopped"})
    for kind, ref in source_refs(plan):
        current = inv.by_name(kind, SOURCE).get(ref["name"])
        if current is None:
            out.append({"kind": kind, "name": ref["name"], "change": "deleted"})
            continue
        md = current["metadata"]
        if ref.get("uid") and md.get("uid") != ref["uid"]:
            out.append({"kind": kind, "name": ref["name"], "change": "replaced"})
        elif "generation" in ref and md.get("generation") is not None:
            if md["generation"] != ref["generation"]:
                out.append({"kind": kind, "name": ref["name"], "change": "changed"})
            elif ref.get("metadataDigest") and rewrite.metadata_digest(current) != ref["metadataDigest"]:
                out.append({"kind": kind, "name": ref["name"], "change": "labels or annotations changed"})
        elif ref.get("resourceVersion") and md.get("resourceVersion") != ref["resourceVersion"]:
            out.append({"kind": kind, "name": ref["name"], "change": "changed"})
    return out


def target_manifests(plan: dict) -> List[dict]:
    """The objects the plan creates in the target, in creation order, for `plan --manifests` (GitOps).

    VMs carry their final run strategy instead of Halted: with manifests there is no `run` to start them."""
    import copy

    out = []
    view = MovePlan(plan)
    for step in view.run_steps():
        obj = step.get("object")
        if obj is None or step["action"] not in ("create", "clone", "transfer"):
            continue
        obj = copy.deepcopy(obj)
        if obj.get("kind") == "VirtualMachine":
            obj["spec"]["runStrategy"] = view.vm(obj["metadata"]["name"])["targetRunStrategy"]
        out.append(obj)
    rank = {"Namespace": 0, "ServiceAccount": 1, "NetworkAttachmentDefinition": 2,
            "VirtualMachineInstancetype": 3, "VirtualMachinePreference": 3, "ControllerRevision": 4,
            "DataVolume": 5, "PersistentVolumeClaim": 5, "VirtualMachine": 6, "Service": 7, "NetworkPolicy": 8}
    seen, unique = set(), []
    for obj in sorted(out, key=lambda o: rank.get(o["kind"], 9)):
        key = (obj["kind"], obj["metadata"]["name"])
        if key not in seen:
            seen.add(key)
            unique.append(obj)
    return unique


def run_time_copies(plan: dict) -> List[tuple]:
    """(kind, name) of the objects copied at run time (Secrets, ConfigMaps): not printable as manifests."""
    return sorted({(s["kind"], s["name"]) for s in MovePlan(plan).run_steps() if s["action"] == "copy"})

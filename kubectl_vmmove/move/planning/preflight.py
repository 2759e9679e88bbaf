"""Preflight findings: everything that would make `run` fail, lose something, or surprise the user.

Each rule is a pure function of the inventory, the graph and the plan, returning findings
`{severity: error|warning|info, code, message, remedy, subject}`. A plan with errors is still printed; `run`
refuses it. Facts behind each rule: kubevirt-move-mechanics.md (section given per rule).
"""

import json
from typing import Dict, List

from ...kube import kinds
from .. import quantities, rewrite
from . import estimates, permissions
from .inventory import CLUSTER, SOURCE, TARGET
from .moveplan import KMP_OPT_OUT_LABEL, is_running, vm_macs

SEVERITIES = ("error", "warning", "info")
_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def finding(severity, code, message, remedy="", kind=None, name=None, namespace=None) -> dict:
    out = {"severity": severity, "code": code, "message": message}
    if remedy:
        out["remedy"] = remedy
    if kind:
        out["subject"] = {k: v for k, v in (("kind", kind), ("namespace", namespace), ("name", name)) if v}
    return out


class Context:
    def __init__(self, inv, graph, plan):
        self.inv, self.graph, self.plan = inv, graph, plan
        self.spec = plan["spec"]
        self.src = self.spec["source"]["namespace"]
        self.dst = self.spec["target"]["namespace"]
        self.move_id = self.spec["moveId"]
        self.vm_entries = {v["name"]: v for v in self.spec["vms"]}

    def steps(self, with_cleanup=False):
        out = list(self.spec.get("prepare") or ())
        for vm in self.spec["vms"]:
            out += vm["steps"]
            if with_cleanup:
                out += vm.get("cleanup") or ()
        if with_cleanup:
            out += self.spec.get("cleanup") or ()
        return out


# ---------------------------------------------------------------------------------------------- rules


def target_namespace(ctx) -> List[dict]:
    inv = ctx.inv
    if inv.target_namespace is not None:
        return []
    if not inv.target_namespace_known:
        return [finding("warning", "TargetNamespaceUnknown",
                        f'cannot tell whether namespace "{ctx.dst}" exists: reading it is forbidden',
                        "ask an administrator to create it if it does not exist", "Namespace", ctx.dst)]
    if ctx.spec["target"].get("createNamespace"):
        return [finding("info", "TargetNamespaceCreated", f'namespace "{ctx.dst}" does not exist; run creates it',
                        kind="Namespace", name=ctx.dst)]
    return [finding("error", "TargetNamespaceMissing", f'namespace "{ctx.dst}" does not exist',
                    f"create it (kubectl create namespace {ctx.dst}) or plan again with --create-namespace",
                    "Namespace", ctx.dst)]


def name_conflicts(ctx) -> List[dict]:
    inv = ctx.inv
    out: List[dict] = []
    if inv.target_namespace is None:
        return out
    for step in ctx.steps():
        if step["action"] not in ("create", "clone", "copy", "transfer") or step["kind"] == "Namespace":
            continue
        check = [step["kind"]] + (["PersistentVolumeClaim"] if step["action"] == "clone" else [])
        for kind in check:
            existing = inv.by_name(kind, TARGET).get(step["name"])
            if existing is None:
                continue
            labels = existing["metadata"].get("labels") or {}
            origin = (existing["metadata"].get("annotations") or {}).get(rewrite.SOURCE_ANNOTATION)
            if labels.get(rewrite.MOVE_ID_LABEL) == ctx.move_id:
                out.append(finding("info", "AlreadyCreated",
                                   f'{kind} "{step["name"]}" already exists in "{ctx.dst}" from this move; '
                                   "run continues from it", kind=kind, name=step["name"], namespace=ctx.dst))
            elif step["action"] == "copy" and origin == f'{ctx.src}/{step["name"]}':
                # Moving VMs in waves: an earlier move copied this shared Secret or ConfigMap from the same source
                # object. The copy is used when its data still equals the source's (run compares the digests).
                other = labels.get(rewrite.MOVE_ID_LABEL)
                by = f"by move {other}" if other else "by an earlier move"
                out.append(finding("info", "CopiedEarlier",
                                   f'{kind} "{step["name"]}" was copied to "{ctx.dst}" from "{ctx.src}" {by}; run '
                                   "uses that copy if its data still equals the source's, and fails the VM if not",
                                   kind=kind, name=step["name"], namespace=ctx.dst))
            else:
                out.append(finding("error", "NameConflict",
                                   f'{kind} "{step["name"]}" already exists in namespace "{ctx.dst}"',
                                   f"delete or rename the existing object (kubectl get {kinds.by_kind(kind).resource}"
                                   f' {step["name"]} -n {ctx.dst}), or move to another namespace',
                                   kind, step["name"], ctx.dst))
            break
    return _dedupe(out)


def access(ctx) -> List[dict]:
    out = []
    for perm in permissions.required(ctx.plan):
        allowed = permissions.allowed(ctx.inv.permissions, perm)
        if allowed is None or allowed:
            continue
        denied = permissions.denied_names(ctx.inv.permissions, perm) if perm.names else []
        if denied and len(denied) < len(perm.names):
            # Granted for some claims only (a Role with resourceNames): one finding per claim left out, so that
            # only the VMs of those claims are blocked.
            for name in denied:
                out.append(finding("error", "PermissionDenied", f"you may not {perm.text([name])}",
                                   f"ask for this right for this claim too (check with: {perm.kubectl(name)})",
                                   "PersistentVolumeClaim", name, perm.namespace))
        elif perm.essential:
            out.append(finding("error", "PermissionDenied", f"you may not {perm.text()}",
                               f"ask for this right (check with: {perm.kubectl()})",
                               "Namespace" if perm.namespace else None, perm.namespace))
        else:
            out.append(finding("warning", "PermissionMissing",
                               f"you may not {perm.text()}; a later step (cleanup or events) needs it",
                               f"ask for this right before that step (check with: {perm.kubectl()})",
                               "Namespace" if perm.namespace else None, perm.namespace))
    return out


def _quota_demand(ctx, namespace_is_source=False) -> Dict[str, int]:
    demand: Dict[str, int] = {}

    def add(key, n):
        demand[key] = demand.get(key, 0) + n

    for vm in ctx.spec["vms"]:
        for disk in vm["disks"]:
            sc = disk.get("targetStorageClass") or ""
            add("requests.storage", disk["size"])
            add("persistentvolumeclaims", 1)
            add("count/persistentvolumeclaims", 1)
            if sc:
                add(f"{sc}.storageclass.storage.k8s.io/requests.storage", disk["size"])
                add(f"{sc}.storageclass.storage.k8s.io/persistentvolumeclaims", 1)
            if ctx.spec["strategy"] == "clone":
                add("count/datavolumes.cdi.kubevirt.io", 1)
        add("count/virtualmachines.kubevirt.io", 1)
    for step in ctx.steps():
        if step["action"] not in ("create", "copy"):
            continue
        plural = {"Secret": "secrets", "ConfigMap": "configmaps", "Service": "services",
                  "ServiceAccount": "serviceaccounts"}.get(step["kind"])
        if plural:
            add(plural, 1)
            add(f"count/{plural}", 1)
        if step["kind"] == "Service":
            svc_type = (step.get("object") or {}).get("spec", {}).get("type")
            if svc_type in ("NodePort", "LoadBalancer"):
                add("services.nodeports", 1)
            if svc_type == "LoadBalancer":
                add("services.loadbalancers", 1)
    add("configmaps", 1)          # the journal
    add("count/configmaps", 1)
    return demand


def quota(ctx) -> List[dict]:
    out = []
    demand = _quota_demand(ctx)
    for rq in ctx.inv.of(kinds.RESOURCEQUOTA, TARGET):
        hard = (rq.get("status") or {}).get("hard") or (rq.get("spec") or {}).get("hard") or {}
        used = (rq.get("status") or {}).get("used") or {}
        for key, limit in sorted(hard.items()):
            need = demand.get(key)
            if not need:
                continue
            free = quantities.to_bytes(limit) - quantities.to_bytes(used.get(key, 0))
            if need > free:
                show = quantities.human_bytes if "storage" in key else str
                out.append(finding("error", "QuotaExceeded",
                                   f'ResourceQuota "{rq["metadata"]["name"]}" in "{ctx.dst}" allows {show(max(free, 0))} '
                                   f"more {key}; the move needs {show(need)}",
                                   "raise the quota, or move fewer VMs at a time",
                                   "ResourceQuota", rq["metadata"]["name"], ctx.dst))
    if ctx.spec["strategy"] == "clone":
        largest = max([d["size"] for v in ctx.spec["vms"] for d in v["disks"]] or [0])
        for rq in ctx.inv.of(kinds.RESOURCEQUOTA, SOURCE):
            hard = (rq.get("status") or {}).get("hard") or (rq.get("spec") or {}).get("hard") or {}
            used = (rq.get("status") or {}).get("used") or {}
            if "requests.storage" in hard and largest:
                free = quantities.to_bytes(hard["requests.storage"]) - quantities.to_bytes(
                    used.get("requests.storage", 0))
                if largest > free:
                    out.append(finding(
                        "warning", "SourceQuotaForClone",
                        f'CDI builds each clone as a temporary claim in "{ctx.src}"; ResourceQuota '
                        f'"{rq["metadata"]["name"]}" has {quantities.human_bytes(max(free, 0))} of storage left, '
                        f"the largest disk is {quantities.human_bytes(largest)}",
                        "raise the source quota during the move, or use --strategy transfer",
                        "ResourceQuota", rq["metadata"]["name"], ctx.src))
    return out


def storage(ctx) -> List[dict]:
    inv, out = ctx.inv, []
    spec = ctx.spec
    if spec["strategy"] == "clone" and not inv.serves(kinds.DATAVOLUME):
        out.append(finding("error", "CdiMissing", "the cluster does not serve DataVolumes (CDI is not installed); "
                           "--strategy clone needs CDI",
                           "install CDI, or use --strategy transfer (cluster-admin)"))
    used_classes = set()
    classes = inv.by_name(kinds.STORAGECLASS, CLUSTER)
    # A user who may not list StorageClasses (the namespace `view`/`edit` roles cannot) must not be told that the
    # classes do not exist: say once that they could not be checked.
    classes_known = (kinds.STORAGECLASS.kind, CLUSTER) not in inv.unreadable
    if not classes_known and spec["strategy"] == "clone":
        out.append(finding("warning", "StorageClassUnknown",
                           "StorageClasses cannot be read with these credentials: whether each target class exists "
                           "and which clone method CDI will use were not checked",
                           "ask for read access to storageclasses.storage.k8s.io and storageprofiles.cdi.kubevirt.io, "
                           "or have an administrator run the plan"))
    # Claims the user may not list are neither missing nor waiting for their DataVolume: say they could not be read.
    claims_unreadable = inv.unreadable.get((kinds.PVC.kind, SOURCE))
    for vm in spec["vms"]:
        node = ctx.graph.nodes[vm["name"]]
        for disk, entry in zip(node.disks, vm["disks"]):
            used_classes.add(disk.storage_class or "")
            subject = ("PersistentVolumeClaim", disk.claim, ctx.src)
            if disk.pvc is None:
                if claims_unreadable is not None:
                    out.append(finding("error", "ListForbidden",
                                       f'claim "{disk.claim}" of VM "{vm["name"]}" could not be read: '
                                       f"{claims_unreadable}",
                                       "ask for list access to persistentvolumeclaims in "
                                       f'"{ctx.src}" (kubectl auth can-i list persistentvolumeclaims -n {ctx.src}), '
                                       "then assess again", *subject))
                elif disk.dv is None:
                    out.append(finding("error", "ClaimMissing",
                                       f'VM "{vm["name"]}" uses claim "{disk.claim}", which does not exist',
                                       "create or restore the claim, or remove the volume from the VM", *subject))
                else:
                    out.append(finding("error", "DataVolumeNotReady",
                                       f'DataVolume "{disk.claim}" of VM "{vm["name"]}" has no claim yet '
                                       f'(phase {(disk.dv.get("status") or {}).get("phase", "unknown")})',
                                       "wait until the DataVolume has succeeded, then plan again",
                                       "DataVolume", disk.claim, ctx.src))
                continue
            phase = (disk.pvc.get("status") or {}).get("phase")
            if phase != "Bound":
                out.append(finding("error", "ClaimNotBound",
                                   f'claim "{disk.claim}" of VM "{vm["name"]}" is {phase or "not bound"}',
                                   "wait until it is Bound (kubectl get pvc), then plan again", *subject))
            if disk.dv is not None and (disk.dv.get("status") or {}).get("phase") not in (None, "Succeeded"):
                out.append(finding("error", "DataVolumeNotReady",
                                   f'DataVolume "{disk.claim}" of VM "{vm["name"]}" is '
                                   f'{disk.dv["status"]["phase"]}, not Succeeded',
                                   "wait until the import or clone has finished, then plan again",
                                   "DataVolume", disk.claim, ctx.src))
            staying = ctx.graph.claim_staying_users(disk.claim)
            if staying:
                out.append(finding("error", "DiskShared",
                                   f'claim "{disk.claim}" is also used by {_names(staying)}, which '
                                   "is not moving", "move those VMs in the same plan", *subject))
            if spec["strategy"] == "transfer":
                continue
            target_class = entry.get("targetStorageClass")
            if not classes_known:
                continue
            if entry["method"] == "unknown":
                code = "StorageClassMissing" if target_class else "NoStorageClass"
                out.append(finding("error", code, f'claim "{disk.claim}": {entry["methodReason"]}',
                                   "create the StorageClass, or map it with --storage-class-map OLD=NEW", *subject))
            elif entry["method"] == "copy":
                out.append(finding("warning", "SlowClone",
                                   f'claim "{disk.claim}" ({quantities.human_bytes(disk.size)}) will be copied '
                                   f'through a pod: {entry["methodReason"]}; about '
                                   f'{estimates.human_seconds(entry["estimateSeconds"])}',
                                   "map to a class on the same CSI driver with snapshot or clone support "
                                   "(--storage-class-map), or use --strategy transfer", *subject))
            elif target_class and target_class not in classes:
                out.append(finding("error", "StorageClassMissing", f'StorageClass "{target_class}" does not exist',
                                   "create it or map it with --storage-class-map", *subject))
    for old in sorted(spec.get("storageClassMap") or {}):
        if spec["strategy"] == "transfer":
            out.append(finding("warning", "StorageClassMapIgnored",
                               "--storage-class-map has no effect with --strategy transfer: a rebound volume "
                               "keeps its class", "use --strategy clone to change storage classes"))
            break
        if old not in used_classes:
            out.append(finding("warning", "StorageClassMapUnused",
                               f'--storage-class-map names "{old}", which no moving disk uses',
                               "check the class names with 'kubectl get pvc -n " + ctx.src + "'"))
    return out


_CLONE_FINALIZERS = ("provisioner.storage.kubernetes.io/cloning-protection",
                     "snapshot.storage.kubernetes.io/pvc-as-source-protection")


def transfer(ctx) -> List[dict]:
    inv = ctx.inv
    out: List[dict] = []
    if ctx.spec["strategy"] != "transfer":
        return out
    if inv.serves(kinds.OBJECTTRANSFER):
        out.append(finding("info", "ObjectTransferDeprecated",
                           "CDI ObjectTransfer is deprecated since CDI v1.61; run uses it while it is served"))
    pvs = inv.by_name(kinds.PV, CLUSTER)
    for vm in ctx.spec["vms"]:
        for disk in ctx.graph.nodes[vm["name"]].disks:
            if disk.pvc is None:
                continue
            for fin in disk.pvc["metadata"].get("finalizers") or ():
                if fin in _CLONE_FINALIZERS:
                    out.append(finding("error", "ClaimInUseByClone",
                                       f'claim "{disk.claim}" is the source of a clone or snapshot ({fin})',
                                       "wait until that clone or snapshot finishes",
                                       "PersistentVolumeClaim", disk.claim, ctx.src))
            pv = pvs.get((disk.pvc.get("spec") or {}).get("volumeName") or "")
            if pv is None:
                continue
            if (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy", "Delete") == "Delete":
                out.append(finding("info", "ReclaimPolicyDelete",
                                   f'volume "{pv["metadata"]["name"]}" of claim "{disk.claim}" has reclaim policy '
                                   "Delete; run sets Retain while the claim is rebound and restores it after",
                                   kind="PersistentVolume", name=pv["metadata"]["name"]))
            csi = (pv.get("spec") or {}).get("csi") or {}
            for key in ("nodeStageSecretRef", "nodePublishSecretRef", "controllerExpandSecretRef",
                        "controllerPublishSecretRef", "nodeExpandSecretRef"):
                if (csi.get(key) or {}).get("namespace") == ctx.src:
                    out.append(finding("warning", "CsiSecretInSourceNamespace",
                                       f'volume "{pv["metadata"]["name"]}" refers to Secret '
                                       f'"{csi[key].get("name")}" in "{ctx.src}" ({key}); after the move it still '
                                       "does", f'keep that Secret in "{ctx.src}" as long as the volume exists',
                                       "PersistentVolume", pv["metadata"]["name"]))
                    break
    return out


def networks(ctx) -> List[dict]:
    inv, out = ctx.inv, []
    target_nads = inv.by_name(kinds.NAD, TARGET)
    source_nads = inv.by_name(kinds.NAD, SOURCE)
    multus_missing_reported = False
    for name, node in ctx.graph.nodes.items():
        if node.multus_networks and not inv.serves(kinds.NAD):
            if not multus_missing_reported:
                out.append(finding("error", "MultusMissing",
                                   "VMs use Multus networks but the cluster does not serve "
                                   "NetworkAttachmentDefinitions", "install Multus, or remove the secondary networks"))
                multus_missing_reported = True
            continue
        for kind, nad, where in node.missing:
            if kind != "NetworkAttachmentDefinition":
                continue
            if nad in target_nads:
                out.append(finding("info", "NadReused",
                                   f'NetworkAttachmentDefinition "{nad}" already exists in "{ctx.dst}"; VM "{name}" '
                                   "will use it", kind="NetworkAttachmentDefinition", name=nad, namespace=ctx.dst))
                continue
            out.append(finding("error", "NadMissing",
                               f'VM "{name}" uses network "{nad}" ({where}), but no NetworkAttachmentDefinition of that '
                               f'name exists in "{ctx.src}" or "{ctx.dst}"',
                               f'create NetworkAttachmentDefinition "{nad}" in "{ctx.dst}"',
                               "NetworkAttachmentDefinition", nad, ctx.src))
        for nad in node.deps.get("NetworkAttachmentDefinition", ()):
            if nad in target_nads:
                out.append(finding("info", "NadReused",
                                   f'NetworkAttachmentDefinition "{nad}" already exists in "{ctx.dst}"; VM "{name}" '
                                   "will use it", kind="NetworkAttachmentDefinition", name=nad, namespace=ctx.dst))
            elif nad in source_nads and ctx.src in (source_nads[nad].get("spec") or {}).get("config", ""):
                config = (source_nads[nad].get("spec") or {}).get("config", "")
                if _names_namespace(config, ctx.src):
                    out.append(finding("info", "NadConfigRewritten",
                                       f'the CNI config of NetworkAttachmentDefinition "{nad}" names "{ctx.src}"; '
                                       f'the copy names "{ctx.dst}"', kind="NetworkAttachmentDefinition", name=nad,
                                       namespace=ctx.src))
        for ns, nad in node.external_nads:
            if ns == ctx.dst:
                if nad not in target_nads and inv.listed(kinds.NAD, TARGET):
                    out.append(finding("error", "NadUnreachable",
                                       f'VM "{name}" uses network "{ns}/{nad}", which does not exist',
                                       f'create it in "{ns}"', "NetworkAttachmentDefinition", nad, ns))
                continue
            if (ns, nad) in inv.external_nads_unreadable:
                out.append(finding("warning", "NadUnverified",
                                   f'cannot read NetworkAttachmentDefinition "{ns}/{nad}" used by VM "{name}"',
                                   "check that it exists and that Multus allows cross-namespace references "
                                   f'from "{ctx.dst}" (namespaceIsolation)', "NetworkAttachmentDefinition", nad, ns))
            elif (ns, nad) in inv.external_nads and inv.external_nads[(ns, nad)] is None:
                out.append(finding("error", "NadUnreachable",
                                   f'VM "{name}" uses network "{ns}/{nad}", which does not exist',
                                   f'create it in "{ns}"', "NetworkAttachmentDefinition", nad, ns))
            elif ns != "default":
                # Multus namespaceIsolation (on by default on OpenShift) refuses NADs of other namespaces unless
                # they are in "default" or globalNamespaces (multus-cni docs/configuration.md).
                out.append(finding("warning", "NadInOtherNamespace",
                                   f'VM "{name}" uses network "{ns}/{nad}" of another namespace; with Multus '
                                   f'namespaceIsolation, pods in "{ctx.dst}" may only use it if "{ns}" is one of '
                                   "the globalNamespaces", f'check the Multus configuration, or copy the '
                                   f'NetworkAttachmentDefinition to "{ctx.dst}"', "NetworkAttachmentDefinition",
                                   nad, ns))
    return _dedupe(out)


def _names_namespace(config: str, namespace: str) -> bool:
    try:
        parsed = json.loads(config)
    except ValueError:
        return False
    probe = json.loads(json.dumps(parsed))
    return rewrite._rewrite_nad_names(probe, namespace, namespace + "-")


def macs(ctx) -> List[dict]:
    inv, out = ctx.inv, []
    policy = ctx.spec["macPolicy"]
    target_macs: Dict[str, str] = {}
    for vm in inv.of(kinds.VM, TARGET):
        for mac in vm_macs(vm):
            target_macs[mac] = vm["metadata"]["name"]
    with_macs = [n for n, v in ctx.vm_entries.items() if v["macAddresses"]]
    if policy == "new":
        if with_macs:
            out.append(finding("warning", "MacsChange",
                               f"--mac-policy new: {_names(with_macs)} {_verb(with_macs, 'gets', 'get')} new MAC "
                               "addresses; guests that bind their network configuration or DHCP reservations to a "
                               "MAC need updating",
                               "use --mac-policy keep to keep the addresses"))
        return out
    for name in with_macs:
        for mac in ctx.vm_entries[name]["macAddresses"]:
            other = target_macs.get(mac)
            if other and other != name:
                out.append(finding("error", "MacInUse",
                                   f'MAC {mac} of VM "{name}" is already used by VM "{other}" in "{ctx.dst}"',
                                   "change one of them, or plan with --mac-policy new",
                                   "VirtualMachine", name, ctx.src))
    dry = inv.dry_run or {}
    opted_out = policy == "opt-out" or ((inv.target_namespace or {}).get("metadata", {}).get("labels") or {}) \
        .get(KMP_OPT_OUT_LABEL) == "ignore"
    if dry.get("macRejected") and not opted_out and with_macs:
        out.append(finding("error", "MacRejected",
                           "KubeMacPool refuses a VM whose MAC another VM holds (KubeMacPool older than v0.51): "
                           f"{dry.get('message', '')}",
                           "plan with --mac-policy opt-out (labels the target namespace "
                           f"{KMP_OPT_OUT_LABEL}=ignore) or --mac-policy new (new MAC addresses)",
                           "VirtualMachine", dry.get("vm"), ctx.dst))
    elif with_macs:
        out.append(finding("info", "MacsKept",
                           f"{_names(with_macs)} {_verb(with_macs, 'keeps its', 'keep their')} MAC addresses; source and "
                           "target never run at the same time (run stops the source first)"))
    if policy == "opt-out":
        out.append(finding("info", "MacPoolOptOut",
                           f'KubeMacPool will not manage MACs in "{ctx.dst}" ({KMP_OPT_OUT_LABEL}=ignore); MAC '
                           "uniqueness there is up to you", kind="Namespace", name=ctx.dst))
    return out


def dry_run(ctx) -> List[dict]:
    dry = ctx.inv.dry_run or {}
    if dry and not dry.get("ok") and not dry.get("macRejected") and not dry.get("conflict"):
        return [finding("error", "DryRunRejected",
                        f'the server rejected a dry run of VM "{dry.get("vm")}" in "{ctx.dst}": {dry.get("message")}',
                        "fix what the message names, then plan again", "VirtualMachine", dry.get("vm"), ctx.dst)]
    return []


def vm_state(ctx) -> List[dict]:
    out = []
    for name, node in ctx.graph.nodes.items():
        vm, entry = node.vm, ctx.vm_entries[name]
        status = vm.get("status") or {}
        subject = ("VirtualMachine", name, ctx.src)
        if vm["metadata"].get("deletionTimestamp"):
            out.append(finding("error", "VmTerminating", f'VM "{name}" is being deleted',
                               "wait until it is gone; there is nothing left to move", *subject))
        if is_running(vm):
            downtime = entry["estimate"]["downtimeSeconds"]
            how_long = (f'about {estimates.human_seconds(downtime)} of downtime' if downtime is not None
                        else "the downtime cannot be estimated (the clone method is unknown)")
            out.append(finding("warning", "VmRunning",
                               f'VM "{name}" is {status.get("printableStatus", "running")}; run stops it: {how_long}',
                               "plan a maintenance window, or stop it first (virtctl stop)", *subject))
        if status.get("printableStatus") == "Migrating":
            out.append(finding("error", "MigrationInProgress", f'VM "{name}" is live-migrating',
                               "wait until the migration finishes", *subject))
        if status.get("snapshotInProgress"):
            out.append(finding("error", "SnapshotInProgress",
                               f'VM "{name}" is being snapshotted ({status["snapshotInProgress"]})',
                               "wait until the snapshot finishes", *subject))
        if status.get("restoreInProgress"):
            out.append(finding("error", "RestoreInProgress",
                               f'VM "{name}" is being restored ({status["restoreInProgress"]})',
                               "wait until the restore finishes", *subject))
        for ref in vm["metadata"].get("ownerReferences") or ():
            if ref.get("kind") == "VirtualMachinePool":
                out.append(finding("error", "OwnedByPool",
                                   f'VM "{name}" belongs to VirtualMachinePool "{ref.get("name")}"; the pool would '
                                   "recreate it", "scale the pool or move the pool's workload instead", *subject))
        if node.snapshots:
            out.append(finding("warning", "SnapshotsStayBehind",
                               f'VM "{name}" has snapshots ({", ".join(node.snapshots)}); they cannot be restored '
                               "into another namespace and stay in the source",
                               "keep the source namespace's snapshots, or take new ones after the move", *subject))
        if node.exports:
            out.append(finding("warning", "ExportStaysBehind",
                               f'VM "{name}" has exports ({", ".join(node.exports)}); they stay in the source and '
                               "end when the source is cleaned up", "delete them or let them expire", *subject))
        spec = (vm.get("spec") or {}).get("template", {}).get("spec") or {}
        if spec.get("subdomain") or spec.get("hostname"):
            out.append(finding("warning", "DnsNameChanges",
                               f'VM "{name}" sets hostname/subdomain; its DNS name contains the namespace and '
                               f'changes to ...{ctx.dst}.svc', "update clients that use the old name", *subject))
    return out


def devices(ctx) -> List[dict]:
    out = []
    for name, node in ctx.graph.nodes.items():
        spec = ((node.vm.get("spec") or {}).get("template") or {}).get("spec") or {}
        for disk in ((spec.get("domain") or {}).get("devices") or {}).get("disks") or ():
            what = None
            if disk.get("shareable"):
                what = "a shareable disk"
            elif "lun" in disk:
                what = "a LUN disk"
            if what:
                out.append(finding("error", "UnsupportedDevice",
                                   f'VM "{name}" has {what} ("{disk.get("name")}"); it cannot be copied safely',
                                   "detach it before the move and attach it again after",
                                   "VirtualMachine", name, ctx.src))
        for vol in spec.get("volumes") or ():
            if "hostDisk" in vol:
                out.append(finding("error", "UnsupportedDevice",
                                   f'VM "{name}" uses a hostDisk volume ("{vol.get("name")}") on a node\'s file system',
                                   "copy its data into a PVC first", "VirtualMachine", name, ctx.src))
    return out


def references(ctx) -> List[dict]:
    out = []
    for name, node in ctx.graph.nodes.items():
        for kind, ref, where in node.missing:
            if kind in ("NetworkAttachmentDefinition", "PersistentVolumeClaim"):
                continue   # reported by networks() and storage()
            out.append(finding("error", "MissingDependency",
                               f'VM "{name}" refers to {kind} "{ref}" ({where}), which does not exist in "{ctx.src}"',
                               "create it, or remove the reference from the VM", kind, ref, ctx.src))
    for (kind, scope), message in sorted(ctx.inv.unreadable.items()):
        ns = ctx.src if scope == SOURCE else ctx.dst if scope == TARGET else None
        out.append(finding("warning", "ListForbidden",
                           f"cannot list {kinds.by_kind(kind).resource}" + (f' in "{ns}"' if ns else "")
                           + f": {message}",
                           "ask for read access; until then the plan may miss dependencies or conflicts of that kind"))
    return out


def sharing(ctx) -> List[dict]:
    out, seen = [], set()
    for _name, node in ctx.graph.nodes.items():
        for kind, names in node.deps.items():
            for dep in names:
                staying = ctx.graph.staying_users(kind, dep)
                if staying and (kind, dep) not in seen:
                    seen.add((kind, dep))
                    out.append(finding("info", "SharedDependency",
                                       f'{kind} "{dep}" is also used by {_names(staying)} (not moving): it is '
                                       "copied and the original is kept", kind=kind, name=dep, namespace=ctx.src))
    return out


def services(ctx) -> List[dict]:
    out = []
    svcs = ctx.inv.by_name(kinds.SERVICE)
    selected = sorted({s for n in ctx.graph.nodes.values() for s in n.deps.get("Service", ())})
    if not ctx.spec.get("services", True):
        if selected:
            out.append(finding("info", "ServicesSkipped",
                               f"--no-services: {len(selected)} Service(s) selecting the VMs stay behind: "
                               + ", ".join(selected)))
        return out
    for name in selected:
        spec = (svcs.get(name) or {}).get("spec") or {}
        pinned = [p.get("nodePort") for p in spec.get("ports") or () if p.get("nodePort")]
        lb_ip = spec.get("loadBalancerIP") or next(
            (v for k, v in ((svcs.get(name) or {}).get("metadata", {}).get("annotations") or {}).items()
             if k in _LB_IP_ANNOTATIONS), None)
        if spec.get("type") == "LoadBalancer" and lb_ip:
            out.append(finding("warning", "LoadBalancerIpPinned",
                               f'Service "{name}" asks for the load-balancer address {lb_ip}, which the source '
                               "Service keeps until cleanup: the copy waits for an address (or gets none) until then",
                               "delete the source Service before the move's cleanup if the address must follow, or "
                               "drop the pinned address from the copy", "Service", name, ctx.src))
        if spec.get("type") in ("NodePort", "LoadBalancer") or pinned:
            out.append(finding("warning", "ServiceAddressChanges",
                               f'Service "{name}" is {spec.get("type", "ClusterIP")}'
                               + (f" with node ports {', '.join(map(str, pinned))}" if pinned else "")
                               + "; the copy gets new node ports and a new external address while the source keeps "
                               "its own", "update clients and DNS records after the move; delete the source Service "
                               "first to reuse a fixed node port", "Service", name, ctx.src))
    for np in ctx.inv.of(kinds.NETWORKPOLICY):
        npname = np["metadata"]["name"]
        if not any(npname in n.deps.get("NetworkPolicy", ()) for n in ctx.graph.nodes.values()):
            continue
        rules = (np.get("spec") or {}).get("ingress", []) + (np.get("spec") or {}).get("egress", [])
        peers = [p for r in rules or () for p in (r.get("from") or []) + (r.get("to") or [])]
        if any("namespaceSelector" in p for p in peers):
            out.append(finding("warning", "NetworkPolicyNamespaceSelector",
                               f'NetworkPolicy "{npname}" selects peers by namespace; in "{ctx.dst}" the same '
                               "rule may admit different traffic", "review the copy after the move",
                               "NetworkPolicy", npname, ctx.src))
    return out


# Load-balancer implementations that pin an address by annotation (MetalLB, kube-vip); spec.loadBalancerIP is the
# deprecated core field (Kubernetes ServiceSpec field docs).
_LB_IP_ANNOTATIONS = ("metallb.universe.tf/loadBalancerIPs", "metallb.io/loadBalancerIPs",
                      "kube-vip.io/loadbalancerIPs")


def run_strategies(ctx) -> List[dict]:
    """KubeVirt starts a RerunOnFailure VM whose recorded status.runStrategy differs from its spec
    (pkg/virt-controller/watch/vm/vm.go shouldStartRerunOnFailure), which is the case for every VM created or switched
    to RerunOnFailure: a stopped source VM cannot arrive stopped with that strategy."""
    out = []
    for name, entry in ctx.vm_entries.items():
        if entry["targetRunStrategy"] == "RerunOnFailure" and not entry["running"]:
            out.append(finding("warning", "TargetWillStart",
                               f'VM "{name}" is stopped, but KubeVirt starts a VM as soon as its run strategy '
                               "becomes RerunOnFailure: the target will start",
                               "plan with --target-run-strategy Halted to keep it stopped, and set RerunOnFailure "
                               "when it may run", "VirtualMachine", name, ctx.src))
    return out


def versions(ctx) -> List[dict]:
    out = []
    kv = ctx.inv.of(kinds.KUBEVIRT, CLUSTER)
    cdi = ctx.inv.of(kinds.CDI, CLUSTER)
    kv_version = ((kv[0].get("status") or {}).get("observedKubeVirtVersion") if kv else None)
    cdi_version = ((cdi[0].get("status") or {}).get("observedVersion") if cdi else None)
    if kv_version and _older(kv_version, (1, 3)):
        out.append(finding("warning", "KubeVirtTooOld",
                           f"KubeVirt {kv_version} does not let a VM adopt prepared claims (needs v1.3 or later)",
                           "upgrade KubeVirt, or check each moved VM's DataVolumes after the move"))
    if kv_version and not _older(kv_version, (1, 7)):
        # Since v1.7 KubeVirt gives a VM created without firmware.serial a random one. A VM with none in its spec
        # predates that, so its guest has never seen a serial; the copy will get a new one whatever we do.
        for name, node in ctx.graph.nodes.items():
            firmware = ((((node.vm.get("spec") or {}).get("template") or {}).get("spec") or {}).get("domain")
                        or {}).get("firmware") or {}
            if not firmware.get("serial"):
                out.append(finding("warning", "SerialWillChange",
                                   f'VM "{name}" has no firmware serial; KubeVirt {kv_version} gives the moved VM a '
                                   "random one, which its guest sees as a new SMBIOS serial",
                                   "expect software that keys on the serial (licensing, inventory) to notice; "
                                   "set spec.template.spec.domain.firmware.serial on the source first to choose it",
                                   "VirtualMachine", name, ctx.src))
    if cdi_version and ctx.spec["strategy"] == "clone" and _older(cdi_version, (1, 59)):
        out.append(finding("warning", "CdiTooOld",
                           f"CDI {cdi_version} has no claim adoption (needs v1.59 or later)",
                           "upgrade CDI"))
    return out


def _older(version: str, minimum) -> bool:
    parts = []
    for piece in version.lstrip("v").split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            return False
        parts.append(int(digits))
    return tuple(parts) < tuple(minimum)


RULES = (target_namespace, name_conflicts, access, quota, storage, transfer, networks, macs, dry_run, vm_state,
         run_strategies, devices, references, sharing, services, versions)
# What `assess` can judge from the source namespace alone.
SOURCE_RULES = (storage, vm_state, devices, references, sharing, versions)


def attribute(graph, findings) -> List[dict]:
    """Name the moving VMs each finding concerns (`vms`), from its subject: the VM, one of its disks or
    dependencies. Findings about the move as a whole name none and concern every VM."""
    owners: Dict[tuple, List[str]] = {}
    for name, node in graph.nodes.items():
        owners.setdefault(("VirtualMachine", name), []).append(name)
        for disk in node.disks:
            for kind in ("PersistentVolumeClaim", "DataVolume"):
                owners.setdefault((kind, disk.claim), []).append(name)
        for kind, names in node.deps.items():
            for dep in names:
                owners.setdefault((kind, dep), []).append(name)
        for kind, ref, _where in node.missing:
            owners.setdefault((kind, ref), []).append(name)
        for _ns, nad in node.external_nads:
            owners.setdefault(("NetworkAttachmentDefinition", nad), []).append(name)
    for f in findings:
        subject = f.get("subject") or {}
        vms = owners.get((subject.get("kind"), subject.get("name")))
        if vms:
            f["vms"] = sorted(set(vms))
    return findings


def run(inv, graph, plan) -> List[dict]:
    """Every finding, errors first; also stored in plan['status']['findings'] with counts in the summary."""
    ctx = Context(inv, graph, plan)
    found: List[dict] = []
    for rule in RULES:
        found += rule(ctx)
    attribute(graph, found)
    found.sort(key=lambda f: _ORDER[f["severity"]])
    plan["status"]["findings"] = found
    summary = plan["status"]["summary"]
    for sev in SEVERITIES:
        summary[{"error": "errors", "warning": "warnings", "info": "infos"}[sev]] = sum(
            1 for f in found if f["severity"] == sev)
    return found


def _names(names) -> str:
    names = list(names)
    shown = ", ".join(f'"{n}"' for n in names[:3])
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ("VM " if len(names) == 1 else "VMs ") + shown + more


def _verb(names, one: str, several: str) -> str:
    """The verb that agrees with `_names(names)`: "VM "a" keeps its", "VMs "a", "b" keep their"."""
    return one if len(list(names)) == 1 else several


def _dedupe(items):
    seen, out = set(), []
    for f in items:
        key = (f["code"], f["message"])
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out

"""Rules about disks: storage classes, clone methods and their cost, volume transfer prerequisites."""

from typing import List

from ....kube import kinds
from ... import quantities
from .. import estimates
from ..inventory import CLUSTER, SOURCE
from .base import finding, vm_names


def storage(ctx) -> List[dict]:
    """The storage checks in order: the cluster's (CDI, readable classes), then per disk its claim, its sharing and
    its target class, then the --storage-class-map entries."""
    out = _cluster_storage(ctx)
    classes_known = (kinds.STORAGECLASS.kind, CLUSTER) not in ctx.inv.unreadable
    used_classes = set()
    for vm in ctx.vms:
        node = ctx.graph.nodes[vm["name"]]
        for disk, entry in zip(node.disks, vm["disks"]):
            used_classes.add(disk.storage_class or "")
            if disk.pvc is None:
                out += _claim_absent(ctx, vm["name"], disk)
                continue
            out += _claim_state(ctx, vm["name"], disk)
            if ctx.strategy != "transfer" and classes_known:
                out += _target_class(ctx, disk, entry)
    return out + _class_map(ctx, used_classes)


def _cluster_storage(ctx) -> List[dict]:
    """CDI must serve DataVolumes for a clone; StorageClasses the user may not list (the namespace `view`/`edit`
    roles cannot) are said once to be unchecked, never reported missing."""
    out = []
    if ctx.strategy == "clone" and not ctx.inv.serves(kinds.DATAVOLUME):
        out.append(finding("error", "CdiMissing", "the cluster does not serve DataVolumes (CDI is not installed); "
                           "--strategy clone needs CDI",
                           "install CDI, or use --strategy transfer (cluster-admin)"))
    if (kinds.STORAGECLASS.kind, CLUSTER) in ctx.inv.unreadable and ctx.strategy == "clone":
        out.append(finding("warning", "StorageClassUnknown",
                           "StorageClasses cannot be read with these credentials: whether each target class exists "
                           "and which clone method CDI will use were not checked",
                           "ask for read access to storageclasses.storage.k8s.io and storageprofiles.cdi.kubevirt.io, "
                           "or have an administrator run the plan"))
    return out


def _claim_absent(ctx, vm_name: str, disk) -> List[dict]:
    """A disk with no claim: unreadable (the user may not list claims), missing, or its DataVolume not done yet."""
    subject = ("PersistentVolumeClaim", disk.claim, ctx.src)
    claims_unreadable = ctx.inv.unreadable.get((kinds.PVC.kind, SOURCE))
    if claims_unreadable is not None:
        return [finding("error", "ListForbidden",
                        f'claim "{disk.claim}" of VM "{vm_name}" could not be read: {claims_unreadable}',
                        "ask for list access to persistentvolumeclaims in "
                        f'"{ctx.src}" (kubectl auth can-i list persistentvolumeclaims -n {ctx.src}), '
                        "then assess again", *subject)]
    if disk.dv is None:
        return [finding("error", "ClaimMissing", f'VM "{vm_name}" uses claim "{disk.claim}", which does not exist',
                        "create or restore the claim, or remove the volume from the VM", *subject)]
    return [finding("error", "DataVolumeNotReady",
                    f'DataVolume "{disk.claim}" of VM "{vm_name}" has no claim yet ({datavolume_activity(disk.dv)})',
                    "wait until the DataVolume has succeeded, then plan again", "DataVolume", disk.claim, ctx.src)]


def _claim_state(ctx, vm_name: str, disk) -> List[dict]:
    """An existing claim: Bound, its DataVolume succeeded, and used by no VM that stays."""
    out = []
    subject = ("PersistentVolumeClaim", disk.claim, ctx.src)
    phase = (disk.pvc.get("status") or {}).get("phase")
    if phase != "Bound":
        out.append(finding("error", "ClaimNotBound", f'claim "{disk.claim}" of VM "{vm_name}" is {phase or "not bound"}',
                           "wait until it is Bound (kubectl get pvc), then plan again", *subject))
    if disk.dv is not None and (disk.dv.get("status") or {}).get("phase") not in (None, "Succeeded"):
        out.append(finding("error", "DataVolumeNotReady",
                           f'DataVolume "{disk.claim}" of VM "{vm_name}" is {datavolume_activity(disk.dv)}, '
                           "not Succeeded", "wait until the import or clone has finished, then plan again",
                           "DataVolume", disk.claim, ctx.src))
    staying = ctx.graph.claim_staying_users(disk.claim)
    if staying:
        out.append(finding("error", "DiskShared", f'claim "{disk.claim}" is also used by {vm_names(staying)}, which '
                           "is not moving", "move those VMs in the same plan", *subject))
    return out


def _target_class(ctx, disk, entry) -> List[dict]:
    """A clone's target class: known, with a clone method; a host-assisted copy is slow and says how slow."""
    subject = ("PersistentVolumeClaim", disk.claim, ctx.src)
    target_class = entry.get("targetStorageClass")
    if entry["method"] == "unknown":
        code = "StorageClassMissing" if target_class else "NoStorageClass"
        return [finding("error", code, f'claim "{disk.claim}": {entry["methodReason"]}',
                        "create the StorageClass, or map it with --storage-class-map OLD=NEW", *subject)]
    if entry["method"] == "copy":
        return [finding("warning", "SlowClone",
                        f'claim "{disk.claim}" ({quantities.human_bytes(disk.size)}) will be copied '
                        f'through a pod: {entry["methodReason"]}; about '
                        f'{estimates.human_seconds(entry["estimateSeconds"])}',
                        "map to a class on the same CSI driver with snapshot or clone support "
                        "(--storage-class-map), or use --strategy transfer", *subject)]
    if target_class and target_class not in ctx.inv.by_name(kinds.STORAGECLASS, CLUSTER):
        return [finding("error", "StorageClassMissing", f'StorageClass "{target_class}" does not exist',
                        "create it or map it with --storage-class-map", *subject)]
    return []


def _class_map(ctx, used_classes) -> List[dict]:
    """--storage-class-map entries that do nothing: with a transfer, or naming a class no moving disk uses."""
    out = []
    for old in sorted(ctx.move_plan.storage_class_map):
        if ctx.strategy == "transfer":
            return [finding("warning", "StorageClassMapIgnored",
                            "--storage-class-map has no effect with --strategy transfer: a rebound volume "
                            "keeps its class", "use --strategy clone to change storage classes")]
        if old not in used_classes:
            out.append(finding("warning", "StorageClassMapUnused",
                               f'--storage-class-map names "{old}", which no moving disk uses',
                               "check the class names with 'kubectl get pvc -n " + ctx.src + "'"))
    return out


# What a DataVolume in each CDI phase is doing (CDI api/pkg/apis/core/v1beta1 types.go DataVolumePhase).
_ACTIVITY = (("Import", "still importing"), ("Upload", "waiting for an upload"), ("Clone", "still cloning"),
             ("SmartClone", "still cloning"), ("CSIClone", "still cloning"), ("Expansion", "still expanding"),
             ("NamespaceTransfer", "being transferred"), ("WaitForFirstConsumer", "waiting for a first consumer"),
             ("Pending", "pending"), ("PVCBound", "starting"), ("Paused", "paused"), ("Failed", "failed"))


def datavolume_activity(dv: dict) -> str:
    """'still importing (ImportInProgress, 5.53%)': what the DataVolume is doing, its phase and its progress."""
    status = dv.get("status") or {}
    phase = status.get("phase") or "Unknown"
    doing = next((words for prefix, words in _ACTIVITY if phase.startswith(prefix)), "")
    progress = status.get("progress")
    shown = phase + (f", {progress}" if progress and progress != "N/A" else "")
    return f"{doing} ({shown})" if doing else f"phase {shown}"


_CLONE_FINALIZERS = ("provisioner.storage.kubernetes.io/cloning-protection",
                     "snapshot.storage.kubernetes.io/pvc-as-source-protection")


def transfer(ctx) -> List[dict]:
    inv = ctx.inv
    out: List[dict] = []
    if ctx.strategy != "transfer":
        return out
    if inv.serves(kinds.OBJECTTRANSFER):
        out.append(finding("info", "ObjectTransferDeprecated",
                           "CDI ObjectTransfer is deprecated since CDI v1.61; run uses it while it is served"))
    pvs = inv.by_name(kinds.PV, CLUSTER)
    for vm in ctx.vms:
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

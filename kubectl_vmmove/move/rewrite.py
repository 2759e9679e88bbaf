"""Pure rewrites: a source object in, the object to create in the target namespace out. No I/O.

What is stripped and why is in kubevirt-move-mechanics.md §3.2–3.9 and §7: server-owned metadata, cross-namespace
owner references (the garbage collector would delete the copy), controller bookkeeping annotations, clone tokens
bound to the old object's uid, and the Service fields the cluster allocates. Identity (firmware UUID, serial,
MAC addresses) is kept on purpose: the guest's cloud-init instance-id and its NIC configuration depend on it.
"""

import hashlib
import json
import uuid
from typing import Any, Callable, Dict, Optional

from .quantities import to_bytes

MOVE_ID_LABEL = "vmmove.io/move-id"
SOURCE_ANNOTATION = "vmmove.io/source"
# On a source DataVolume whose claim a transfer took: the move that did it (CDI then waits for the claim to return).
PRE_POPULATED_BY = "vmmove.io/pre-populated-by"

_SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
                    "deletionGracePeriodSeconds", "managedFields", "selfLink", "ownerReferences", "finalizers",
                    "generateName")
# KubeMacPool's webhook stamps every VM it admits with this; its presence tells KubeMacPool runs.
KUBEMACPOOL_TIMESTAMP = "kubemacpool.io/transaction-timestamp"
_DROPPED_ANNOTATIONS = (
    "kubevirt.io/latest-observed-api-version",
    "kubevirt.io/storage-observed-api-version",
    KUBEMACPOOL_TIMESTAMP,
    "kubectl.kubernetes.io/last-applied-configuration",
    "restore.kubevirt.io/lastRestoreUID",
    "kubevirt.io/restore-run-strategy",
    # Clone tokens are bound to the uid of the object they were issued for; a copied one fails with
    # "token uid mismatch" (§1.2).
    "cdi.kubevirt.io/storage.clone.token",
    "cdi.kubevirt.io/storage.extended.clone.token",
)
_CLAIM_BINDING_ANNOTATIONS = (
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.kubernetes.io/selected-node",
    "cdi.kubevirt.io/storage.populatedFor",
    "cdi.kubevirt.io/objectTransferName",
)

# KubeVirt derives the default firmware UUID from the VM name only (firmware.go CalculateLegacyUUID).
_FIRMWARE_UUID_NAMESPACE = uuid.UUID("6a1a24a1-4061-4607-8bf4-a3963d0c5895")

def legacy_firmware_uuid(vm_name: str) -> str:
    return str(uuid.uuid5(_FIRMWARE_UUID_NAMESPACE, vm_name))


def _copy(value):
    # Objects come from JSON and go back to JSON; the C codec copies them several times faster than deepcopy.
    return json.loads(json.dumps(value))


def clean_metadata(metadata: Optional[dict], namespace: Optional[str], move_id: Optional[str] = None,
                   source: Optional[str] = None, drop_annotations=()) -> dict:
    """Metadata for a new object: server fields, owners, finalizers and bookkeeping annotations removed."""
    md = {k: _copy(v) for k, v in (metadata or {}).items() if k not in _SERVER_METADATA}
    if namespace is not None:
        md["namespace"] = namespace
    else:
        md.pop("namespace", None)
    annotations = {k: v for k, v in (md.get("annotations") or {}).items()
                   if k not in _DROPPED_ANNOTATIONS and k not in drop_annotations}
    labels = dict(md.get("labels") or {})
    if move_id:
        labels[MOVE_ID_LABEL] = move_id
    if source:
        annotations[SOURCE_ANNOTATION] = source
    if labels:
        md["labels"] = labels
    else:
        md.pop("labels", None)
    if annotations:
        md["annotations"] = annotations
    else:
        md.pop("annotations", None)
    return md


def without_move_id(obj):
    """A copy of `obj` with the move-id label taken out wherever labels are (metadata, templates), and empty label
    maps dropped: manifests written without a move (plan --manifests) name none."""
    if isinstance(obj, list):
        return [without_move_id(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, value in obj.items():
        if key == "labels" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != MOVE_ID_LABEL}
            if not value:
                continue
            out[key] = value
        else:
            out[key] = without_move_id(value)
    return out


def for_target(obj: dict, namespace: str, move_id: Optional[str] = None, source_namespace: Optional[str] = None,
               drop_annotations=()) -> dict:
    """The generic copy: same kind and body, clean metadata in `namespace`, no status."""
    out = {k: _copy(v) for k, v in obj.items() if k not in ("metadata", "status")}
    name = obj.get("metadata", {}).get("name")
    src = f"{source_namespace}/{name}" if source_namespace and name else None
    out["metadata"] = clean_metadata(obj.get("metadata"), namespace, move_id, src, drop_annotations)
    return out


def run_strategy_of(vm: dict) -> str:
    """`runStrategy`, or the deprecated `running` turned into one (true → Always, false/absent → Halted)."""
    spec = vm.get("spec") or {}
    if spec.get("runStrategy"):
        return spec["runStrategy"]
    return "Always" if spec.get("running") else "Halted"


def map_storage_class(name: Optional[str], storage_class_map: Dict[str, str]) -> Optional[str]:
    if name is None:
        return storage_class_map.get("", None) if "" in storage_class_map else None
    return storage_class_map.get(name, name)


def _fix_template_source(spec: dict, source_namespace: str) -> None:
    # An empty namespace in a template's clone source resolves against the VM's *new* namespace (§3.6).
    source = spec.get("source") or {}
    for key in ("pvc", "snapshot"):
        if isinstance(source.get(key), dict) and not source[key].get("namespace"):
            source[key]["namespace"] = source_namespace
    ref = spec.get("sourceRef")
    if isinstance(ref, dict) and not ref.get("namespace"):
        ref["namespace"] = source_namespace


def _map_claim_class(claim_spec: dict, storage_class_map) -> None:
    if not isinstance(claim_spec, dict) or not storage_class_map:
        return
    mapped = map_storage_class(claim_spec.get("storageClassName"), storage_class_map)
    if mapped is not None:
        claim_spec["storageClassName"] = mapped


def vm_for_target(vm: dict, namespace: str, *, move_id: Optional[str] = None, source_namespace: str,
                  run_strategy: Optional[str] = "Halted", storage_class_map: Optional[Dict[str, str]] = None,
                  new_macs: bool = False) -> dict:
    """The VirtualMachine to create in the target.

    `run_strategy` None keeps the source's (normalised); `run` passes Halted and starts the VM once its disks are
    ready. Firmware UUID, serial and MACs are kept (`new_macs` drops the MACs so KubeMacPool allocates new ones).
    """
    out = for_target(vm, namespace, move_id, source_namespace)
    name = out["metadata"]["name"]
    spec = out.setdefault("spec", {})
    spec.pop("running", None)
    spec["runStrategy"] = run_strategy or run_strategy_of(vm)
    _pin_revisions(spec, vm)
    templates = [_dv_template_for_target(tpl, source_namespace, storage_class_map or {})
                 for tpl in spec.get("dataVolumeTemplates") or ()]
    if templates:
        spec["dataVolumeTemplates"] = templates
    template = spec.setdefault("template", {})
    tmd = template.get("metadata")
    if isinstance(tmd, dict):
        tmd.pop("creationTimestamp", None)
        if not tmd:
            template.pop("metadata")
    tspec = template.setdefault("spec", {})
    domain = tspec.setdefault("domain", {})
    firmware = domain.setdefault("firmware", {})
    if not firmware.get("uuid"):
        # Without it a v1.6+ mutator would assign a random identity; this is the value the guest has seen so far.
        firmware["uuid"] = legacy_firmware_uuid(vm["metadata"]["name"] if vm.get("metadata") else name)
    _retarget_networks(tspec, source_namespace, namespace)
    if new_macs:
        for iface in (domain.get("devices") or {}).get("interfaces") or ():
            iface.pop("macAddress", None)
    return out


def _pin_revisions(spec: dict, vm: dict) -> None:
    """Name the source's instance type and preference revisions: they are copied with the VM, and naming them
    keeps the exact sizing the VM was created with."""
    for key in ("instancetype", "preference"):
        matcher = spec.get(key)
        if isinstance(matcher, dict) and not matcher.get("revisionName"):
            ref = ((vm.get("status") or {}).get(f"{key}Ref") or {}).get("controllerRevisionRef") or {}
            if ref.get("name"):
                matcher["revisionName"] = ref["name"]


def _dv_template_for_target(tpl: dict, source_ns: str, storage_class_map: Dict[str, str]) -> dict:
    """A dataVolumeTemplate for the target: marked pre-populated (the claim is in place before the VM exists, so CDI
    must neither import nor clone again, nor authorise a clone against the golden-image namespace, §3.6), its
    source fixed and its storage class mapped."""
    tpl = _copy(tpl)
    tpl_name = (tpl.get("metadata") or {}).get("name")
    md = clean_metadata(tpl.get("metadata"), None)
    annotations = dict(md.get("annotations") or {})
    annotations["cdi.kubevirt.io/storage.prePopulated"] = tpl_name
    md["annotations"] = annotations
    tpl["metadata"] = md
    tpl.pop("status", None)
    tspec = tpl.setdefault("spec", {})
    _fix_template_source(tspec, source_ns)
    _map_claim_class(tspec.get("storage"), storage_class_map)
    _map_claim_class(tspec.get("pvc"), storage_class_map)
    return tpl


def _retarget_networks(tspec: dict, source_ns: str, namespace: str) -> None:
    """An explicit `<source>/<nad>` would keep the VM on the source namespace's NAD, which the move copies and
    cleanup deletes; the copy in the target is the one to use (KubeVirt pkg/network/multus/nad.go)."""
    for net in tspec.get("networks") or ():
        multus = net.get("multus") if isinstance(net, dict) else None
        ref = multus.get("networkName") if isinstance(multus, dict) else None
        if isinstance(multus, dict) and isinstance(ref, str) and ref.startswith(source_ns + "/"):
            multus["networkName"] = namespace + ref[len(source_ns):]


def datavolume_for_clone(pvc: dict, namespace: str, *, source_namespace: str, move_id: Optional[str] = None,
                         storage_class: Optional[str] = None, labels: Optional[dict] = None,
                         source_dv: Optional[dict] = None) -> dict:
    """A DataVolume in the target that clones the source claim into a claim of the same name (§1.1, §1.4).

    The claim is described with the `pvc` API, not `storage`: CDI takes a `pvc` spec verbatim, while a `storage`
    spec with a size on a Filesystem claim is inflated by the filesystem overhead (6% by default; CDI
    pkg/controller/datavolume/util.go renderPvcSpecVolumeSize → InflateSizeWithOverhead). The copy would then be
    larger than its source (and grow again with every move), and a class without volume expansion would make CDI
    fall back to a host-assisted copy (NoVolumeExpansion). The source's volumeMode and accessModes are repeated
    so that CDI does not take the StorageProfile's first pair (a different volumeMode forces a host copy too).

    The labels and annotations the user gave the source DataVolume (`source_dv`) are carried over; CDI's and
    KubeVirt's bookkeeping is not (user_metadata)."""
    md = pvc["metadata"]
    spec = pvc.get("spec") or {}
    capacity = ((pvc.get("status") or {}).get("capacity") or {}).get("storage") or \
        ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    storage: Dict[str, Any] = {"resources": {"requests": {"storage": capacity}}} if capacity else {"resources": {}}
    storage["accessModes"] = list(spec.get("accessModes") or ("ReadWriteOnce",))
    storage["volumeMode"] = spec.get("volumeMode") or "Filesystem"
    if storage_class is not None:
        storage["storageClassName"] = storage_class
    kept_labels, kept_annotations = user_metadata(source_dv)
    out_labels = dict(kept_labels, **(labels or {}))
    if move_id:
        out_labels["vmmove.io/move-id"] = move_id
    annotations = {
        **kept_annotations,
        SOURCE_ANNOTATION: f"{source_namespace}/{md['name']}",
        # The VM is created Halted, so nothing consumes the claim; do not wait for a first consumer.
        "cdi.kubevirt.io/storage.bind.immediate.requested": "true",
    }
    dv: Dict[str, Any] = {
        "apiVersion": "cdi.kubevirt.io/v1beta1",
        "kind": "DataVolume",
        "metadata": {"name": md["name"], "namespace": namespace, "annotations": annotations},
        "spec": {"source": {"pvc": {"namespace": source_namespace, "name": md["name"]}}, "pvc": storage},
    }
    if out_labels:
        dv["metadata"]["labels"] = out_labels
    content_type = (md.get("annotations") or {}).get("cdi.kubevirt.io/storage.contentType")
    if content_type in ("kubevirt", "archive"):
        dv["spec"]["contentType"] = content_type
    return dv


def pvc_for_transfer(pvc: dict, namespace: str, *, source_namespace: str, move_id: Optional[str] = None,
                     labels: Optional[dict] = None) -> dict:
    """The claim that takes over the source claim's PersistentVolume (the rebind path, §2.1–2.2)."""
    out = for_target(pvc, namespace, move_id, source_namespace, drop_annotations=_CLAIM_BINDING_ANNOTATIONS)
    spec = out.setdefault("spec", {})
    spec.pop("dataSource", None)
    spec.pop("dataSourceRef", None)
    volume = (pvc.get("spec") or {}).get("volumeName")
    if volume:
        spec["volumeName"] = volume
    # A claim binds to a PV only with the same class; an absent class would pick up the default one.
    spec["storageClassName"] = (pvc.get("spec") or {}).get("storageClassName") or ""
    if labels:
        out["metadata"].setdefault("labels", {}).update(labels)
    return out


def service_for_target(svc: dict, namespace: str, *, move_id: Optional[str] = None,
                       source_namespace: Optional[str] = None) -> dict:
    """A Service without the addresses and ports the cluster allocated (§7); headless stays headless."""
    out = for_target(svc, namespace, move_id, source_namespace)
    spec = out.setdefault("spec", {})
    headless = spec.get("clusterIP") == "None"
    spec.pop("clusterIP", None)
    spec.pop("clusterIPs", None)
    if headless:
        spec["clusterIP"] = "None"
    spec.pop("healthCheckNodePort", None)
    for port in spec.get("ports") or ():
        port.pop("nodePort", None)
    return out


def nad_for_target(nad: dict, namespace: str, *, source_namespace: str, move_id: Optional[str] = None) -> dict:
    """A NetworkAttachmentDefinition whose CNI config names the target instead of the source namespace (§3.8)."""
    out = for_target(nad, namespace, move_id, source_namespace)
    config = (out.get("spec") or {}).get("config")
    if isinstance(config, str) and config.strip():
        try:
            parsed = json.loads(config)
        except ValueError:
            return out
        if rewrite_nad_names(parsed, source_namespace, namespace):
            out["spec"]["config"] = json.dumps(parsed, separators=(",", ":"))
    return out


def rewrite_nad_names(node, old_ns, new_ns) -> bool:
    changed = False
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "netAttachDefName" and isinstance(value, str) and value.startswith(old_ns + "/"):
                node[key] = new_ns + value[len(old_ns):]
                changed = True
            else:
                changed = rewrite_nad_names(value, old_ns, new_ns) or changed
    elif isinstance(node, list):
        for item in node:
            changed = rewrite_nad_names(item, old_ns, new_ns) or changed
    return changed


def secret_for_target(secret: dict, namespace: str, *, source_namespace: str, move_id: Optional[str] = None) -> dict:
    """The Secret copy `run` creates (read at run time; plans never hold its data)."""
    return for_target(secret, namespace, move_id, source_namespace)


def configmap_for_target(cm: dict, namespace: str, *, source_namespace: str, move_id: Optional[str] = None) -> dict:
    return for_target(cm, namespace, move_id, source_namespace)


def serviceaccount_for_target(sa: dict, namespace: str, *, source_namespace: str,
                              move_id: Optional[str] = None) -> dict:
    """A ServiceAccount without its token Secrets: tokens are bound to the account's namespace and uid."""
    out = for_target(sa, namespace, move_id, source_namespace)
    out.pop("secrets", None)
    return out


def networkpolicy_for_target(np: dict, namespace: str, *, source_namespace: str,
                             move_id: Optional[str] = None) -> dict:
    return for_target(np, namespace, move_id, source_namespace)


def instancetype_for_target(obj: dict, namespace: str, *, source_namespace: str,
                            move_id: Optional[str] = None) -> dict:
    """A namespaced VirtualMachineInstancetype or VirtualMachinePreference."""
    return for_target(obj, namespace, move_id, source_namespace)


def controller_revision_for_target(cr: dict, namespace: str, *, source_namespace: str,
                                   move_id: Optional[str] = None) -> dict:
    """An instancetype/preference revision; `run` gives it the new VM as owner once the VM exists (§3.7)."""
    return for_target(cr, namespace, move_id, source_namespace)


def namespace_manifest(name: str, move_id: Optional[str] = None, labels: Optional[dict] = None) -> dict:
    md: Dict[str, Any] = {"name": name}
    all_labels = dict(labels or {})
    if move_id:
        all_labels[MOVE_ID_LABEL] = move_id
    if all_labels:
        md["labels"] = all_labels
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": md}


# The function that turns each dependency kind into its target copy.
FOR_KIND: Dict[str, Callable[..., dict]] = {
    "Secret": secret_for_target,
    "ConfigMap": configmap_for_target,
    "ServiceAccount": serviceaccount_for_target,
    "NetworkAttachmentDefinition": nad_for_target,
    "VirtualMachineInstancetype": instancetype_for_target,
    "VirtualMachinePreference": instancetype_for_target,
    "ControllerRevision": controller_revision_for_target,
    "NetworkPolicy": networkpolicy_for_target,
    "Service": service_for_target,
}


# Provenance: which objects a move made from which source objects.

def copied_from(obj: dict, namespace: str, name: str) -> bool:
    """Whether `obj` is a copy a move made of namespace/name (its `vmmove.io/source` annotation says so)."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return annotations.get(SOURCE_ANNOTATION) == f"{namespace}/{name}"


def data_digest(obj: Optional[dict]) -> str:
    payload = {k: (obj or {}).get(k) or {} for k in ("data", "binaryData", "stringData")}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# Label and annotation keys that CDI and KubeVirt write on their own objects (import progress, clone bookkeeping,
# the creating VM's uid): they describe the source object, not what the user asked for.
_BOOKKEEPING_PREFIXES = ("cdi.kubevirt.io/", "kubevirt.io/created-by", "pv.kubernetes.io/", "volume.kubernetes.io/",
                         "volume.beta.kubernetes.io/")


def user_metadata(obj: Optional[dict]) -> tuple:
    """(labels, annotations) of `obj` that a user set: without the controllers' bookkeeping and this tool's own
    marks. What a move carries over, and what a plan records to notice later changes (metadata_digest)."""
    md = (obj or {}).get("metadata") or {}

    def kept(key: str) -> bool:
        return key not in _DROPPED_ANNOTATIONS and key not in (MOVE_ID_LABEL, SOURCE_ANNOTATION) and \
            not key.startswith(_BOOKKEEPING_PREFIXES)

    return ({k: v for k, v in (md.get("labels") or {}).items() if kept(k)},
            {k: v for k, v in (md.get("annotations") or {}).items() if kept(k)})


def metadata_digest(obj: Optional[dict]) -> str:
    """A short digest of the user's labels and annotations of `obj`: a label added to a VM changes neither its spec
    nor its generation, so a plan records this to notice it."""
    labels, annotations = user_metadata(obj)
    text = json.dumps({"labels": labels, "annotations": annotations}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------ live moves
# live-move.md §1.6, §1.7, §1.9: the receiver VM and its blank disks.
WAIT_AS_RECEIVER = "WaitAsReceiver"
RESTORE_RUN_STRATEGY = "kubevirt.io/restore-run-strategy"


def blank_datavolume(pvc: dict, namespace: str, *, source_namespace: str, move_id: Optional[str] = None,
                     storage_class: Optional[str] = None) -> dict:
    """A blank DataVolume of the source claim's name and at least its size (the larger of request and capacity,
    as Forklift does for block claims), bound at once, that a live migration fills (live-move.md §1.9)."""
    dv = datavolume_for_clone(pvc, namespace, source_namespace=source_namespace, move_id=move_id,
                              storage_class=storage_class)
    dv["spec"]["source"] = {"blank": {}}
    dv["spec"].pop("contentType", None)
    spec = pvc.get("spec") or {}
    sizes = [((pvc.get("status") or {}).get("capacity") or {}).get("storage"),
             ((spec.get("resources") or {}).get("requests") or {}).get("storage")]
    known = [s for s in sizes if s]
    if known:
        dv["spec"]["pvc"]["resources"] = {"requests": {"storage": max(known, key=to_bytes)}}
    return dv


def receiver_vm(vm: dict, namespace: str, *, move_id: Optional[str] = None, source_namespace: str,
                storage_class_map: Optional[Dict[str, str]] = None) -> dict:
    """The target VM of a live move: the source's identity (firmware UUID, serial, MACs), `WaitAsReceiver`, and the
    annotation KubeVirt restores the run strategy from once the migration completes (live-move.md §1.6, §1.7).
    Its dataVolumeTemplates are dropped: KubeVirt would create (import or clone) any template DV that does not exist
    yet, and the disks are the blank DataVolumes the move creates first under the same names."""
    out = vm_for_target(vm, namespace, move_id=move_id, source_namespace=source_namespace,
                        run_strategy=WAIT_AS_RECEIVER, storage_class_map=storage_class_map)
    out["spec"].pop("dataVolumeTemplates", None)
    annotations = out["metadata"].setdefault("annotations", {})
    annotations[RESTORE_RUN_STRATEGY] = run_strategy_of(vm)
    return out

"""The dependency graph of each VM, built from an Inventory with no API calls.

Every reference a VirtualMachine can make to a namespaced object is found here (kubevirt-move-mechanics.md §3.5,
§3.7, §4.1, §7; peer-tools.md §8). References are computed for *every* VM of the source namespace, so a
dependency also used by a VM that is not moving is known to be shared: it is copied and the original stays.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from ...kube import kinds
from .. import label_selectors as selectors
from .. import quantities
from .inventory import SOURCE

STATE_LABEL = "persistent-state-for"
STATE_PREFIX = "persistent-state-for-"
HOOK_SIDECARS = "hooks.kubevirt.io/hookSidecars"

# Kinds a VM refers to by name, in the order their copies are created (a VM is created after all of them).
DEPENDENCY_KINDS = ("ServiceAccount", "Secret", "ConfigMap", "NetworkAttachmentDefinition",
                    "VirtualMachineInstancetype", "VirtualMachinePreference", "ControllerRevision")
SELECTING_KINDS = ("Service", "NetworkPolicy")


@dataclass
class Disk:
    """One claim the VM needs in the target."""
    claim: str
    role: str                      # dataVolumeTemplate | dataVolume | persistentVolumeClaim | hotplug | memoryDump
                                   # | persistentState
    volume: str = ""               # the volume name in the VM spec ("" for the persistent-state claim)
    datavolume: str = ""           # the DataVolume of the same name, when there is (or will be) one
    pvc: Optional[dict] = None
    dv: Optional[dict] = None
    template: Optional[dict] = None
    size: int = 0
    storage_class: Optional[str] = None
    volume_mode: str = "Filesystem"
    access_modes: Tuple[str, ...] = ()

    @property
    def exists(self) -> bool:
        return self.pvc is not None


@dataclass
class VMNode:
    vm: dict
    disks: List[Disk] = field(default_factory=list)
    deps: Dict[str, List[str]] = field(default_factory=dict)        # kind -> names in the source namespace
    missing: List[Tuple[str, str, str]] = field(default_factory=list)  # (kind, name, where it is referenced)
    external_nads: List[Tuple[str, str]] = field(default_factory=list)  # NADs named ns/name in other namespaces
    multus_networks: List[str] = field(default_factory=list)        # every multus networkName as written
    cluster_instancetypes: List[Tuple[str, str]] = field(default_factory=list)  # (kind, name), nothing to copy
    snapshots: List[str] = field(default_factory=list)
    exports: List[str] = field(default_factory=list)
    migrations: List[str] = field(default_factory=list)             # VirtualMachineInstanceMigrations not finished
    instance_only_volumes: List[Tuple[str, str]] = field(default_factory=list)  # (volume, claim) hot-plugged into
                                                                    # the running instance, not in the VM spec

    @property
    def name(self) -> str:
        return self.vm["metadata"]["name"]

    @property
    def template_labels(self) -> dict:
        return ((self.vm.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}

    @property
    def total_size(self) -> int:
        return sum(d.size for d in self.disks)


@dataclass
class Graph:
    source: str
    nodes: Dict[str, VMNode]                       # the selected VMs, by name, in selection order
    users: Dict[Tuple[str, str], Set[str]]         # (kind, name) -> every VM of the namespace that uses it
    claim_users: Dict[str, Set[str]]               # claim name -> every VM of the namespace that mounts it

    def moving(self) -> List[str]:
        return list(self.nodes)

    def staying_users(self, kind, name) -> List[str]:
        return sorted(self.users.get((kind, name), set()) - set(self.nodes))

    def moving_users(self, kind, name) -> List[str]:
        return [n for n in self.nodes if n in self.users.get((kind, name), set())]

    def is_shared(self, kind, name) -> bool:
        return bool(self.staying_users(kind, name))

    def claim_staying_users(self, claim) -> List[str]:
        return sorted(self.claim_users.get(claim, set()) - set(self.nodes))


# ---------------------------------------------------------------------------------------------- references


def _spec(vm) -> dict:
    return vm.get("spec") or {}


def _template_spec(vm) -> dict:
    return (_spec(vm).get("template") or {}).get("spec") or {}


def _name(ref) -> Optional[str]:
    return ref.get("name") if isinstance(ref, dict) else None


def named_references(vm) -> Dict[str, List[Tuple[str, str]]]:
    """kind -> [(name, where)] for every object the VM names (not the disks, not the selecting kinds)."""
    out: Dict[str, List[Tuple[str, str]]] = {k: [] for k in DEPENDENCY_KINDS}
    tspec = _template_spec(vm)

    def add(kind, name, where):
        if name and (name, where) not in out[kind]:
            out[kind].append((name, where))

    for vol in tspec.get("volumes") or ():
        vname = vol.get("name", "")
        for key in ("cloudInitNoCloud", "cloudInitConfigDrive"):
            ci = vol.get(key)
            if isinstance(ci, dict):
                add("Secret", _name(ci.get("secretRef")), f"volume {vname} {key}.secretRef")
                add("Secret", _name(ci.get("networkDataSecretRef")), f"volume {vname} {key}.networkDataSecretRef")
        sysprep = vol.get("sysprep")
        if isinstance(sysprep, dict):
            add("ConfigMap", _name(sysprep.get("configMap")), f"volume {vname} sysprep.configMap")
            add("Secret", _name(sysprep.get("secret")), f"volume {vname} sysprep.secret")
        if isinstance(vol.get("configMap"), dict):
            add("ConfigMap", vol["configMap"].get("name"), f"volume {vname}")
        if isinstance(vol.get("secret"), dict):
            add("Secret", vol["secret"].get("secretName"), f"volume {vname}")
        if isinstance(vol.get("serviceAccount"), dict):
            add("ServiceAccount", vol["serviceAccount"].get("serviceAccountName"), f"volume {vname}")
        if isinstance(vol.get("containerDisk"), dict):
            add("Secret", vol["containerDisk"].get("imagePullSecret"), f"volume {vname} containerDisk.imagePullSecret")
    add("ServiceAccount", tspec.get("serviceAccountName"), "spec.template.spec.serviceAccountName")
    for i, cred in enumerate(tspec.get("accessCredentials") or ()):
        for key in ("sshPublicKey", "userPassword"):
            src = ((cred.get(key) or {}).get("source") or {}).get("secret") or {}
            add("Secret", src.get("secretName"), f"accessCredentials[{i}].{key}")
    annotations = ((_spec(vm).get("template") or {}).get("metadata") or {}).get("annotations") or {}
    for name in _hook_configmaps(annotations.get(HOOK_SIDECARS)):
        add("ConfigMap", name, f"annotation {HOOK_SIDECARS}")
    for net in tspec.get("networks") or ():
        multus = net.get("multus")
        if isinstance(multus, dict) and multus.get("networkName") and "/" not in multus["networkName"]:
            add("NetworkAttachmentDefinition", multus["networkName"], f"network {net.get('name', '')}")
    for key, ns_kind in (("instancetype", "VirtualMachineInstancetype"), ("preference", "VirtualMachinePreference")):
        matcher = _spec(vm).get(key)
        if not isinstance(matcher, dict):
            continue
        if matcher.get("kind") == ns_kind and matcher.get("name"):
            add(ns_kind, matcher["name"], f"spec.{key}")
        revision = revision_name(vm, key)
        if revision:
            add("ControllerRevision", revision, f"spec.{key} revision")
    return out


def _hook_configmaps(text) -> List[str]:
    # The hook sidecar list is JSON inside an annotation; a malformed one names nothing we can find.
    if not text:
        return []
    try:
        hooks = json.loads(text)
    except (TypeError, ValueError):
        return []
    names = []
    for hook in hooks if isinstance(hooks, list) else ():
        cm = hook.get("configMap") if isinstance(hook, dict) else None
        if isinstance(cm, dict) and cm.get("name"):
            names.append(cm["name"])
    return names


def revision_name(vm, key) -> Optional[str]:
    """The ControllerRevision holding the VM's instancetype or preference: spec (≤ v1.4) or status (≥ v1.5)."""
    matcher = _spec(vm).get(key) or {}
    if matcher.get("revisionName"):
        return matcher["revisionName"]
    ref = (vm.get("status") or {}).get(f"{key}Ref") or {}
    return (ref.get("controllerRevisionRef") or {}).get("name")


def _vmi_id(name: str) -> str:
    # KubeVirt pkg/apimachinery/labels.go CalculateVirtualMachineInstanceID: names over 63 characters are cut to
    # 54 and suffixed with 8 hex digits of their SHA-1.
    if len(name) <= 63:
        return name
    import hashlib

    return f"{name[:54]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def launcher_labels(vm) -> Dict[str, str]:
    """The labels of the VM's virt-launcher pod, which Services and NetworkPolicies select: the template's labels
    plus those KubeVirt adds (pkg/virt-controller/services/template.go podLabels). `virtctl expose` selects on
    `vm.kubevirt.io/name` (v1.5, v1.6) or `vmi.kubevirt.io/id` (v1.7+), neither of which is in the VM spec.
    `kubevirt.io/created-by` (the VMI uid) is left out: it changes with every start."""
    labels = dict(((_spec(vm).get("template") or {}).get("metadata") or {}).get("labels") or {})
    name = vm["metadata"]["name"]
    hostname = _template_spec(vm).get("hostname") or name.split(".")[0][:63]
    labels.update({"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": hostname,
                   "vmi.kubevirt.io/id": _vmi_id(name)})
    return labels


def multus_networks(vm) -> List[str]:
    return [n["multus"]["networkName"] for n in _template_spec(vm).get("networks") or ()
            if isinstance(n.get("multus"), dict) and n["multus"].get("networkName")]


def claim_references(vm) -> List[Tuple[str, str, str, str]]:
    """(claim, role, volume, datavolume) for every claim the VM spec names, templates first."""
    out, seen = [], set()
    templates = {(t.get("metadata") or {}).get("name") for t in _spec(vm).get("dataVolumeTemplates") or ()}
    for t in _spec(vm).get("dataVolumeTemplates") or ():
        name = (t.get("metadata") or {}).get("name")
        if name and name not in seen:
            seen.add(name)
            out.append((name, "dataVolumeTemplate", _volume_for(vm, name), name))
    for vol in _template_spec(vm).get("volumes") or ():
        vname = vol.get("name", "")
        found = []
        if isinstance(vol.get("dataVolume"), dict):
            role = "hotplug" if vol["dataVolume"].get("hotpluggable") else "dataVolume"
            found.append((vol["dataVolume"].get("name"), role, True))
        if isinstance(vol.get("persistentVolumeClaim"), dict):
            pvc = vol["persistentVolumeClaim"]
            found.append((pvc.get("claimName"), "hotplug" if pvc.get("hotpluggable") else "persistentVolumeClaim",
                          False))
        if isinstance(vol.get("memoryDump"), dict):
            found.append((vol["memoryDump"].get("claimName"), "memoryDump", False))
        for claim, role, is_dv in found:
            if not claim or claim in seen:
                continue
            seen.add(claim)
            out.append((claim, "dataVolumeTemplate" if claim in templates else role, vname,
                        claim if is_dv or claim in templates else ""))
    return out


def _volume_for(vm, claim) -> str:
    for vol in _template_spec(vm).get("volumes") or ():
        for key, field_name in (("dataVolume", "name"), ("persistentVolumeClaim", "claimName")):
            if isinstance(vol.get(key), dict) and vol[key].get(field_name) == claim:
                return vol.get("name", "")
    return ""


def uses_namespaced_instancetypes(vm) -> bool:
    return any((_spec(vm).get(k) or {}).get("kind") in ("VirtualMachineInstancetype", "VirtualMachinePreference")
               for k in ("instancetype", "preference"))


def kinds_needed(vms, source: str = "") -> List[kinds.Kind]:
    """The source-namespace kinds worth one list call each, given what these VMs refer to."""
    need = [kinds.PVC, kinds.SERVICE, kinds.NETWORKPOLICY, kinds.VM_SNAPSHOT, kinds.VM_EXPORT]
    refs = {k: False for k in DEPENDENCY_KINDS}
    any_dv = False
    for vm in vms:
        for kind, names in named_references(vm).items():
            refs[kind] = refs[kind] or bool(names)
        any_dv = any_dv or any(r[1] in ("dataVolumeTemplate", "dataVolume") for r in claim_references(vm))
        any_dv = any_dv or any(isinstance(v.get("dataVolume"), dict) for v in _template_spec(vm).get("volumes") or ())
        # A network written `<source namespace>/<nad>` names a source NAD as well.
        refs["NetworkAttachmentDefinition"] = refs["NetworkAttachmentDefinition"] or any(
            n.startswith(source + "/") for n in multus_networks(vm) if source)
        refs["ControllerRevision"] = refs["ControllerRevision"] or bool(
            _spec(vm).get("instancetype") or _spec(vm).get("preference"))
    if any_dv:
        need.insert(0, kinds.DATAVOLUME)
    for kind_name in DEPENDENCY_KINDS:
        if refs[kind_name]:
            need.append(kinds.by_kind(kind_name))
    return need


def has_instance(vm) -> bool:
    """Whether the VM may have a VirtualMachineInstance (KubeVirt sets status.created while one exists)."""
    status = vm.get("status") or {}
    return bool(status.get("created")) or status.get("printableStatus") in ("Running", "Migrating", "Paused",
                                                                              "Starting", "Stopping")


# VirtualMachineInstanceMigration phases after which nothing moves any more (KubeVirt api/core/v1 types.go).
MIGRATION_DONE = ("Succeeded", "Failed")


def unfinished_migrations(vmims) -> Dict[str, List[str]]:
    """VMI name -> the VirtualMachineInstanceMigrations of it that have not finished (pending, scheduling, running)."""
    out: Dict[str, List[str]] = {}
    for m in vmims:
        if (m.get("status") or {}).get("phase") not in MIGRATION_DONE and (m.get("spec") or {}).get("vmiName"):
            out.setdefault(m["spec"]["vmiName"], []).append(m["metadata"]["name"])
    return {k: sorted(v) for k, v in out.items()}


def instance_only_volumes(vm, vmi: Optional[dict]) -> List[Tuple[str, str]]:
    """(volume, claim) of the claims the running instance mounts that the VM spec does not name: hot-plugged
    without --persist (virtctl addvolume), they are in vmi.spec.volumes and status.volumeStatus only."""
    if vmi is None:
        return []
    in_vm = {claim for claim, *_ in claim_references(vm)}
    out = []
    volumes = list((vmi.get("spec") or {}).get("volumes") or ())
    for status in (vmi.get("status") or {}).get("volumeStatus") or ():
        claim = ((status.get("persistentVolumeClaimInfo") or {}).get("claimName")
                 if status.get("hotplugVolume") is not None else None)
        if claim:
            volumes.append({"name": status.get("name", ""), "persistentVolumeClaim": {"claimName": claim}})
    for vol in volumes:
        claim = (vol.get("dataVolume") or {}).get("name") or (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if claim and claim not in in_vm and (vol.get("name", ""), claim) not in out:
            out.append((vol.get("name", ""), claim))
    return out


# ---------------------------------------------------------------------------------------------- the graph


def _claim_facts(disk: Disk) -> None:
    pvc = disk.pvc
    if pvc is not None:
        spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
        disk.size = quantities.to_bytes((status.get("capacity") or {}).get("storage")) or \
            quantities.to_bytes(((spec.get("resources") or {}).get("requests") or {}).get("storage"))
        disk.storage_class = spec.get("storageClassName")
        disk.volume_mode = spec.get("volumeMode") or "Filesystem"
        disk.access_modes = tuple(spec.get("accessModes") or ())
        return
    source = disk.template or disk.dv
    if source is not None:
        spec = source.get("spec") or {}
        claim_spec = spec.get("storage") or spec.get("pvc") or {}
        disk.size = quantities.to_bytes(((claim_spec.get("resources") or {}).get("requests") or {}).get("storage"))
        disk.storage_class = claim_spec.get("storageClassName")
        disk.volume_mode = claim_spec.get("volumeMode") or "Filesystem"
        disk.access_modes = tuple(claim_spec.get("accessModes") or ())


def state_claims(inv, vm_name) -> List[dict]:
    """The persistent TPM/EFI state claims of a VM: labelled `persistent-state-for=<vm>`, or the legacy name."""
    return _state_index(inv).get(vm_name, [])


def _state_index(inv) -> Dict[str, List[dict]]:
    index: Dict[str, List[dict]] = {}
    for pvc in inv.of(kinds.PVC):
        md = pvc["metadata"]
        if md.get("deletionTimestamp"):
            continue
        owner = (md.get("labels") or {}).get(STATE_LABEL)
        if owner is None and md["name"].startswith(STATE_PREFIX):
            owner = md["name"][len(STATE_PREFIX):]
        if owner:
            index.setdefault(owner, []).append(pvc)
    return index


def _selector_index(services) -> Dict[Tuple[str, str], List[dict]]:
    """Services by each (key, value) of their selector: a VM only needs to test the Services sharing a label."""
    index: Dict[Tuple[str, str], List[dict]] = {}
    for svc in services:
        for pair in ((svc.get("spec") or {}).get("selector") or {}).items():
            index.setdefault(pair, []).append(svc)
    return index


@dataclass
class _Namespace:
    """The source namespace's objects, indexed once so that the graph of N VMs costs O(N), not O(N * objects)."""
    vms: Dict[str, dict]
    pvcs: Dict[str, dict]
    dvs: Dict[str, dict]
    present: Dict[str, Dict[str, dict]]               # dependency kind -> objects by name
    services_by_label: Dict[Tuple[str, str], List[dict]]
    state_by_vm: Dict[str, List[dict]]
    dvs_by_owner: Dict[str, List[dict]]               # owner uid -> DataVolumes
    snapshots: Dict[str, List[str]]                   # VM name -> VirtualMachineSnapshot names
    exports: Dict[str, List[str]]                     # VM name, or "pvc:<claim>" -> VirtualMachineExport names
    vmis: Dict[str, dict]
    migrations: Dict[str, List[str]]                  # VMI name -> unfinished migration names


def _index(inv) -> _Namespace:
    dvs = inv.by_name(kinds.DATAVOLUME)
    dvs_by_owner: Dict[str, List[dict]] = {}
    for dv in dvs.values():
        for ref in dv["metadata"].get("ownerReferences") or ():
            if ref.get("uid"):
                dvs_by_owner.setdefault(ref["uid"], []).append(dv)
    snapshots: Dict[str, List[str]] = {}
    for snap in inv.of(kinds.VM_SNAPSHOT):
        src = (snap.get("spec") or {}).get("source") or {}
        if src.get("kind", "VirtualMachine") == "VirtualMachine" and src.get("name"):
            snapshots.setdefault(src["name"], []).append(snap["metadata"]["name"])
    exports: Dict[str, List[str]] = {}
    for exp in inv.of(kinds.VM_EXPORT):
        src = (exp.get("spec") or {}).get("source") or {}
        if src.get("kind") == "VirtualMachine" and src.get("name"):
            exports.setdefault(src["name"], []).append(exp["metadata"]["name"])
        elif src.get("kind") == "PersistentVolumeClaim" and src.get("name"):
            exports.setdefault("pvc:" + src["name"], []).append(exp["metadata"]["name"])
    return _Namespace(vms=inv.by_name(kinds.VM), pvcs=inv.by_name(kinds.PVC), dvs=dvs,
                      present={k: inv.by_name(k) for k in DEPENDENCY_KINDS},
                      services_by_label=_selector_index(inv.of(kinds.SERVICE)), state_by_vm=_state_index(inv),
                      dvs_by_owner=dvs_by_owner, snapshots=snapshots, exports=exports,
                      vmis=inv.by_name(kinds.VMI), migrations=unfinished_migrations(inv.of(kinds.VMIM)))


def _usage(inv, ns: _Namespace) -> Tuple[Dict[Tuple[str, str], Set[str]], Dict[str, Set[str]], Dict[str, dict]]:
    """(users, claim_users, references by VM) over every VM of the namespace, moving or not."""
    users: Dict[Tuple[str, str], Set[str]] = {}
    claim_users: Dict[str, Set[str]] = {}
    refs_by_vm = {}
    for name, vm in ns.vms.items():
        refs = named_references(vm)
        refs_by_vm[name] = refs
        for kind, items in refs.items():
            for ref_name, _where in items:
                users.setdefault((kind, ref_name), set()).add(name)
        for claim, *_ in claim_references(vm):
            claim_users.setdefault(claim, set()).add(name)
        labels = launcher_labels(vm)
        candidates = {svc["metadata"]["name"]: svc for pair in labels.items()
                      for svc in ns.services_by_label.get(pair, ())}
        for svc_name, svc in candidates.items():
            if selectors.matches_service_selector((svc.get("spec") or {}).get("selector"), labels):
                users.setdefault(("Service", svc_name), set()).add(name)
        for np in inv.of(kinds.NETWORKPOLICY):
            if selectors.matches_label_selector((np.get("spec") or {}).get("podSelector", {}), labels):
                users.setdefault(("NetworkPolicy", np["metadata"]["name"]), set()).add(name)
    return users, claim_users, refs_by_vm


def build(inv, selected: List[str]) -> Graph:
    """The graph of the `selected` VMs (names, in order), with usage counted over every VM of the namespace."""
    ns = _index(inv)
    users, claim_users, refs_by_vm = _usage(inv, ns)
    nodes: Dict[str, VMNode] = {}
    for name in selected:
        node = VMNode(vm=ns.vms[name])
        _add_disks(node, ns)
        _add_named_dependencies(node, inv, ns, refs_by_vm[name])
        for kind in SELECTING_KINDS:
            names = sorted(n for (k, n), who in users.items() if k == kind and name in who)
            if names:
                node.deps[kind] = names
        _add_networks(node, inv, ns, users)
        node.deps = {k: v for k, v in node.deps.items() if v}
        node.cluster_instancetypes = _cluster_instancetypes(node.vm)
        node.migrations = ns.migrations.get(name, [])
        node.instance_only_volumes = instance_only_volumes(node.vm, ns.vmis.get(name))
        node.snapshots = sorted(ns.snapshots.get(name, []))
        node.exports = sorted(ns.exports.get(name, []) +
                              [e for d in node.disks for e in ns.exports.get("pvc:" + d.claim, [])])
        nodes[name] = node
    return Graph(source=inv.source, nodes=nodes, users=users, claim_users=claim_users)


def _add_disks(node: VMNode, ns: _Namespace) -> None:
    """The claims the VM spec names, then DataVolumes the VM owns but does not name, then its persistent state."""
    vm = node.vm
    templates = {(t.get("metadata") or {}).get("name"): t for t in _spec(vm).get("dataVolumeTemplates") or ()}
    for claim, role, volume, dv_name in claim_references(vm):
        disk = Disk(claim=claim, role=role, volume=volume, pvc=ns.pvcs.get(claim), template=templates.get(claim))
        dv = ns.dvs.get(claim)
        if dv is None:
            owner = _owner_dv(ns.pvcs.get(claim))
            dv = ns.dvs.get(owner) if owner else None
        if dv is not None or dv_name:
            disk.dv = dv
            disk.datavolume = (dv or {}).get("metadata", {}).get("name") or dv_name
        _claim_facts(disk)
        node.disks.append(disk)
        if disk.pvc is None and disk.dv is None and disk.template is None:
            node.missing.append(("PersistentVolumeClaim", claim, f"volume {volume}"))
    known = {d.claim for d in node.disks}
    uid = vm["metadata"].get("uid")
    for dv in ns.dvs_by_owner.get(uid, []) if uid else []:
        if dv["metadata"]["name"] not in known:
            disk = Disk(claim=dv["metadata"]["name"], role="dataVolume", dv=dv,
                        datavolume=dv["metadata"]["name"], pvc=ns.pvcs.get(dv["metadata"]["name"]))
            _claim_facts(disk)
            node.disks.append(disk)
            known.add(disk.claim)
    for pvc in ns.state_by_vm.get(node.name, []):
        if pvc["metadata"]["name"] not in known:
            disk = Disk(claim=pvc["metadata"]["name"], role="persistentState", pvc=pvc)
            _claim_facts(disk)
            node.disks.append(disk)
            known.add(disk.claim)


def _add_named_dependencies(node: VMNode, inv, ns: _Namespace, refs: Dict[str, List[Tuple[str, str]]]) -> None:
    """The objects the VM names, once each; one the user may list and that is not there is missing."""
    for kind, items in refs.items():
        names: List[str] = []
        for ref_name, where in items:
            if ref_name in names:
                continue
            readable = inv.listed(kind) or not inv.serves(kind)
            if readable and ref_name not in ns.present[kind]:
                node.missing.append((kind, ref_name, where))
                continue
            names.append(ref_name)
        if names:
            node.deps[kind] = names


def _add_networks(node: VMNode, inv, ns: _Namespace, users: Dict[Tuple[str, str], Set[str]]) -> None:
    """Multus networks written `<namespace>/<nad>`: one in the source namespace is a dependency (and counts as
    used by this VM), one in another namespace is external."""
    node.multus_networks = multus_networks(node.vm)
    nads = ns.present["NetworkAttachmentDefinition"]
    for net in node.multus_networks:
        if "/" not in net:
            continue
        nad_ns, nad = net.split("/", 1)
        if nad_ns != inv.source:
            node.external_nads.append((nad_ns, nad))
            continue
        node.deps.setdefault("NetworkAttachmentDefinition", [])
        if nad not in node.deps["NetworkAttachmentDefinition"]:
            # One the user may not list is kept as a dependency: preflight reports it as unreadable, not missing.
            if nad in nads or (kinds.NAD.kind, SOURCE) in inv.unreadable:
                node.deps["NetworkAttachmentDefinition"].append(nad)
            else:
                node.missing.append(("NetworkAttachmentDefinition", nad, f"network {net}"))
        users.setdefault(("NetworkAttachmentDefinition", nad), set()).add(node.name)


def _cluster_instancetypes(vm) -> List[Tuple[str, str]]:
    """(kind, name) of the cluster-wide instancetype and preference the VM uses: nothing to copy."""
    out = []
    for key in ("instancetype", "preference"):
        matcher = _spec(vm).get(key)
        if isinstance(matcher, dict) and matcher.get("name") and matcher.get("kind") not in (
                "VirtualMachineInstancetype", "VirtualMachinePreference"):
            default = "VirtualMachineClusterInstancetype" if key == "instancetype" else \
                "VirtualMachineClusterPreference"
            out.append((matcher.get("kind") or default, matcher["name"]))
    return out


def _owner_dv(pvc) -> Optional[str]:
    for ref in ((pvc or {}).get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("kind") == "DataVolume":
            return ref.get("name")
    return None


def dependency_entries(graph: Graph, node: VMNode) -> List[dict]:
    """The VM's dependencies as plan/assess entries: kind, name, shared (with staying VMs), and the staying users."""
    out = []
    for kind in DEPENDENCY_KINDS + SELECTING_KINDS:
        for name in node.deps.get(kind, ()):
            staying = graph.staying_users(kind, name)
            entry: Dict[str, Any] = {"kind": kind, "name": name}
            if staying:
                entry["sharedWith"] = staying
            out.append(entry)
    return out

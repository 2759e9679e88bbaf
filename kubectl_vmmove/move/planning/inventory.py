"""What the cluster holds for a move, read with one list call per kind and namespace, never one call per VM.

`Inventory` is plain data (lists of dicts keyed by kind and scope) so the graph, the preflight rules and the tests
work on it without a cluster. The `collect_*` functions fill it from the API in phases, each phase asking only for
the kinds the previous one showed are needed: a namespace whose VMs use no NADs never costs a NAD list.
"""

import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ...errors import UserError
from ...kube import kinds

log = logging.getLogger(__name__)

SOURCE, TARGET, CLUSTER = "source", "target", "cluster"

# Secret data never leaves the server: Secrets (and ConfigMaps, whose payload the plan does not need) are listed
# as metadata only; `run` reads the one object it copies at the time it copies it.
METADATA_ONLY = {kinds.SECRET.kind, kinds.CONFIGMAP.kind, kinds.POD.kind}   # pods: only their labels matter

# Namespaced kinds read across all namespaces (the KubeVirt CR lives in the operator's namespace).
LISTED_CLUSTER_WIDE = {kinds.KUBEVIRT.kind}

# limit=0 asks for the whole list in one response: the request count must not grow with the number of VMs.
ONE_PAGE = 0


@dataclass
class Inventory:
    source: str
    target: Optional[str] = None
    lists: Dict[Tuple[str, str], List[dict]] = field(default_factory=dict)
    unreadable: Dict[Tuple[str, str], str] = field(default_factory=dict)   # (kind, scope) -> server message
    not_served: set = field(default_factory=set)                           # kind names the cluster does not serve
    source_namespace: Optional[dict] = None
    target_namespace: Optional[dict] = None
    target_namespace_known: bool = True          # False when reading the target Namespace was forbidden
    external_nads: Dict[Tuple[str, str], Optional[dict]] = field(default_factory=dict)
    external_nads_unreadable: Dict[Tuple[str, str], str] = field(default_factory=dict)
    permissions: Dict[tuple, bool] = field(default_factory=dict)   # permissions.Permission.key -> allowed
    dry_run: Optional[dict] = None               # {"vm": name, "ok": bool, "message": str} from a server dry-run
    user: str = ""

    # ------------------------------------------------------------------ access
    def of(self, kind, scope=SOURCE) -> List[dict]:
        return self.lists.get((_kind_name(kind), scope), [])

    def put(self, kind, scope, items) -> None:
        self.lists[(_kind_name(kind), scope)] = list(items)

    def listed(self, kind, scope=SOURCE) -> bool:
        return (_kind_name(kind), scope) in self.lists

    def by_name(self, kind, scope=SOURCE) -> Dict[str, dict]:
        return {o["metadata"]["name"]: o for o in self.of(kind, scope)}

    def serves(self, kind) -> bool:
        return _kind_name(kind) not in self.not_served

    # ------------------------------------------------------------------ building without a cluster
    @classmethod
    def from_objects(cls, objects, source, target=None, not_served=(), target_exists=True, user="tester"):
        """An inventory from plain objects (tests, `--from-file` dumps): namespaced objects land in the source or
        target scope by their namespace, cluster-scoped ones in the cluster scope. Every kind counts as listed."""
        inv = cls(source=source, target=target, not_served=set(not_served), user=user)
        for kind in kinds.all_kinds():
            if kind.kind in inv.not_served:
                continue
            if kind.kind in LISTED_CLUSTER_WIDE:
                inv.put(kind, CLUSTER, [])
            elif kind.namespaced:
                inv.put(kind, SOURCE, [])
                if target:
                    inv.put(kind, TARGET, [])
            else:
                inv.put(kind, CLUSTER, [])
        for obj in objects:
            kind = kinds.by_kind(obj["kind"])
            if kind.kind in inv.not_served:
                continue
            if kind is kinds.NAMESPACE:
                name = obj["metadata"]["name"]
                if name == source:
                    inv.source_namespace = obj
                elif name == target:
                    inv.target_namespace = obj
                inv.lists[(kind.kind, CLUSTER)].append(obj)
                continue
            if not kind.namespaced or kind.kind in LISTED_CLUSTER_WIDE:
                inv.lists[(kind.kind, CLUSTER)].append(obj)
                continue
            ns = obj["metadata"].get("namespace") or source
            if ns == source:
                inv.lists[(kind.kind, SOURCE)].append(obj)
            elif ns == target:
                inv.lists[(kind.kind, TARGET)].append(obj)
            elif kind is kinds.NAD:
                inv.external_nads[(ns, obj["metadata"]["name"])] = obj
        if inv.source_namespace is None:
            inv.source_namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": source}}
        if target and inv.target_namespace is None and target_exists:
            inv.target_namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}}
        return inv


def _kind_name(kind) -> str:
    return kind if isinstance(kind, str) else kind.kind


# ---------------------------------------------------------------------------------------------- collection


def _list(api, inv, kind, scope, namespace=None, whole=False):
    """One list call, recorded; a kind the cluster does not serve or the user may not read is noted, not fatal."""
    from ...kube import errors as kerr

    if kind.kind in inv.not_served:
        return []
    if not api.serves(kind):
        inv.not_served.add(kind.kind)
        return []
    try:
        result = api.list(kind, namespace=namespace, metadata_only=kind.kind in METADATA_ONLY and not whole,
                          limit=ONE_PAGE)
    except kerr.NotFound:
        inv.not_served.add(kind.kind)
        return []
    except kerr.Forbidden as err:
        inv.unreadable[(kind.kind, scope)] = err.message
        return []
    inv.put(kind, scope, result.items)
    return result.items


def read_source_namespace(api, source) -> Optional[dict]:
    """The source Namespace, or None when the user may not read it. A missing one is the user's error."""
    from ...kube import errors as kerr

    try:
        return api.get(kinds.NAMESPACE, source)
    except kerr.NotFound as cause:
        raise UserError(f'namespace "{source}" not found; check the name with "kubectl get namespaces" '
                        "or choose another with -n") from cause
    except kerr.Forbidden:
        return None


def collect_vms(api, source) -> Inventory:
    """Phase 1: the source VMs, enough to check the selection before reading anything else."""
    from ...kube import errors as kerr

    inv = Inventory(source=source)
    if not api.serves(kinds.VM):
        raise UserError('the server does not serve virtualmachines.kubevirt.io; is KubeVirt installed? '
                        '("kubectl api-resources --api-group=kubevirt.io" lists what it serves)')
    try:
        inv.put(kinds.VM, SOURCE, api.list(kinds.VM, namespace=source, limit=ONE_PAGE).items)
    except kerr.Forbidden as err:
        raise UserError(f"{err.message}; assess and plan need to list VirtualMachines in the source namespace") \
            from err
    if inv.of(kinds.VM):
        inv.source_namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": source}}
    else:
        # A list in a namespace that does not exist is empty, not an error: ask, to tell a typo from "no VMs".
        inv.source_namespace = read_source_namespace(api, source)
    return inv


def collect_dependencies(api, inv, needed_kinds, whole=()) -> None:
    """Phase 2: one list per kind the source VMs can depend on (`needed_kinds` from graph.kinds_needed).
    Kinds named in `whole` are read in full instead of as metadata (ConfigMaps for `plan --manifests`)."""
    for kind in needed_kinds:
        _list(api, inv, kind, SOURCE, inv.source, whole=kind.kind in whole)


def collect_target(api, inv, target, kinds_to_check) -> None:
    """Phase 3: the target Namespace and the lists needed for name conflicts, MACs and quota."""
    from ...kube import errors as kerr

    inv.target = target
    try:
        inv.target_namespace = api.get(kinds.NAMESPACE, target)
    except kerr.NotFound:
        inv.target_namespace = None
        return
    except kerr.Forbidden:
        inv.target_namespace_known = False
        inv.target_namespace = None
    for kind in kinds_to_check:
        _list(api, inv, kind, TARGET, target)
    if inv.target_namespace is None and any(inv.of(k, TARGET) for k in kinds_to_check):
        # Could not read the Namespace object, but objects are there: it exists.
        inv.target_namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}}


def collect_cluster(api, inv, cluster_kinds) -> None:
    """Phase 4: cluster-scoped facts (storage, CDI and KubeVirt configuration, PersistentVolumes for transfer)."""
    for kind in cluster_kinds:
        _list(api, inv, kind, CLUSTER)


def collect_external_nads(api, inv, refs) -> None:
    """NADs named `ns/name` outside both namespaces: one get per distinct NAD (a handful), never per VM."""
    from ...kube import errors as kerr

    for ns, name in sorted(set(refs)):
        try:
            inv.external_nads[(ns, name)] = api.get(kinds.NAD, name, namespace=ns)
        except kerr.NotFound:
            inv.external_nads[(ns, name)] = None
        except kerr.Forbidden as err:
            inv.external_nads_unreadable[(ns, name)] = err.message


# ---------------------------------------------------------------------------------------------- all namespaces


def collect_vms_all_namespaces(api) -> Dict[str, Inventory]:
    """`assess -A` phase 1: one cluster-wide VM list, split into one inventory per namespace that holds VMs."""
    from ...kube import errors as kerr

    if not api.serves(kinds.VM):
        raise UserError('the server does not serve virtualmachines.kubevirt.io; is KubeVirt installed? '
                        '("kubectl api-resources --api-group=kubevirt.io" lists what it serves)')
    try:
        vms = api.list(kinds.VM, limit=ONE_PAGE).items
    except kerr.Forbidden as err:
        raise UserError(f"{err.message}; --all-namespaces needs to list VirtualMachines at the cluster scope: "
                        "assess one namespace at a time with -n NAMESPACE") from err
    out: Dict[str, Inventory] = {}
    for vm in vms:
        ns = vm["metadata"]["namespace"]
        inv = out.get(ns)
        if inv is None:
            inv = out[ns] = Inventory(source=ns, source_namespace={"apiVersion": "v1", "kind": "Namespace",
                                                                   "metadata": {"name": ns}})
            inv.put(kinds.VM, SOURCE, [])
        inv.lists[(kinds.VM.kind, SOURCE)].append(vm)
    return {ns: out[ns] for ns in sorted(out)}


def collect_dependencies_all_namespaces(api, invs: Dict[str, Inventory], needed_kinds) -> None:
    """`assess -A` phase 2: one cluster-wide list per kind, split by namespace, so the request count depends on
    neither the VMs nor the namespaces. A kind the user may not list cluster-wide is listed per namespace."""
    from ...kube import errors as kerr

    for kind in needed_kinds:
        if not api.serves(kind):
            for inv in invs.values():
                inv.not_served.add(kind.kind)
            continue
        try:
            items = api.list(kind, metadata_only=kind.kind in METADATA_ONLY, limit=ONE_PAGE).items
        except kerr.NotFound:
            for inv in invs.values():
                inv.not_served.add(kind.kind)
            continue
        except kerr.Forbidden:
            log.info("may not list %s at the cluster scope; listing them per namespace", kind.plural)
            for ns, inv in invs.items():
                _list(api, inv, kind, SOURCE, ns)
            continue
        split: Dict[str, List[dict]] = {ns: [] for ns in invs}
        for obj in items:
            bucket = split.get(obj["metadata"].get("namespace"))
            if bucket is not None:
                bucket.append(obj)
        for ns, inv in invs.items():
            inv.put(kind, SOURCE, split[ns])

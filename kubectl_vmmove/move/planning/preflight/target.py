"""Rules about the target namespace: it exists, names are free, the user may act there, quota fits."""

from typing import Dict, List

from ....kube import kinds
from ... import quantities, rewrite
from .. import permissions
from ..inventory import SOURCE, TARGET
from .base import dedupe, finding


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
    inv, out = ctx.inv, []
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
    return dedupe(out)


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

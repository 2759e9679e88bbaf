"""The permissions a plan needs, derived from its steps, and how they are checked.

Each namespace costs one SelfSubjectRulesReview; a permission the returned rules do not grant (rules can be
incomplete, e.g. with webhook authorizers) is confirmed with a SelfSubjectAccessReview before it is reported.
Cluster-scoped permissions are asked with SelfSubjectAccessReview directly. Either way the number of requests
depends on the distinct permissions, never on the number of VMs.
"""

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional

from ..kube import kinds

SSRR = kinds.Kind("SelfSubjectRulesReview", "authorization.k8s.io", "v1", "selfsubjectrulesreviews", False)


@dataclass(frozen=True)
class Permission:
    verb: str
    group: str
    resource: str
    namespace: Optional[str]            # None: cluster scope
    subresource: str = ""
    essential: bool = True              # False: only a later step (cleanup, events) needs it
    alternative: Optional["Permission"] = None   # granted too when this one is (the server accepts either)

    @property
    def key(self):
        return (self.verb, self.group, self.resource, self.subresource, self.namespace)

    def text(self) -> str:
        res = self.resource + (f"/{self.subresource}" if self.subresource else "")
        group = f' in API group "{self.group}"' if self.group else ""
        where = f' in namespace "{self.namespace}"' if self.namespace else " at the cluster scope"
        alt = self.alternative
        either = f", nor {alt.verb} {alt.resource}" if alt is not None else ""
        return f"{self.verb} {res}{group}{either}{where}"

    def kubectl(self) -> str:
        res = self.resource + (f".{self.group}" if self.group else "")
        res += f"/{self.subresource}" if self.subresource else ""
        ns = f" -n {self.namespace}" if self.namespace else ""
        return f"kubectl auth can-i {self.verb} {res}{ns}"


def _for_kind(verb, kind_name, namespace, essential=True, subresource=""):
    kind = kinds.by_kind(kind_name)
    return Permission(verb, kind.group, kind.plural, namespace if kind.namespaced else None, subresource, essential)


def required(plan: dict) -> List[Permission]:
    """Every permission the plan's steps need, once each, essential ones first."""
    spec = plan["spec"]
    src, dst = spec["source"]["namespace"], spec["target"]["namespace"]
    out: Dict[tuple, Permission] = {}

    def add(p: Permission):
        old = out.get(p.key)
        if old is None or (p.essential and not old.essential):
            out[p.key] = p

    add(_for_kind("create", "ConfigMap", dst))     # the journal ConfigMap
    add(_for_kind("create", "Event", dst, essential=False))
    steps = list(spec.get("prepare") or ())
    for vm in spec.get("vms") or ():
        steps += vm.get("steps") or ()
        steps += [dict(s, _cleanup=True) for s in vm.get("cleanup") or ()]
    steps += [dict(s, _cleanup=True) for s in spec.get("cleanup") or ()]
    for step in steps:
        action, kind = step["action"], step.get("kind", "")
        if action == "stop":
            add(Permission("update", kinds.SUBRESOURCES_GROUP, "virtualmachines", src, "stop"))
        elif action == "start":
            add(Permission("update", kinds.SUBRESOURCES_GROUP, "virtualmachines", dst, "start"))
        elif action == "clone":
            add(_for_kind("create", "DataVolume", dst))
            # CDI authorises a cross-namespace clone in the source namespace with `create datavolumes/source`
            # or, failing that, `create pods` (CDI authorize_utils.go getResourceAttributesPvc; §1.2).
            add(Permission("create", kinds.DATAVOLUME.group, kinds.DATAVOLUME.plural, src, "source",
                           alternative=_for_kind("create", "Pod", src)))
        elif action == "transfer":
            if step.get("objectTransfer"):
                add(_for_kind("create", "ObjectTransfer", None))
                add(_for_kind("get", "ObjectTransfer", None))
            else:
                add(_for_kind("patch", "PersistentVolume", None))
                add(_for_kind("delete", "PersistentVolumeClaim", src))
                add(_for_kind("create", "PersistentVolumeClaim", dst))
        elif action == "copy":
            add(_for_kind("get", kind, src))
            add(_for_kind("create", kind, dst))
        elif action == "create":
            add(_for_kind("create", kind, dst if kind != "Namespace" else None))
        elif action in ("set-run-strategy", "set-owner", "label"):
            target_ns = dst if kind != "Namespace" else None
            add(_for_kind("patch", kind, target_ns))
        elif action == "delete":
            add(_for_kind("delete", kind, src, essential=False))
    return sorted(out.values(), key=lambda p: (not p.essential, p.namespace or "", p.group, p.resource,
                                               p.subresource, p.verb))


def _match(values: Iterable[str], wanted: str) -> bool:
    values = list(values or ())
    return "*" in values or wanted in values


def allowed(found: Dict[tuple, bool], perm: Permission) -> Optional[bool]:
    """Whether `perm` (or its alternative) was granted; None when neither was asked."""
    answers = [found.get(p.key) for p in (perm, perm.alternative) if p is not None]
    if any(answers):
        return True
    return None if all(a is None for a in answers) else False


def rules_allow(rules: List[dict], perm: Permission) -> bool:
    """Whether SelfSubjectRulesReview resource rules grant `perm` (any resource name)."""
    resource = perm.resource + (f"/{perm.subresource}" if perm.subresource else "")
    for rule in rules or ():
        if rule.get("resourceNames"):
            continue   # restricted to some names: only an access review can say
        if not _match(rule.get("verbs"), perm.verb) or not _match(rule.get("apiGroups"), perm.group):
            continue
        resources = rule.get("resources") or ()
        if "*" in resources or resource in resources:
            return True
        if perm.subresource and f"*/{perm.subresource}" in resources:
            return True
    return False


def check(api, perms: List[Permission]) -> Dict[tuple, bool]:
    """Ask the server about each permission: one rules review per namespace, access reviews for the rest."""
    from ..kube import errors as kerr

    result: Dict[tuple, bool] = {}
    rules_by_ns: Dict[str, Optional[List[dict]]] = {}
    perms = list(perms) + [p.alternative for p in perms if p.alternative is not None]
    for ns in sorted({p.namespace for p in perms if p.namespace}):
        try:
            review = api.create(SSRR, {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                                       "spec": {"namespace": ns}})
            rules_by_ns[ns] = ((review or {}).get("status") or {}).get("resourceRules") or []
        except kerr.ApiError:
            rules_by_ns[ns] = None   # rules reviews unavailable: ask one access review per permission
    for perm in perms:
        rules = rules_by_ns.get(perm.namespace) if perm.namespace else None
        if rules and rules_allow(rules, perm):
            result[perm.key] = True
            continue
        try:
            result[perm.key] = bool(api.can_i(perm.verb, perm.resource, namespace=perm.namespace,
                                              subresource=perm.subresource or None, group=perm.group))
        except kerr.ApiError:
            result[perm.key] = False
    return result

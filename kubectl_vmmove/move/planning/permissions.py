"""The permissions a plan needs, derived from its steps, and how they are checked.

Each namespace costs one SelfSubjectRulesReview; a permission the returned rules do not grant (rules can be
incomplete, e.g. with webhook authorizers) is confirmed with a SelfSubjectAccessReview before it is reported.
Cluster-scoped permissions are asked with SelfSubjectAccessReview directly. Either way the number of requests
depends on the distinct permissions, never on the number of VMs.

A permission that names the objects it acts on (the source claims of a clone: CDI's access review carries the claim
name, so a Role may grant `datavolumes/source` for some claims with `resourceNames`) is granted per name. The rules
review answers for the names its rules list, with no request; a name is asked with an access review of its own only
when the rules review cannot be complete (another authorizer) and the review without a name was denied.
"""

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

from ...kube import kinds
from .moveplan import MovePlan

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
    names: Tuple[str, ...] = ()         # the objects acted on, when the server's access check names them

    @property
    def key(self):
        return (self.verb, self.group, self.resource, self.subresource, self.namespace)

    def name_key(self, name: str):
        return self.key + (name,)

    def text(self, names: Iterable[str] = ()) -> str:
        res = self.resource + (f"/{self.subresource}" if self.subresource else "")
        group = f' in API group "{self.group}"' if self.group else ""
        where = f' in namespace "{self.namespace}"' if self.namespace else " at the cluster scope"
        alt = self.alternative
        either = f", nor {alt.verb} {alt.resource}" if alt is not None else ""
        names = [f'"{n}"' for n in names]
        named = f' for {"claim" if len(names) == 1 else "claims"} {", ".join(names)}' if names else ""
        return f"{self.verb} {res}{group}{either}{named}{where}"

    def kubectl(self, name: Optional[str] = None) -> str:
        # `TYPE/NAME` is a resource name to kubectl auth can-i; a subresource goes in --subresource.
        res = self.resource + (f".{self.group}" if self.group else "") + (f"/{name}" if name else "")
        sub = f" --subresource={self.subresource}" if self.subresource else ""
        ns = f" -n {self.namespace}" if self.namespace else ""
        return f"kubectl auth can-i {self.verb} {res}{sub}{ns}"


def _for_kind(verb, kind_name, namespace, essential=True, subresource=""):
    kind = kinds.by_kind(kind_name)
    return Permission(verb, kind.group, kind.plural, namespace if kind.namespaced else None, subresource, essential)


def required(plan: dict) -> List[Permission]:
    """Every permission the plan's steps need, once each, essential ones first."""
    view = MovePlan(plan)
    src, dst = view.source, view.target
    out: Dict[tuple, Permission] = {}

    def add(p: Permission):
        old = out.get(p.key)
        if old is None or (p.essential and not old.essential):
            out[p.key] = p

    add(_for_kind("create", "ConfigMap", dst))     # the journal ConfigMap
    add(_for_kind("create", "Event", dst, essential=False))
    steps = view.prepare
    for vm in view.spec.get("vms") or ():
        steps += vm.get("steps") or ()
        steps += [dict(s, _cleanup=True) for s in vm.get("cleanup") or ()]
    steps += [dict(s, _cleanup=True) for s in view.cleanup]
    for step in steps:
        for p in _step_permissions(step, src, dst):
            add(p)
    clone_claims = [(step.get("source") or {}).get("name") or step["name"] for step in steps
                    if step["action"] == "clone"]
    if clone_claims:
        # CDI authorises a cross-namespace clone in the source namespace with `create datavolumes/source` or,
        # failing that, `create pods`, each review naming the source claim (CDI authorize_utils.go
        # getResourceAttributesPvc; §1.2).
        names = tuple(sorted(set(clone_claims)))
        pods = _for_kind("create", "Pod", src)
        add(Permission("create", kinds.DATAVOLUME.group, kinds.DATAVOLUME.plural, src, "source",
                       alternative=Permission(pods.verb, pods.group, pods.resource, src, names=names), names=names))
    return sorted(out.values(), key=lambda p: (not p.essential, p.namespace or "", p.group, p.resource,
                                               p.subresource, p.verb))


def _step_permissions(step: dict, src: str, dst: str) -> List[Permission]:
    """What one step of the plan needs (a clone's source authorisation is added once for all clones)."""
    action, kind = step["action"], step.get("kind", "")
    if action == "stop":
        return [Permission("update", kinds.SUBRESOURCES_GROUP, "virtualmachines", src, "stop")]
    if action == "start":
        return [Permission("update", kinds.SUBRESOURCES_GROUP, "virtualmachines", dst, "start")]
    if action == "clone":
        return [_for_kind("create", "DataVolume", dst)]
    if action == "transfer":
        if step.get("objectTransfer"):
            return [_for_kind("create", "ObjectTransfer", None), _for_kind("get", "ObjectTransfer", None)]
        return [_for_kind("patch", "PersistentVolume", None), _for_kind("delete", "PersistentVolumeClaim", src),
                _for_kind("create", "PersistentVolumeClaim", dst)]
    if action == "copy":
        return [_for_kind("get", kind, src), _for_kind("create", kind, dst)]
    if action == "create":
        return [_for_kind("create", kind, dst if kind != "Namespace" else None)]
    if action in ("set-run-strategy", "set-owner", "label"):
        return [_for_kind("patch", kind, dst if kind != "Namespace" else None)]
    if action == "delete":
        return [_for_kind("delete", kind, src, essential=False)]
    if action in ("migrate-receive", "migrate-send"):
        # A live move's migrations: kubevirt.io:migrate in each namespace (live-move.md §2.8).
        ns = dst if action == "migrate-receive" else src
        return [_for_kind("create", "VirtualMachineInstanceMigration", ns),
                _for_kind("delete", "VirtualMachineInstanceMigration", ns)]
    return []


def _match(values: Optional[Iterable[str]], wanted: str) -> bool:
    values = list(values or ())
    return "*" in values or wanted in values


def allowed(found: Dict[tuple, bool], perm: Permission) -> Optional[bool]:
    """Whether `perm` (or its alternative) was granted, for every name it carries; None when neither was asked."""
    answers = [found.get(p.key) for p in (perm, perm.alternative) if p is not None]
    if any(answers):
        return True
    if all(a is None for a in answers):
        return None
    return bool(perm.names) and not denied_names(found, perm)


def denied_names(found: Dict[tuple, bool], perm: Permission) -> List[str]:
    """The names neither `perm` nor its alternative was granted for (all of them when granted for none)."""
    either = [p for p in (perm, perm.alternative) if p is not None]
    if any(found.get(p.key) for p in either):
        return []
    return [n for n in perm.names if not any(found.get(p.name_key(n)) for p in either)]


def rules_allow(rules: List[dict], perm: Permission, name: Optional[str] = None) -> bool:
    """Whether SelfSubjectRulesReview resource rules grant `perm`: for any name, or for `name` when given (a rule
    limited by resourceNames grants only the names it lists)."""
    resource = perm.resource + (f"/{perm.subresource}" if perm.subresource else "")
    for rule in rules or ():
        if rule.get("resourceNames") and name not in rule["resourceNames"]:
            continue
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
    from ...kube import errors as kerr

    result: Dict[tuple, bool] = {}
    rules_by_ns: Dict[str, Optional[List[dict]]] = {}
    complete_ns = set()          # namespaces whose rules review is the whole answer (no other authorizer)
    perms = list(perms) + [p.alternative for p in perms if p.alternative is not None]
    for ns in sorted({p.namespace for p in perms if p.namespace}):
        try:
            rules_review = api.create(SSRR, {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                                       "spec": {"namespace": ns}})
            status = (rules_review or {}).get("status") or {}
            rules_by_ns[ns] = status.get("resourceRules") or []
            if not status.get("incomplete") and not status.get("evaluationError"):
                complete_ns.add(ns)
        except kerr.ApiError:
            rules_by_ns[ns] = None   # rules reviews unavailable: ask one access review per permission

    def review(perm, name=None):
        try:
            return bool(api.can_i(perm.verb, perm.resource, namespace=perm.namespace,
                                  subresource=perm.subresource or None, name=name, group=perm.group))
        except kerr.ApiError:
            return False

    primary_of = {p.alternative: p for p in perms if p.alternative is not None}
    for perm in perms:
        rules = rules_by_ns.get(perm.namespace) if perm.namespace else None
        if rules and rules_allow(rules, perm):
            result[perm.key] = True
            continue
        result[perm.key] = review(perm)
        if result[perm.key] or not perm.names:
            continue
        primary = primary_of.get(perm)
        for name in perm.names:
            if primary is not None and result.get(primary.name_key(name)):
                continue   # the server accepts either: no need to ask about the alternative
            if rules and rules_allow(rules, perm, name):
                result[perm.name_key(name)] = True
            elif perm.namespace not in complete_ns:
                # Only another authorizer could grant this name: one access review per claim, in this case only.
                result[perm.name_key(name)] = review(perm, name)
    return result

"""Authentication (bearer tokens) and RBAC authorisation with the real evaluation rules and Forbidden messages, plus
the default cluster roles (Kubernetes' admin/edit/view/cluster-admin, KubeVirt's and CDI's aggregated roles)."""

import dataclasses

from . import errors


@dataclasses.dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple = ()

    def __str__(self):
        return self.name

    def __eq__(self, other):
        if isinstance(other, str):
            return self.name == other
        return isinstance(other, UserInfo) and (self.name, self.groups) == (other.name, other.groups)

    def __hash__(self):
        return hash(self.name)

    @property
    def is_service_account(self):
        return self.name.startswith("system:serviceaccount:")


def user_groups(name, groups=()):
    """The groups an authenticated user ends up with (service accounts get theirs from the name)."""
    out = list(groups)
    if name.startswith("system:serviceaccount:"):
        ns = name.split(":")[2]
        for g in ("system:serviceaccounts", f"system:serviceaccounts:{ns}"):
            if g not in out:
                out.append(g)
    if "system:authenticated" not in out and name != "system:anonymous":
        out.append("system:authenticated")
    return tuple(out)


ADMIN = UserInfo("admin", ("system:masters", "system:authenticated"))


@dataclasses.dataclass(frozen=True)
class Attributes:
    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""          # non-resource requests

    @property
    def is_resource(self):
        return bool(self.resource)


def _subject_matches(subject, user, binding_ns):
    kind = subject.get("kind")
    if kind == "User":
        return subject.get("name") == user.name
    if kind == "Group":
        return subject.get("name") in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return user.name == f"system:serviceaccount:{ns}:{subject.get('name')}"
    return False


def _describe_subject(subject, binding_ns):
    if subject.get("kind") == "ServiceAccount":
        return f'ServiceAccount "{subject.get("name")}/{subject.get("namespace") or binding_ns}"'
    return f'{subject.get("kind")} "{subject.get("name")}"'


def _has(values, want):
    return "*" in values or want in values


def rule_allows(rule, attrs):
    verbs = rule.get("verbs") or ()
    if not _has(verbs, attrs.verb):
        return False
    if not attrs.is_resource:
        urls = rule.get("nonResourceURLs") or ()
        return any(u == attrs.path or u == "*" or (u.endswith("*") and attrs.path.startswith(u[:-1])) for u in urls)
    if not _has(rule.get("apiGroups") or (), attrs.group):
        return False
    resources = rule.get("resources") or ()
    if attrs.subresource:
        combined = f"{attrs.resource}/{attrs.subresource}"
        if not ("*" in resources or combined in resources or f"*/{attrs.subresource}" in resources):
            return False
    elif not ("*" in resources or attrs.resource in resources):
        return False
    names = rule.get("resourceNames") or ()
    if names and attrs.name not in names:
        return False
    return True


class Authorizer:
    """Evaluates RBAC objects in the store on every request, as the RBAC authorizer does with its informers."""

    def __init__(self, store):
        self.store = store

    def _role_rules(self, kind, name, namespace):
        if kind == "ClusterRole":
            obj = self.store.peek("clusterroles.rbac.authorization.k8s.io", None, name)
        else:
            obj = self.store.peek("roles.rbac.authorization.k8s.io", namespace, name)
        return (obj or {}).get("rules") or ()

    def rules_for(self, user, namespace):
        """Every (rule, source description) that applies to ``user`` in ``namespace`` (cluster-wide ones included),
        the source described as the RBAC authorizer does in access-review reasons."""
        out = []
        for rec in self.store.all_records("clusterrolebindings.rbac.authorization.k8s.io"):
            b = rec.obj
            subject = next((s for s in b.get("subjects") or () if _subject_matches(s, user, "")), None)
            if subject is not None:
                ref = b.get("roleRef") or {}
                for r in self._role_rules("ClusterRole", ref.get("name"), None):
                    out.append((r, f'ClusterRoleBinding "{b["metadata"]["name"]}" of ClusterRole "{ref.get("name")}" '
                                   f'to {_describe_subject(subject, "")}'))
        if namespace:
            for rec in self.store.all_records("rolebindings.rbac.authorization.k8s.io", namespace):
                b = rec.obj
                subject = next((s for s in b.get("subjects") or () if _subject_matches(s, user, namespace)), None)
                if subject is not None:
                    ref = b.get("roleRef") or {}
                    for r in self._role_rules(ref.get("kind"), ref.get("name"), namespace):
                        out.append((r, f'RoleBinding "{b["metadata"]["name"]}/{namespace}" of {ref.get("kind")} '
                                       f'"{ref.get("name")}" to {_describe_subject(subject, namespace)}'))
        return out

    def decide(self, user, attrs):
        """(allowed, reason) as the RBAC authorizer reports them in SubjectAccessReview status."""
        if "system:masters" in user.groups:
            return True, ""
        with self.store.lock:
            for rule, source in self.rules_for(user, attrs.namespace if attrs.is_resource else ""):
                if rule_allows(rule, attrs):
                    return True, f"RBAC: allowed by {source}"
        return False, ""

    def allowed(self, user, attrs):
        return self.decide(user, attrs)[0]

    def check(self, user, attrs):
        """Raise the apiserver's 403 Forbidden when ``user`` may not do ``attrs``."""
        if self.allowed(user, attrs):
            return
        raise forbidden_error(user, attrs)


def forbidden_error(user, attrs):
    if not attrs.is_resource:
        return errors.ApiError(403, "Forbidden", f'forbidden: User "{user.name}" cannot {attrs.verb} path '
                                                 f'"{attrs.path}"')
    res = attrs.resource + (f"/{attrs.subresource}" if attrs.subresource else "")
    scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    why = f'User "{user.name}" cannot {attrs.verb} resource "{res}" in API group "{attrs.group}" {scope}'
    return errors.forbidden(attrs.resource, attrs.group, attrs.name, why)


# ------------------------------------------------------------------ default roles
# Kubernetes v1.28's bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), KubeVirt's
# cluster RBAC as virt-operator generates it and CDI's aggregated roles, limited to the groups kubesim serves or the
# plugin asks about.
_RO = ["get", "list", "watch"]
_RW = ["create", "delete", "deletecollection", "patch", "update"]
_ALL = ["get", "list", "watch"] + _RW
_BOOT = {"kubernetes.io/bootstrapping": "rbac-defaults"}


def _role(name, rules, labels=None, aggregate=None):
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
           "metadata": {"name": name, "labels": {**_BOOT, **(labels or {})}},
           "rules": rules}
    if aggregate:
        obj["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {
            f"rbac.authorization.k8s.io/aggregate-to-{aggregate}": "true"}}]}
        obj["rules"] = []
    return obj


def _agg(*levels):
    return {f"rbac.authorization.k8s.io/aggregate-to-{lvl}": "true" for lvl in levels}


def _r(groups, resources, verbs):
    return {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)}


def _urls(urls, verbs=("get",)):
    return {"nonResourceURLs": list(urls), "verbs": list(verbs)}


def _crb(name, role, groups, labels=_BOOT):
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": dict(labels)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in groups]}


_VIEW_CORE = ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
              "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"]
_VIEW_CORE_STATUS = ["limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status",
                     "namespaces/status", "replicationcontrollers/status", "pods/log"]
_VIEW_APPS = ["controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale", "daemonsets",
              "daemonsets/status", "deployments", "deployments/status", "deployments/scale", "replicasets",
              "replicasets/status", "replicasets/scale"]
_EDIT_APPS = ["statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale",
              "deployments/rollback", "replicasets", "replicasets/scale"]

_KV_RESOURCES = ["virtualmachines", "virtualmachineinstances", "virtualmachineinstancepresets",
                 "virtualmachineinstancereplicasets", "virtualmachineinstancemigrations"]
_KV_SUB_VM = ["virtualmachines/start", "virtualmachines/stop", "virtualmachines/restart", "virtualmachines/migrate",
              "virtualmachines/addvolume", "virtualmachines/removevolume", "virtualmachines/memorydump",
              "virtualmachines/expand-spec"]
_KV_OWNED = [r for r in _KV_RESOURCES if r != "virtualmachineinstancemigrations"]
_KV_SUB_VM_NO_MIGRATE = [r for r in _KV_SUB_VM if r != "virtualmachines/migrate"]
_KV_SUB_VMI = ["virtualmachineinstances/console", "virtualmachineinstances/vnc", "virtualmachineinstances/pause",
               "virtualmachineinstances/unpause", "virtualmachineinstances/addvolume",
               "virtualmachineinstances/removevolume", "virtualmachineinstances/freeze",
               "virtualmachineinstances/unfreeze", "virtualmachineinstances/softreboot",
               "virtualmachineinstances/portforward"]
_KV_SUB_READ = ["virtualmachineinstances/guestosinfo", "virtualmachineinstances/filesystemlist",
                "virtualmachineinstances/userlist", "virtualmachineinstances/sev/fetchcertchain",
                "virtualmachines/expand-spec"]
_KV_OTHER = [("instancetype.kubevirt.io", ["virtualmachineinstancetypes", "virtualmachinepreferences"]),
             ("snapshot.kubevirt.io", ["virtualmachinesnapshots", "virtualmachinesnapshotcontents",
                                       "virtualmachinerestores"]),
             ("export.kubevirt.io", ["virtualmachineexports"]),
             ("clone.kubevirt.io", ["virtualmachineclones"]),
             ("pool.kubevirt.io", ["virtualmachinepools"]),
             ("migrations.kubevirt.io", ["migrationpolicies"])]
_CDI_OWNED = ["dataimportcrons", "datasources", "datavolumes", "volumeimportsources", "volumeuploadsources",
              "volumeclonesources"]


def _kubernetes_roles():
    return [
        _role("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                                {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        _role("admin", [], aggregate="admin"),
        _role("edit", [], labels=_agg("admin"), aggregate="edit"),
        _role("view", [], labels=_agg("edit"), aggregate="view"),
        _role("system:aggregate-to-admin", [
            _r(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
            _r(["rbac.authorization.k8s.io"], ["roles", "rolebindings"], _ALL)], labels=_agg("admin")),
        _role("system:aggregate-to-edit", [
            _r([""], ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"],
               _RO),
            _r([""], ["serviceaccounts"], ["impersonate"]),
            _r([""], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"], _RW),
            _r([""], ["pods/eviction"], ["create"]),
            # events: writable for edit/admin on the reference v1.28.7 cluster (kube-apiserver-fidelity.md).
            _r([""], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                      "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"], _RW),
            _r([""], ["serviceaccounts/token"], ["create"]),
            _r(["apps"], _EDIT_APPS, _RW),
            _r(["networking.k8s.io"], ["networkpolicies", "ingresses"], _RW)], labels=_agg("edit")),
        _role("system:aggregate-to-view", [
            _r([""], _VIEW_CORE, _RO), _r([""], _VIEW_CORE_STATUS, _RO), _r([""], ["namespaces"], _RO),
            _r(["discovery.k8s.io"], ["endpointslices"], _RO),
            _r(["apps"], _VIEW_APPS, _RO),
            _r(["networking.k8s.io"], ["networkpolicies", "ingresses", "ingresses/status"], _RO)],
            labels=_agg("view")),
        _role("system:basic-user", [
            _r(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
            _r(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"])]),
        _role("system:discovery", [_urls(["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                                          "/openapi/*", "/readyz", "/version", "/version/"])]),
        _role("system:public-info-viewer", [_urls(["/healthz", "/livez", "/readyz", "/version", "/version/"])]),
    ]


def _kubevirt_roles():
    app = {"app.kubernetes.io/component": "kubevirt", "app.kubernetes.io/managed-by": "virt-operator"}
    return [
        _role("kubevirt.io:default", [
            _r(["subresources.kubevirt.io"], ["version", "guestfs"], ["get", "list"]),
            _r(["kubevirt.io"], ["kubevirts"], ["get", "list"])], labels=app),
        _role("instancetype.kubevirt.io:view", [
            _r(["instancetype.kubevirt.io"], ["virtualmachineclusterinstancetypes",
                                              "virtualmachineclusterpreferences"], _RO)], labels=app),
        _role("kubevirt.io:view", [
            _r(["kubevirt.io"], _KV_RESOURCES, _RO),
            _r(["subresources.kubevirt.io"], _KV_SUB_READ, ["get"]),
            *[_r([g], res, _RO) for g, res in _KV_OTHER]], labels={**app, **_agg("view")}),
        # Since v1.5.0 admin/edit only read VMIMs and lose virtualmachines/migrate; kubevirt.io:migrate (not
        # aggregated) grants them (KV pkg/virt-operator/resource/generate/rbac/cluster.go; live-move.md §2.8).
        _role("kubevirt.io:migrate", [
            _r(["subresources.kubevirt.io"], ["virtualmachines/migrate"], ["update"]),
            _r(["kubevirt.io"], ["virtualmachineinstancemigrations"],
               ["get", "delete", "create", "update", "patch", "list", "watch", "deletecollection"])],
            labels={"kubevirt.io": ""}),
        _role("kubevirt.io:edit", [
            _r(["kubevirt.io"], _KV_OWNED, _ALL),
            _r(["kubevirt.io"], ["virtualmachineinstancemigrations"], _RO),
            _r(["subresources.kubevirt.io"], _KV_SUB_VM_NO_MIGRATE + _KV_SUB_VMI, ["update"]),
            _r(["subresources.kubevirt.io"], _KV_SUB_READ + ["virtualmachineinstances/console",
                                                             "virtualmachineinstances/vnc"], ["get"]),
            _r(["kubevirt.io"], ["kubevirts"], ["get", "list"]),
            *[_r([g], res, _ALL) for g, res in _KV_OTHER]], labels={**app, **_agg("edit")}),
        _role("kubevirt.io:admin", [
            _r(["kubevirt.io"], _KV_OWNED, _ALL),
            _r(["kubevirt.io"], ["virtualmachineinstancemigrations"], _RO),
            _r(["subresources.kubevirt.io"], _KV_SUB_VM_NO_MIGRATE + _KV_SUB_VMI, ["update"]),
            _r(["subresources.kubevirt.io"], _KV_SUB_READ + ["virtualmachineinstances/console",
                                                             "virtualmachineinstances/vnc"], ["get"]),
            *[_r([g], res, _ALL) for g, res in _KV_OTHER]], labels={**app, **_agg("admin")}),
    ]


def _cdi_roles():
    cdi = {"cdi.kubevirt.io": ""}
    return [
        _role("cdi.kubevirt.io:config-reader", [
            _r(["cdi.kubevirt.io"], ["cdiconfigs", "storageprofiles"], _RO)], labels=cdi),
        # CDI as of v1.61 (the version kubesim reports): the aggregated view role still grants clone-from.
        _role("cdi.kubevirt.io:view", [
            _r(["cdi.kubevirt.io"], ["cdiconfigs", "dataimportcrons", "datasources", "datavolumes", "objecttransfers",
                                     "storageprofiles", "volumeimportsources", "volumeuploadsources",
                                     "volumeclonesources"], _RO),
            _r(["cdi.kubevirt.io"], ["datavolumes/source"], ["create"])], labels={**cdi, **_agg("view")}),
        _role("cdi.kubevirt.io:edit", [
            _r(["cdi.kubevirt.io"], _CDI_OWNED, _ALL),
            _r(["cdi.kubevirt.io"], ["datavolumes/source"], ["create"]),
            _r(["upload.cdi.kubevirt.io"], ["uploadtokenrequests"], ["*"])], labels={**cdi, **_agg("edit")}),
        _role("cdi.kubevirt.io:admin", [
            _r(["cdi.kubevirt.io"], _CDI_OWNED, _ALL),
            _r(["cdi.kubevirt.io"], ["datavolumes/source"], ["create"]),
            _r(["upload.cdi.kubevirt.io"], ["uploadtokenrequests"], ["*"])], labels={**cdi, **_agg("admin")}),
        _role("cdi.kubevirt.io:clone-sourcer", [_r(["cdi.kubevirt.io"], ["datavolumes/source"], ["create"])],
              labels=cdi),
    ]


def default_cluster_roles():
    """The ClusterRoles and ClusterRoleBindings a cluster with KubeVirt and CDI installed starts with."""
    roles = _kubernetes_roles() + _kubevirt_roles() + _cdi_roles()
    everyone = ("system:authenticated",)
    bindings = [
        _crb("cluster-admin", "cluster-admin", ("system:masters",)),
        _crb("system:basic-user", "system:basic-user", everyone),
        _crb("system:discovery", "system:discovery", everyone),
        _crb("system:public-info-viewer", "system:public-info-viewer", everyone + ("system:unauthenticated",)),
        _crb("kubevirt.io:default", "kubevirt.io:default", everyone + ("system:unauthenticated",), labels={}),
        _crb("instancetype.kubevirt.io:view", "instancetype.kubevirt.io:view", everyone, labels={}),
        _crb("cdi.kubevirt.io:config-reader", "cdi.kubevirt.io:config-reader", everyone, labels={}),
    ]
    return roles, bindings


def _labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


class ClusterRoleAggregator:
    """Keeps aggregated ClusterRoles' rules the union of the rules of the roles their selectors pick (as the
    clusterrole-aggregation controller does)."""

    def __init__(self, sim):
        self.store = sim.internal
        self._seen_rv = None

    def admit(self, op, resource, obj, old, user):
        return obj

    def reconcile(self, now):
        key = "clusterroles.rbac.authorization.k8s.io"
        recs = self.store.all_records(key)
        stamp = tuple(sorted(r.obj["metadata"]["resourceVersion"] for r in recs))
        if stamp == self._seen_rv:
            return False
        changed = False
        for rec in recs:
            agg = rec.obj.get("aggregationRule")
            if not agg:
                continue
            rules = []
            for other in sorted(recs, key=lambda r: r.obj["metadata"]["name"]):
                if other is rec:
                    continue
                labels = other.obj["metadata"].get("labels") or {}
                if any(_labels_match(sel, labels) for sel in agg.get("clusterRoleSelectors") or ()):
                    for rule in other.obj.get("rules") or ():
                        if rule not in rules:
                            rules.append(rule)
            if rules != (rec.obj.get("rules") or []):
                self.store.patch(key, None, rec.obj["metadata"]["name"], {"rules": rules})
                changed = True
        if not changed:
            self._seen_rv = stamp
        return changed

"""The clone permission per source claim: CDI's access review names the claim, so a Role may grant
`datavolumes/source` for some claims only (resourceNames). Against kubesim, and the access-review path with a stub
server whose rules review is incomplete (another authorizer)."""

import yaml

from kubectl_vmmove import cli
from kubectl_vmmove.move.planning import permissions
from tests.kubesim import builders as kb

RBAC = "rbac.authorization.k8s.io"


def _role_limited_to(claims):
    """Everything a move needs in "src" except that clone-from is granted only for `claims` (none when empty: an
    empty resourceNames would grant every name)."""
    return {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "mover", "namespace": "src"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["delete"]},
                      {"apiGroups": ["subresources.kubevirt.io"], "resources": ["virtualmachines/stop"],
                       "verbs": ["update"]},
                      {"apiGroups": ["cdi.kubevirt.io"], "resources": ["datavolumes/source"], "verbs": ["create"],
                       "resourceNames": list(claims)}][:3 if claims else 2]}


def _bindings():
    """alice reads everything, is admin of "dst" and may do in "src" what the Role "mover" grants."""
    subjects = [{"apiGroup": RBAC, "kind": "User", "name": "alice"}]
    reader = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "reader"},
              "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]}
    return [reader, {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "alice-reader"},
                     "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "reader"}, "subjects": subjects}] + [
        {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "alice", "namespace": ns},
         "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role}, "subjects": subjects}
        for ns, kind, role in (("src", "Role", "mover"), ("dst", "ClusterRole", "admin"))]


def _plan(sim, capsys, config, *vms):
    rc = cli.main(["--kubeconfig", config, "plan", "--to", "dst", *vms, "-o", "yaml"])
    out, err = capsys.readouterr()
    return rc, yaml.safe_load(out), err


def _denied(doc):
    return [f for f in doc["status"]["findings"] if f["code"] == "PermissionDenied"]


def test_role_limited_by_resource_names_grants_clone_of_those_claims_only(kubesim_factory, capsys, tmp_path):
    ssars = []
    for vms in (2, 6):
        sim = kubesim_factory()
        sim.apply(kb.sample_namespace("src", vms=vms) + kb.namespace("dst") + _bindings() +
                  [_role_limited_to(["vm-0001-rootdisk", "vm-0001-data1"])])
        sim.settle(timeout=60)
        config = sim.write_kubeconfig(str(tmp_path / f"alice{vms}"), user="alice", namespace="src")
        rc, doc, err = _plan(sim, capsys, config, "vm-0001")
        assert rc == 0 and _denied(doc) == [], err
        sim.requests.reset()
        rc, doc, err = _plan(sim, capsys, config, "--all")
        assert rc == 1
        denied = _denied(doc)
        claims = [f"vm-{i:04d}-{d}" for i in range(2, vms + 1) for d in ("data1", "rootdisk")]
        assert sorted(f["subject"]["name"] for f in denied) == claims
        assert denied[0]["message"] == (f'you may not create datavolumes/source in API group "cdi.kubevirt.io", '
                                        f'nor create pods for claim "{denied[0]["subject"]["name"]}" '
                                        'in namespace "src"')
        assert f'datavolumes.cdi.kubevirt.io/{denied[0]["subject"]["name"]} --subresource=source -n src' in \
            denied[0]["remedy"]
        # Only the VMs whose claims are left out are blocked.
        assert {vm for f in denied for vm in f["vms"]} == {f"vm-{i:04d}" for i in range(2, vms + 1)}
        ssars.append(sim.requests.count(resource="selfsubjectaccessreviews"))
    # The rules review lists the names: no access review per claim, whatever the number of VMs.
    assert ssars[0] == ssars[1]


def test_without_any_clone_right_the_namespace_wide_finding_stays_single(kubesim, capsys, tmp_path):
    kubesim.apply(kb.sample_namespace("src", vms=3) + kb.namespace("dst") + _bindings() + [_role_limited_to([])])
    kubesim.settle(timeout=60)
    config = kubesim.write_kubeconfig(str(tmp_path / "alice"), user="alice", namespace="src")
    rc, doc, err = _plan(kubesim, capsys, config, "--all")
    denied = _denied(doc)
    assert rc == 1 and len(denied) == 1 and "for claim" not in denied[0]["message"]
    assert "datavolumes/source" in denied[0]["message"]


class _IncompleteRulesServer:
    """A cluster with a webhook authorizer: the rules review shows nothing and says it is incomplete; access
    reviews grant clone-from for `granted` claims only."""

    def __init__(self, granted):
        self.granted, self.reviews = set(granted), []

    def create(self, kind, body, **kw):
        return {"status": {"resourceRules": [], "incomplete": True}}

    def can_i(self, verb, resource, namespace=None, subresource=None, name=None, group=None):
        self.reviews.append((resource, subresource, name))
        return subresource == "source" and name in self.granted


def _clone_permission(claims):
    pods = permissions.Permission("create", "", "pods", "src", names=tuple(claims))
    return permissions.Permission("create", "cdi.kubevirt.io", "datavolumes", "src", "source",
                                  alternative=pods, names=tuple(claims))


def test_incomplete_rules_are_settled_with_one_access_review_per_claim():
    perm = _clone_permission(["a", "b"])
    api = _IncompleteRulesServer(granted={"a"})
    found = permissions.check(api, [perm])
    assert permissions.allowed(found, perm) is False and permissions.denied_names(found, perm) == ["b"]
    # Without a name first, then per claim; the alternative only for the claim the first did not grant.
    assert api.reviews == [("datavolumes", "source", None), ("datavolumes", "source", "a"),
                           ("datavolumes", "source", "b"), ("pods", None, None), ("pods", None, "b")]
    api = _IncompleteRulesServer(granted={"a", "b"})
    assert permissions.allowed(permissions.check(api, [perm]), perm) is True


def test_rules_with_resource_names_grant_only_those_names():
    perm = _clone_permission(["a", "b"])
    rule = {"verbs": ["create"], "apiGroups": ["cdi.kubevirt.io"], "resources": ["datavolumes/source"],
            "resourceNames": ["a"]}
    assert permissions.rules_allow([rule], perm, "a") and not permissions.rules_allow([rule], perm, "b")
    assert not permissions.rules_allow([rule], perm)
    assert permissions.rules_allow([dict(rule, resourceNames=None)], perm)

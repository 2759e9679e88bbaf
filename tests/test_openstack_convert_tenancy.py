"""Domains/projects -> Namespaces, role assignments -> RoleBindings, quotas -> ResourceQuotas."""

import pytest

from kubectl_vmmove.errors import UsageError, UserError
from kubectl_vmmove.openstack.convert import Options, convert
from kubectl_vmmove.openstack.mapping.tenancy import parse_role_map
from kubectl_vmmove.openstack.read.inputs import RawInput, read_data
from kubectl_vmmove.openstack.read.normalise import normalise
from kubectl_vmmove.openstack.report import iter_entries

DOMAINS = [{"id": "default", "name": "Default"}, {"id": "d2", "name": "Engineering"}]
PROJECTS = [{"id": "p1", "name": "web-shop", "domain_id": "default"},
            {"id": "p2", "name": "Data Science", "domain_id": "d2"},
            {"id": "p3", "name": "ml_ops", "domain_id": "d2"}]


def assignment(role, actor_kind, actor_id, actor_name, scope_kind, scope_id):
    return {"role": {"id": "r-" + role, "name": role},
            actor_kind: {"id": actor_id, "name": actor_name, "domain": {"id": "default", "name": "Default"}},
            "scope": {scope_kind: {"id": scope_id}}}


def run(options=None, **resources):
    doc = {"apiVersion": "vmmove.io/v1alpha1", "kind": "OpenStackExport",
           "resources": {"domains": DOMAINS, "projects": PROJECTS, **resources}}
    out = RawInput()
    read_data(doc, "t.yaml", out)
    return convert(normalise(out), options or Options())


def of_kind(result, kind):
    return [o for o in result.objects if o["kind"] == kind]


def test_a_namespace_per_project_named_by_the_template():
    r = run()
    names = [ns["metadata"]["name"] for ns in of_kind(r, "Namespace")]
    assert names == ["default-web-shop", "engineering-data-science", "engineering-ml-ops"]
    ns = of_kind(r, "Namespace")[1]
    assert ns["metadata"]["annotations"] == {"vmmove.io/openstack-domain": "Engineering",
                                             "vmmove.io/openstack-project": "Data Science"}
    assert ns["metadata"]["labels"]["vmmove.io/openstack-project-id"] == "p2"


def test_custom_template_and_deterministic_collision_handling():
    projects = [{"id": "a1", "name": "Team A", "domain_id": "default"},
                {"id": "b2", "name": "team_a", "domain_id": "default"}]
    r = run(Options(namespace_template="{project}"), projects=projects)
    names = [ns["metadata"]["name"] for ns in of_kind(r, "Namespace")]
    assert names[0] == "team-a" and names[1].startswith("team-a-") and len(names) == 2
    assert names == [ns["metadata"]["name"] for ns in of_kind(run(Options(namespace_template="{project}"),
                                                                  projects=projects), "Namespace")]
    collided = [rsn for k, i, f, s, _, rsn in iter_entries(r.report) if k == "Project" and f == "name"
                and s == "approximated" and "taken" in rsn]
    assert len(collided) == 1


def test_bad_namespace_template_is_a_usage_error():
    with pytest.raises(UsageError):
        run(Options(namespace_template="{tenant}"))


def test_role_assignments_become_role_bindings_with_default_cluster_roles():
    r = run(Options(subject_prefix="oidc:"), role_assignments=[
        assignment("admin", "user", "u1", "alice", "project", "p1"),
        assignment("member", "group", "g1", "web-admins", "project", "p1"),
        assignment("reader", "user", "u2", "bob", "project", "p1")])
    bindings = {(b["metadata"]["namespace"], b["roleRef"]["name"]): b["subjects"] for b in of_kind(r, "RoleBinding")}
    assert bindings[("default-web-shop", "admin")] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                                        "name": "oidc:Default:alice"}]
    assert bindings[("default-web-shop", "kubevirt.io:edit")] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "oidc:Default:web-admins"}]
    assert set(bindings) == {("default-web-shop", cr) for cr in
                             ("admin", "kubevirt.io:admin", "edit", "kubevirt.io:edit", "view", "kubevirt.io:view")}
    names = sorted(b["metadata"]["name"] for b in of_kind(r, "RoleBinding"))
    assert "openstack-kubevirt-io-admin" in names


def test_domain_scoped_assignment_binds_in_every_namespace_of_the_domain():
    r = run(role_assignments=[assignment("admin", "user", "u3", "carol", "domain", "d2")])
    spaces = sorted({b["metadata"]["namespace"] for b in of_kind(r, "RoleBinding")})
    assert spaces == ["engineering-data-science", "engineering-ml-ops"]
    assert [s for k, _, f, s, _, _ in iter_entries(r.report) if k == "RoleAssignment" and f == "scope"] == \
        ["approximated"]


def test_role_map_changes_and_unmapped_roles_are_reported():
    opts = Options(role_map=parse_role_map(["member=vm-operator", "load-balancer_member=view"]))
    r = run(opts, role_assignments=[assignment("member", "user", "u1", "alice", "project", "p1"),
                                    assignment("heat_stack_owner", "user", "u1", "alice", "project", "p1")])
    assert sorted(b["roleRef"]["name"] for b in of_kind(r, "RoleBinding")) == ["vm-operator"]
    dropped = [rsn for k, _, f, s, _, rsn in iter_entries(r.report) if k == "RoleAssignment" and s == "dropped"]
    assert dropped == ["role 'heat_stack_owner' has no ClusterRole; map it with --role-map heat_stack_owner=CLUSTERROLE"]


def test_role_name_is_looked_up_in_the_roles_listing_when_names_were_not_included():
    a = {"role": {"id": "r9"}, "user": {"id": "u1"}, "scope": {"project": {"id": "p1"}}}
    r = run(role_assignments=[a], roles=[{"id": "r9", "name": "reader"}], users=[{"id": "u1", "name": "zed", "domain_id": "default"}])
    assert sorted(b["roleRef"]["name"] for b in of_kind(r, "RoleBinding")) == ["kubevirt.io:view", "view"]
    assert of_kind(r, "RoleBinding")[0]["subjects"][0]["name"] == "Default:zed"


def test_quotas_only_with_the_flag_and_unlimited_values_are_left_out():
    quotas = {"p1": {"compute": {"instances": 10, "cores": 20, "ram": 51200, "key_pairs": 5},
                     "volume": {"gigabytes": 1000, "volumes": -1, "gigabytes_ssd": 100},
                     "network": {"floatingip": 2}}}
    assert not of_kind(run(quotas=quotas), "ResourceQuota")
    r = run(Options(quotas=True, storage_class_map={"ssd": "fast"}), quotas=quotas)
    (rq,) = of_kind(r, "ResourceQuota")
    assert rq["metadata"]["namespace"] == "default-web-shop"
    assert rq["spec"]["hard"] == {"count/virtualmachines.kubevirt.io": "10", "requests.cpu": "20",
                                  "requests.memory": "51200Mi", "requests.storage": "1000Gi",
                                  "fast.storageclass.storage.k8s.io/requests.storage": "100Gi",
                                  "services.loadbalancers": "2"}
    dropped = [f for k, _, f, s, _, _ in iter_entries(r.report) if k == "Quota" and s == "dropped"]
    assert dropped == ["compute.key_pairs"]


def test_single_namespace_override():
    r = run(Options(namespace="migrated"))
    assert [ns["metadata"]["name"] for ns in of_kind(r, "Namespace")] == ["migrated"]


def test_projects_sharing_one_namespace_get_one_quota_with_their_sum():
    quotas = {"p1": {"compute": {"instances": 10, "cores": 20}, "volume": {"gigabytes": 1000}},
              "p2": {"compute": {"instances": 5, "cores": -1}, "volume": {"gigabytes": 500}}}
    r = run(Options(quotas=True, namespace="migrated"), quotas=quotas)
    (rq,) = of_kind(r, "ResourceQuota")  # two objects of one name in one namespace would overwrite each other
    assert rq["metadata"]["namespace"] == "migrated"
    # p2's cores are unlimited, so the namespace's are too
    assert rq["spec"]["hard"] == {"count/virtualmachines.kubevirt.io": "15", "requests.storage": "1500Gi"}
    reasons = [reason for k, _, f, s, _, reason in iter_entries(r.report) if k == "Quota" and f == "compute.instances"]
    assert reasons and all("added to the quotas of the other projects in migrated" in x for x in reasons)


# --------------------------------------------------------------------------------------- identities stay apart
# Keystone names are unique only within a domain (identity API v3: users, groups and projects are owned by a
# domain); the include_names form of a role assignment names the actor's domain beside its name.

TWO_DOMAINS = [{"id": "da", "name": "Dom_A"}, {"id": "db", "name": "Dom_B"}]
SAME_NAME_USERS = [{"id": "ua", "name": "alice", "domain_id": "da"}, {"id": "ub", "name": "alice", "domain_id": "db"}]


def named_assignment(role, actor_kind, actor_id, actor_name, domain_id, domain_name, scope_kind, scope_id):
    return {"role": {"id": "r-" + role, "name": role},
            actor_kind: {"id": actor_id, "name": actor_name, "domain": {"id": domain_id, "name": domain_name}},
            "scope": {scope_kind: {"id": scope_id}}}


def bindings_of(result):
    return {(b["metadata"]["namespace"], b["roleRef"]["name"]): [(s["kind"], s["name"]) for s in b["subjects"]]
            for b in of_kind(result, "RoleBinding")}


def test_same_user_name_in_two_domains_becomes_two_subjects_and_no_role_crosses_over():
    r = run(Options(subject_prefix="oidc:"), domains=DOMAINS + TWO_DOMAINS, users=SAME_NAME_USERS,
            role_assignments=[
                {"role": {"id": "r-admin", "name": "admin"}, "user": {"id": "ua"}, "scope": {"project": {"id": "p1"}}},
                {"role": {"id": "r-reader", "name": "reader"}, "user": {"id": "ub"},
                 "scope": {"project": {"id": "p1"}}}])
    b = bindings_of(r)
    assert b[("default-web-shop", "admin")] == [("User", "oidc:Dom_A:alice")]
    assert b[("default-web-shop", "view")] == [("User", "oidc:Dom_B:alice")]


def test_domain_admin_of_one_domain_is_not_granted_to_the_namesake_in_another():
    projects = PROJECTS + [{"id": "pa", "name": "shop", "domain_id": "da"}, {"id": "pb", "name": "lab",
                                                                              "domain_id": "db"}]
    r = run(projects=projects, domains=DOMAINS + TWO_DOMAINS, role_assignments=[
        named_assignment("member", "user", "ua", "alice", "da", "Dom_A", "project", "pa"),
        named_assignment("admin", "user", "ub", "alice", "db", "Dom_B", "domain", "db")])
    b = bindings_of(r)
    assert b[("dom-b-lab", "admin")] == [("User", "Dom_B:alice")]
    assert b[("dom-a-shop", "edit")] == [("User", "Dom_A:alice")]
    assert ("dom-a-shop", "admin") not in b


def test_groups_of_the_same_name_in_two_domains_stay_apart():
    r = run(domains=DOMAINS + TWO_DOMAINS, groups=[{"id": "ga", "name": "ops", "domain_id": "da"},
                                                    {"id": "gb", "name": "ops", "domain_id": "db"}],
            role_assignments=[
                {"role": {"id": "r-member", "name": "member"}, "group": {"id": "ga"}, "scope": {"project": {"id": "p1"}}},
                {"role": {"id": "r-reader", "name": "reader"}, "group": {"id": "gb"},
                 "scope": {"project": {"id": "p1"}}}])
    b = bindings_of(r)
    assert b[("default-web-shop", "edit")] == [("Group", "Dom_A:ops")]
    assert b[("default-web-shop", "view")] == [("Group", "Dom_B:ops")]


def test_subject_template_is_configurable():
    r = run(Options(subject_template="{name}@{domain_id}", subject_prefix="ldap:"), domains=DOMAINS + TWO_DOMAINS,
            users=SAME_NAME_USERS, role_assignments=[
                {"role": {"id": "r-admin", "name": "admin"}, "user": {"id": "ua"}, "scope": {"project": {"id": "p1"}}}])
    assert bindings_of(r)[("default-web-shop", "admin")] == [("User", "ldap:alice@da")]


def test_a_template_that_merges_two_identities_is_an_error_naming_both():
    with pytest.raises(UserError) as err:
        run(Options(subject_template="{name}"), domains=DOMAINS + TWO_DOMAINS, users=SAME_NAME_USERS,
            role_assignments=[
                {"role": {"id": "r-admin", "name": "admin"}, "user": {"id": "ua"}, "scope": {"project": {"id": "p1"}}},
                {"role": {"id": "r-reader", "name": "reader"}, "user": {"id": "ub"},
                 "scope": {"project": {"id": "p1"}}}])
    text = str(err.value)
    assert "User alice" in text and "ua" in text and "ub" in text and "Dom_A" in text and "Dom_B" in text
    assert "--subject-template" in text


def test_bad_subject_template_is_a_usage_error():
    with pytest.raises(UsageError) as err:
        run(Options(subject_template="{user}"), users=SAME_NAME_USERS, role_assignments=[
            {"role": {"id": "r-admin", "name": "admin"}, "user": {"id": "ua"}, "scope": {"project": {"id": "p1"}}}])
    assert "--subject-template" in str(err.value)


def test_an_actor_whose_domain_is_unknown_is_not_bound_and_the_report_says_what_to_add():
    r = run(role_assignments=[{"role": {"id": "r-admin", "name": "admin"}, "user": {"id": "u7", "name": "mallory"},
                               "scope": {"project": {"id": "p1"}}}])
    assert not of_kind(r, "RoleBinding")
    dropped = [rsn for k, _, f, s, _, rsn in iter_entries(r.report) if k == "RoleAssignment" and s == "dropped"]
    assert len(dropped) == 1 and "domain" in dropped[0] and "openstack user list --long" in dropped[0]


def test_domain_name_unknown_uses_the_domain_id_and_says_so():
    r = run(domains=[], users=[{"id": "ua", "name": "alice", "domain_id": "da"}], role_assignments=[
        {"role": {"id": "r-admin", "name": "admin"}, "user": {"id": "ua"}, "scope": {"project": {"id": "p1"}}}])
    assert bindings_of(r)[("default-web-shop", "admin")] == [("User", "da:alice")]
    reasons = [rsn for k, _, f, s, _, rsn in iter_entries(r.report) if k == "RoleAssignment" and f == "user"]
    assert reasons and "openstack domain list" in reasons[0]

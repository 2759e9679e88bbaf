"""Domains and projects -> Namespaces, project quotas -> ResourceQuotas, role assignments -> RoleBindings.

Namespace names come from `--namespace-template` (default `{domain}-{project}`), made DNS-1123 safe; when two
projects land on the same name, the project with the smaller id keeps it and the other gets a short hash of its id,
the same way every run, and both are reported. Keystone roles map to ClusterRoles (admin -> admin +
kubevirt.io:admin, member -> edit + kubevirt.io:edit, reader -> view + kubevirt.io:view; `--role-map` changes it),
with one RoleBinding per namespace and ClusterRole listing every subject. Subjects are users and groups of the
cluster's identity provider, named by `--subject-template` (default `{domain}:{name}`: Keystone names are unique
only within a domain, so `alice` of two domains stays two subjects) after `--subject-prefix` (e.g. `oidc:`); a
template that gives two identities one subject is an error naming both, and an actor whose domain the input does not
tell is not bound.
"""

import string
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from ...errors import UsageError, UserError
from ..report import APPROXIMATED, MAPPED
from . import names

DEFAULT_ROLE_MAP = {
    "admin": ["admin", "kubevirt.io:admin"],
    "member": ["edit", "kubevirt.io:edit"],
    "_member_": ["edit", "kubevirt.io:edit"],
    "reader": ["view", "kubevirt.io:view"],
}
RBAC = "rbac.authorization.k8s.io"
TEMPLATE_FIELDS = ("domain", "project", "domain_id", "project_id")


def parse_role_map(values: List[str]) -> Dict[str, List[str]]:
    out = {k: list(v) for k, v in DEFAULT_ROLE_MAP.items()}
    for item in values or []:
        role, sep, roles = item.partition("=")
        if not sep or not role:
            raise UsageError(f"--role-map {item!r}: expected ROLE=CLUSTERROLE[,CLUSTERROLE] (empty to drop the role)")
        out[role] = [r.strip() for r in roles.split(",") if r.strip()]
    return out


def namespace_name(template: str, domain: str, project: str, domain_id: str, project_id: str) -> str:
    try:
        text = template.format(domain=domain, project=project, domain_id=domain_id, project_id=project_id)
    except (KeyError, IndexError, ValueError) as err:
        raise UsageError(f"--namespace-template {template!r}: {err}; use the fields "
                         + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)) from err
    return names.dns_label(text, "openstack")


def plan_namespaces(estate, options, report) -> Tuple[Dict[str, str], Dict[str, dict]]:
    """(project id -> namespace, namespace -> facts for the Namespace object)."""
    project_ids = set(estate.projects)
    for collection in (estate.servers, estate.volumes, estate.security_groups, estate.floating_ips):
        for rec in collection.values():
            pid = getattr(rec, "project_id", None)
            if pid:
                project_ids.add(pid)
    for q in estate.quotas.values():
        project_ids.add(q.project_id)
    for a in estate.role_assignments:
        if a.scope_kind == "project":
            project_ids.add(a.scope_id)
    wanted = []
    for pid in project_ids:
        project = estate.projects.get(pid)
        domain_id = (project.domain_id if project else None) or ""
        domain = estate.domains.get(domain_id)
        domain_name = domain.name if domain else (domain_id or "openstack")
        project_name = project.name if project else pid
        if options.namespace:
            ns = options.namespace
        else:
            ns = namespace_name(options.namespace_template, domain_name, project_name, domain_id, pid)
        wanted.append((ns, pid, project, domain_name, project_name))
    alloc = names.NameAllocator()
    mapping: Dict[str, str] = {}
    facts: Dict[str, dict] = {}
    for ns, pid, project, domain_name, project_name in sorted(wanted):
        final = ns if options.namespace else alloc.allocate(ns, pid)
        mapping[pid] = final
        info = facts.setdefault(final, {"projects": [], "domain": domain_name})
        info["projects"].append((pid, project_name, project))
        if project is None:
            continue
        target = f"Namespace {final}"
        if options.namespace:
            report.approximated(project, "name", target, f"-n {final}: every project goes into one namespace")
        elif final != ns:
            report.approximated(project, "name", target, f"{ns!r} is taken by another project; the id hash keeps "
                                                         "them apart")
        elif final != options.namespace_template.format(domain=domain_name, project=project_name,
                                                          domain_id=project.domain_id or "", project_id=pid):
            report.approximated(project, "name", target, "sanitised to a DNS-1123 label; the originals are in "
                                                         "annotations")
        else:
            report.mapped(project, "name", target)
        report.mapped(project, "id", f"{target} metadata.labels[vmmove.io/openstack-project-id]")
        report.claim(project, "domain_id")
        if project.parent_id and project.parent_id != project.domain_id:
            report.approximated(project, "parent_id", f"{target} metadata.annotations",
                                "namespaces are flat: the parent project is kept as an annotation")
        elif project.parent_id:
            report.mapped(project, "parent_id", "", "a top-level project of its domain")
        for tag in project.tags:
            report.mapped(project, f"tags.{tag}", f"{target} metadata.labels")
        report.claim(project, "tags")
    return mapping, facts


def namespace_objects(facts: Dict[str, dict], common_labels: dict, estate, report) -> List[dict]:
    out = []
    for ns in sorted(facts):
        info = facts[ns]
        labels = dict(common_labels)
        annotations = {"vmmove.io/openstack-domain": info["domain"]}
        projects = info["projects"]
        if len(projects) == 1:
            pid, pname, project = projects[0]
            labels["vmmove.io/openstack-project-id"] = names.label_value(pid)
            annotations["vmmove.io/openstack-project"] = pname
            if project is not None:
                for tag in project.tags:
                    labels["tag.openstack.vmmove.io/" + names.label_name(tag)] = "true"
                if project.parent_id and project.parent_id != project.domain_id:
                    parent = estate.projects.get(project.parent_id)
                    annotations["vmmove.io/openstack-parent-project"] = parent.name if parent else project.parent_id
        else:
            annotations["vmmove.io/openstack-project"] = ", ".join(sorted(p[1] for p in projects))
        out.append({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": ns, "labels": labels, "annotations": annotations}})
    for dom in estate.domains.values():
        report.mapped(dom, "name", "Namespace annotations vmmove.io/openstack-domain",
                      "domains have no Kubernetes object; each project namespace names its domain")
    return out


QUOTA_MAP = {
    ("compute", "instances"): ("count/virtualmachines.kubevirt.io", "", MAPPED, ""),
    ("compute", "cores"): ("requests.cpu", "", APPROXIMATED,
                           "caps requested CPU, not vCPUs: KubeVirt requests 1/cpuAllocationRatio CPU per vCPU"),
    ("compute", "ram"): ("requests.memory", "Mi", APPROXIMATED,
                         "virt-launcher's memory overhead counts against it too"),
    ("volume", "gigabytes"): ("requests.storage", "Gi", MAPPED, ""),
    ("volume", "volumes"): ("persistentvolumeclaims", "", MAPPED, ""),
    ("volume", "snapshots"): ("count/volumesnapshots.snapshot.storage.k8s.io", "", MAPPED, ""),
    ("network", "floatingip"): ("services.loadbalancers", "", MAPPED, ""),
    ("network", "security_group"): ("count/networkpolicies.networking.k8s.io", "", APPROXIMATED,
                                    "one NetworkPolicy per security group and namespace"),
}


def quota_objects(estate, options, project_ns: Dict[str, str], common_labels: dict, report) -> List[dict]:
    """One ResourceQuota per namespace. Projects that share a namespace (-n) add up: the namespace holds all their
    VMs, and two quotas in one namespace would each cap the total. A resource one of them leaves unlimited is left
    out for all of them."""
    sharing: Dict[Optional[str], int] = {}  # keyed by namespace; None for a project that has none
    for pid in estate.quotas:
        if project_ns.get(pid):
            sharing[project_ns[pid]] = sharing.get(project_ns[pid], 0) + 1
    totals: Dict[Optional[str], Dict[str, List]] = {}  # namespace -> resource -> [sum, unit]
    unlimited: Dict[Optional[str], set] = {}
    for pid in sorted(estate.quotas):
        quota = estate.quotas[pid]
        report.claim(quota, "project_id", "id", "compute", "volume", "network")
        ns = project_ns.get(pid)
        if not options.quotas:
            report.dropped(quota, "limits", "add --quotas to write ResourceQuotas")
            continue
        target = f"ResourceQuota {ns}/openstack-quota"
        shared = sharing.get(ns, 0) > 1
        for section in sorted(quota.limits):
            for key in sorted(quota.limits[section]):
                value = quota.limits[section][key]
                field = f"{section}.{key}"
                rule = QUOTA_MAP.get((section, key))
                if section == "volume" and key.startswith("gigabytes_"):
                    sc = options.storage_class_map.get(key[len("gigabytes_"):])
                    rule = (f"{sc}.storageclass.storage.k8s.io/requests.storage", "Gi", MAPPED, "") if sc else None
                if rule is None:
                    report.dropped(quota, field, "no ResourceQuota equivalent")
                    continue
                resource, unit, status, reason = rule
                if value < 0:
                    unlimited.setdefault(ns, set()).add(resource)
                    report.mapped(quota, field, "", "unlimited: no quota set")
                    continue
                slot = totals.setdefault(ns, {}).setdefault(resource, [0, unit])
                slot[0] += value
                if shared:
                    status = APPROXIMATED
                    reason = "; ".join(x for x in (reason, f"added to the quotas of the other projects in {ns} "
                                                           "(-n); left out if one of them is unlimited") if x)
                report.add(quota, field, status, f"{target} spec.hard[{resource}]", reason)
    out = []
    for ns in sorted(n for n in totals if n):
        hard = {resource: f"{total}{unit}" for resource, (total, unit) in sorted(totals[ns].items())
                if resource not in unlimited.get(ns, set())}
        if hard:
            out.append({"apiVersion": "v1", "kind": "ResourceQuota",
                        "metadata": {"name": "openstack-quota", "namespace": ns, "labels": dict(common_labels)},
                        "spec": {"hard": hard}})
    return out


SUBJECT_TEMPLATE = "{domain}:{name}"
SUBJECT_FIELDS = ("name", "domain", "domain_id", "id")


@dataclass
class Actor:
    """A Keystone user or group as the cluster will know it: `subject` is None when it cannot be named safely
    (`why` says what to add to the input)."""

    kind: str  # User | Group
    id: str
    name: str
    domain_id: Optional[str]
    domain_name: Optional[str]
    subject: Optional[str] = None
    why: str = ""
    note: str = ""

    @property
    def label(self) -> str:
        where = self.domain_name or self.domain_id or "an unknown domain"
        return f"{self.kind} {self.name} ({self.id}) of domain {where}"


def template_fields(template: str, flag: str, allowed) -> List[str]:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as err:
        raise UsageError(f"{flag} {template!r}: {err}") from err
    bad = [f for f in fields if f not in allowed]
    if bad or any(not f for f in fields):
        raise UsageError(f"{flag} {template!r}: unknown field {{{bad[0] if bad else ''}}}; use the fields "
                         + ", ".join("{" + f + "}" for f in allowed))
    return fields


def check_subject_template(template: str) -> None:
    template_fields(template, "--subject-template", SUBJECT_FIELDS)


def _actor(estate, a, template: str, prefix: str) -> Actor:
    """Who an assignment names, qualified by its domain: Keystone names are unique only within a domain, so two
    `alice`s of two domains must become two subjects, never one."""
    table, kind = (estate.users, "User") if a.actor_kind == "user" else (estate.groups, "Group")
    rec = table.get(a.actor_id)
    name = (rec.name if rec else None) or a.actor_name
    domain_id = (rec.domain_id if rec else None) or a.actor_domain_id
    domain = estate.domains.get(domain_id or "")
    domain_name = (domain.name if domain and domain.name != domain.id else None) or a.actor_domain_name
    actor = Actor(kind, a.actor_id, name or a.actor_id, domain_id, domain_name)
    fields = template_fields(template, "--subject-template", SUBJECT_FIELDS)
    listing = f"'openstack {a.actor_kind} list --long -f json'"
    if not name and "name" in fields:
        actor.why = (f"the {a.actor_kind}'s name is not in the input: add {listing} or list the assignments with "
                     "names ('openstack role assignment list --names -f json')")
        return actor
    if not domain_id and not domain_name and ({"domain", "domain_id"} & set(fields)):
        actor.why = (f"the {a.actor_kind}'s domain is not in the input, and names are unique only within a domain: "
                     f"add {listing} and 'openstack domain list -f json'")
        return actor
    if "domain" in fields and not domain_name:
        actor.note = (f"domain name unknown: the domain id {domain_id} stands for it (add 'openstack domain list "
                      "-f json')")
    if "domain_id" in fields and not domain_id:
        actor.why = (f"the {a.actor_kind}'s domain id is not in the input (only its name): add {listing} and "
                     "'openstack domain list -f json', or use {domain} in --subject-template")
        return actor
    actor.subject = prefix + template.format(name=name or a.actor_id, domain=domain_name or domain_id,
                                             domain_id=domain_id or "", id=a.actor_id)
    return actor


def _check_collisions(actors: List[Actor], template: str) -> None:
    seen: Dict[Tuple[str, Optional[str]], Actor] = {}
    for act in sorted((x for x in actors if x.subject), key=lambda x: (x.kind, x.id)):
        other = seen.setdefault((act.kind, act.subject), act)
        if other.id != act.id:
            raise UserError(f"--subject-template {template!r} gives {act.kind} {act.subject} to two identities: "
                            f"{other.label} and {act.label}; one would get the other's roles. Use a template "
                            "that tells them apart, e.g. --subject-template '{domain}:{name}'")


def _domain_projects(estate, domain_id: str, project_ns: Dict[str, str]) -> List[str]:
    return sorted(pid for pid, p in estate.projects.items() if p.domain_id == domain_id and pid in project_ns)


def _subtree(estate, pid: str) -> List[str]:
    out, frontier = [], [pid]
    while frontier:
        cur = frontier.pop()
        kids = sorted(p.id for p in estate.projects.values() if p.parent_id == cur)
        out.extend(kids)
        frontier.extend(kids)
    return out


def role_bindings(estate, options, project_ns: Dict[str, str], common_labels: dict, report) -> List[dict]:
    """A RoleBinding per namespace and ClusterRole, with the subjects of the role assignments that map to it."""
    role_map = options.role_map
    bindings: Dict[Tuple[str, str], List[dict]] = {}
    used_actors: Dict[Tuple[str, str], str] = {}
    check_subject_template(options.subject_template)
    actors = {id(a): _actor(estate, a, options.subject_template, options.subject_prefix)
              for a in estate.role_assignments}
    _check_collisions(list(actors.values()), options.subject_template)
    for a in sorted(estate.role_assignments, key=lambda x: x.id):
        report.claim(a, "links", "role", "scope", "user", "group")
        role = _mapped_role(estate, a, role_map, report)
        if role is None:
            continue
        role_name, cluster_roles = role
        pids = _scoped_projects(estate, a, project_ns, report)
        if pids is None:
            continue
        actor = actors[id(a)]
        if actor.subject is None:
            report.dropped(a, a.actor_kind, f"not bound: {actor.why}")
            continue
        report.add(a, a.actor_kind, APPROXIMATED if actor.note else MAPPED, f"{actor.kind} {actor.subject}",
                   actor.note)
        subject = {"apiGroup": RBAC, "kind": actor.kind, "name": actor.subject}
        used_actors[(a.actor_kind, a.actor_id)] = actor.subject
        namespaces = sorted({project_ns[p] for p in pids if p in project_ns})
        for ns in namespaces:
            for cr in cluster_roles:
                subs = bindings.setdefault((ns, cr), [])
                if subject not in subs:
                    subs.append(subject)
        report.mapped(a, "role", ", ".join(f"ClusterRole {cr}" for cr in cluster_roles),
                      f"{role_name} -> {', '.join(cluster_roles)} in {', '.join(namespaces)}")
    _account_identities(estate, role_map, used_actors, report)
    return _binding_objects(bindings, common_labels)


def _mapped_role(estate, a, role_map: Dict[str, List[str]], report) -> Optional[Tuple[str, List[str]]]:
    """(role name, ClusterRoles) of an assignment, or None when it has no name or no mapping (reported)."""
    role_name = a.role_name or (estate.roles[a.role_id].name if a.role_id in estate.roles else None)
    if role_name is None:
        report.dropped(a, "role", f"role {a.role_id} has no name in the input (add the roles listing or use "
                                  "include_names=true)")
        return None
    cluster_roles = role_map.get(role_name)
    if not cluster_roles:
        report.dropped(a, "role", f"role {role_name!r} has no ClusterRole; map it with --role-map "
                                  f"{role_name}=CLUSTERROLE")
        return None
    return role_name, cluster_roles


def _scoped_projects(estate, a, project_ns: Dict[str, str], report) -> Optional[List[str]]:
    """The projects an assignment reaches (a domain's, a project's subtree, or one), or None (reported)."""
    if a.scope_kind == "system":
        report.dropped(a, "scope", "system-scoped roles have no namespaced equivalent; bind a ClusterRole by hand")
        return None
    if a.scope_kind == "domain":
        pids = _domain_projects(estate, a.scope_id, project_ns)
        if not pids:
            report.dropped(a, "scope", f"domain {a.scope_id} has no project in the input")
            return None
        report.approximated(a, "scope", "", f"domain-wide role bound in the {len(pids)} namespaces of the "
                                            "domain's projects; new namespaces need their own binding")
        return pids
    if a.inherited:
        report.approximated(a, "scope", "", "inherited to sub-projects: bound in their namespaces")
        return _subtree(estate, a.scope_id)
    report.mapped(a, "scope", f"Namespace {project_ns.get(a.scope_id)}")
    return [a.scope_id]


def _account_identities(estate, role_map: Dict[str, List[str]], used_actors: Dict[Tuple[str, str], str],
                        report) -> None:
    """Users and groups: bound as which subject, or dropped; roles: which ClusterRoles."""
    for kind, table in (("user", estate.users), ("group", estate.groups)):
        for rec in table.values():
            if (kind, rec.id) in used_actors:
                report.mapped(rec, "name", "RoleBinding subjects", used_actors[(kind, rec.id)])
            else:
                report.dropped(rec, "name", "no role assignment in a converted project; Kubernetes keeps no user "
                                            "objects")
    for role in estate.roles.values():
        report.mapped(role, "name", "ClusterRoles " + ", ".join(role_map.get(role.name) or ["(none)"]))


def _binding_objects(bindings: Dict[Tuple[str, str], List[dict]], common_labels: dict) -> List[dict]:
    out: List[dict] = []
    for (ns, cr), subjects in sorted(bindings.items()):
        out.append({"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
                    "metadata": {"name": names.dns_label("openstack-" + cr.replace(":", "-"), "openstack", 253),
                                 "namespace": ns, "labels": dict(common_labels)},
                    "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": cr},
                    "subjects": sorted(subjects, key=lambda s: (s["kind"], s["name"]))})
    return out

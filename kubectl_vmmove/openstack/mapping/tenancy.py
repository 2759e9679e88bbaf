"""Domains and projects -> Namespaces, project quotas -> ResourceQuotas, role assignments -> RoleBindings.

Namespace names come from `--namespace-template` (default `{domain}-{project}`), made DNS-1123 safe; when two
projects land on the same name, the project with the smaller id keeps it and the other gets a short hash of its id,
the same way every run, and both are reported. Keystone roles map to ClusterRoles (admin -> admin +
kubevirt.io:admin, member -> edit + kubevirt.io:edit, reader -> view + kubevirt.io:view; `--role-map` changes it),
with one RoleBinding per namespace and ClusterRole listing every subject. Subjects are users and groups of the
cluster's identity provider: `--subject-prefix` adds its prefix (e.g. `oidc:`).
"""

from typing import Dict, List, Optional, Tuple

from ...errors import UsageError
from . import names
from ..report import APPROXIMATED, MAPPED

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
                         + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS))
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
    mapping, facts = {}, {}
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
    sharing: Dict[str, int] = {}
    for pid in estate.quotas:
        if project_ns.get(pid):
            sharing[project_ns[pid]] = sharing.get(project_ns[pid], 0) + 1
    totals: Dict[str, Dict[str, List]] = {}  # namespace -> resource -> [sum, unit]
    unlimited: Dict[str, set] = {}
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


def _subject(estate, a, prefix: str, report) -> Optional[dict]:
    if a.actor_kind == "user":
        rec = estate.users.get(a.actor_id)
        kind = "User"
    else:
        rec = estate.groups.get(a.actor_id)
        kind = "Group"
    name = (rec.name if rec else None) or a.actor_name
    if not name:
        report.approximated(a, a.actor_kind, "", f"{a.actor_kind} name unknown: its id is the subject name")
        name = a.actor_id
    else:
        report.mapped(a, a.actor_kind, "", f"{kind} {prefix}{name}")
    return {"apiGroup": RBAC, "kind": kind, "name": prefix + name}


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
    role_map = options.role_map
    bindings: Dict[Tuple[str, str], List[dict]] = {}
    used_actors = set()
    for a in sorted(estate.role_assignments, key=lambda x: x.id):
        report.claim(a, "links", "role", "scope", "user", "group")
        role_name = a.role_name or (estate.roles[a.role_id].name if a.role_id in estate.roles else None)
        if role_name is None:
            report.dropped(a, "role", f"role {a.role_id} has no name in the input (add the roles listing or use "
                                      "include_names=true)")
            continue
        cluster_roles = role_map.get(role_name)
        if not cluster_roles:
            report.dropped(a, "role", f"role {role_name!r} has no ClusterRole; map it with --role-map "
                                      f"{role_name}=CLUSTERROLE")
            continue
        if a.scope_kind == "system":
            report.dropped(a, "scope", "system-scoped roles have no namespaced equivalent; bind a ClusterRole by hand")
            continue
        if a.scope_kind == "domain":
            pids = _domain_projects(estate, a.scope_id, project_ns)
            if not pids:
                report.dropped(a, "scope", f"domain {a.scope_id} has no project in the input")
                continue
            report.approximated(a, "scope", "", f"domain-wide role bound in the {len(pids)} namespaces of the "
                                                "domain's projects; new namespaces need their own binding")
        else:
            pids = [a.scope_id]
            if a.inherited:
                pids = _subtree(estate, a.scope_id)
                report.approximated(a, "scope", "", "inherited to sub-projects: bound in their namespaces")
            else:
                report.mapped(a, "scope", f"Namespace {project_ns.get(a.scope_id)}")
        subject = _subject(estate, a, options.subject_prefix, report)
        used_actors.add((a.actor_kind, a.actor_id))
        namespaces = sorted({project_ns[p] for p in pids if p in project_ns})
        for ns in namespaces:
            for cr in cluster_roles:
                subs = bindings.setdefault((ns, cr), [])
                if subject not in subs:
                    subs.append(subject)
        report.mapped(a, "role", ", ".join(f"ClusterRole {cr}" for cr in cluster_roles),
                      f"{role_name} -> {', '.join(cluster_roles)} in {', '.join(namespaces)}")
    for kind, table in (("user", estate.users), ("group", estate.groups)):
        for rec in table.values():
            if (kind, rec.id) in used_actors:
                report.mapped(rec, "name", "RoleBinding subjects", f"{options.subject_prefix}{rec.name}")
            else:
                report.dropped(rec, "name", "no role assignment in a converted project; Kubernetes keeps no user "
                                            "objects")
    for role in estate.roles.values():
        report.mapped(role, "name", "ClusterRoles " + ", ".join(role_map.get(role.name) or ["(none)"]))
    out = []
    for (ns, cr), subjects in sorted(bindings.items()):
        out.append({"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
                    "metadata": {"name": names.dns_label("openstack-" + cr.replace(":", "-"), "openstack", 253),
                                 "namespace": ns, "labels": dict(common_labels)},
                    "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": cr},
                    "subjects": sorted(subjects, key=lambda s: (s["kind"], s["name"]))})
    return out

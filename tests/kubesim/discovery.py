"""Discovery documents (/version, /api, /api/v1, /apis, /apis/<group>[/<version>]) in the legacy format, which every
client accepts (kubectl falls back to it when it asked for aggregated discovery)."""

from .resources import KUBEVIRT_VM_SUBRESOURCES

VERSION = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.4+kubesim", "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.6", "compiler": "gc",
    "platform": "linux/amd64",
}

_STATUS_VERBS = ["get", "patch", "update"]


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group_doc(group, versions):
    return {"name": group,
            "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
            "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]}}


def group_list(registry):
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_doc(g, vs) for g, vs in registry.groups()]}


def group(registry, name):
    for g, vs in registry.groups():
        if g == name:
            doc = _group_doc(g, vs)
            doc.update({"kind": "APIGroup", "apiVersion": "v1"})
            return doc
    return None


def resource_list(registry, group, version):
    types = registry.for_group_version(group, version)
    if not types:
        return None
    resources = []
    for t in types:
        if t.group == "subresources.kubevirt.io":
            for sub in KUBEVIRT_VM_SUBRESOURCES:
                resources.append({"name": f"virtualmachines/{sub}", "singularName": "", "namespaced": True,
                                  "kind": "VirtualMachine", "verbs": ["update"] if sub != "expand-spec" else ["get"]})
            continue
        entry = {"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced, "kind": t.kind,
                 "verbs": list(t.verbs)}
        if t.short_names:
            entry["shortNames"] = list(t.short_names)
        if t.categories:
            entry["categories"] = list(t.categories)
        resources.append(entry)
        if t.status:
            resources.append({"name": f"{t.plural}/status", "singularName": "", "namespaced": t.namespaced,
                              "kind": t.kind, "verbs": _STATUS_VERBS})
        if t.key == "namespaces":
            resources.append({"name": "namespaces/finalize", "singularName": "", "namespaced": False,
                              "kind": "Namespace", "verbs": ["update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources}

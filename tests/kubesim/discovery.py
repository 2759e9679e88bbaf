"""Discovery documents (/version, /api, /api/v1, /apis, /apis/<group>[/<version>]) in the legacy format, and the
aggregated form of /api and /apis (apidiscovery.k8s.io/v2beta1, the only one v1.28 serves) that kubectl asks for
first, so it learns every resource in two requests."""

from .negotiation import accept_options
from .resources import KUBEVIRT_VM_SUBRESOURCES

# The Kubernetes version whose behaviour kubesim models (kube-apiserver-fidelity.md compares it with a real v1.28.7).
VERSION = {
    "major": "1", "minor": "28", "gitVersion": "v1.28.7", "gitCommit": "c8dcb00be9961ec36d141d2e4103f85f92bcf291",
    "gitTreeState": "clean", "buildDate": "2024-02-14T10:32:40Z", "goVersion": "go1.21.7", "compiler": "gc",
    "platform": "linux/amd64",
}

AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

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
        if t.scale:
            resources.append({"name": f"{t.plural}/scale", "singularName": "", "namespaced": t.namespaced,
                              "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": _STATUS_VERBS})
        if t.key == "namespaces":
            resources.append({"name": "namespaces/finalize", "singularName": "", "namespaced": False,
                              "kind": "Namespace", "verbs": ["update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources}


def wants_aggregated(accept):
    """True when the first alternative of ``accept`` kubesim can serve is the v2beta1 aggregated list.

    As the apiserver's content negotiation does, an alternative naming a group/version kubesim does not serve
    (the v2 aggregated list, first served by Kubernetes 1.30) is skipped and the next one is considered.
    """
    for mtype, params in accept_options(accept):
        if mtype not in ("application/json", "*/*", "application/*"):
            continue
        if "g" not in params and "v" not in params and "as" not in params:
            return False
        if params.get("g") == "apidiscovery.k8s.io" and params.get("v") == "v2beta1" and \
                params.get("as") == "APIGroupDiscoveryList":
            return True
    return False


def _aggregated_resource(group, version, entries):
    """APIResourceDiscovery entries of one group version, built from its legacy resource list."""
    out = {}
    for e in entries:
        name, _, sub = e["name"].partition("/")
        kind = {"group": e.get("group", group), "version": e.get("version", version), "kind": e["kind"]}
        if not sub:
            res = out.setdefault(name, {"resource": name})
            res.update({"responseKind": kind, "scope": "Namespaced" if e["namespaced"] else "Cluster",
                        "singularResource": e["singularName"], "verbs": e["verbs"]})
            if e.get("shortNames"):
                res["shortNames"] = e["shortNames"]
            if e.get("categories"):
                res["categories"] = e["categories"]
        else:
            res = out.setdefault(name, {"resource": name, "responseKind": {}, "singularResource": "",
                                        "scope": "Namespaced" if e["namespaced"] else "Cluster", "verbs": []})
            res.setdefault("subresources", []).append({"subresource": sub, "responseKind": kind,
                                                       "verbs": e["verbs"]})
    return list(out.values())


def aggregated(registry, legacy):
    """The APIGroupDiscoveryList of /api (``legacy``) or /apis."""
    items = []
    groups = [("", ["v1"])] if legacy else registry.groups()
    for group, versions in groups:
        item = {"metadata": {"creationTimestamp": None}, "versions": []}
        if group:
            item["metadata"]["name"] = group
        for v in versions:
            doc = resource_list(registry, group, v)
            if doc is None:
                continue
            item["versions"].append({"version": v, "resources": _aggregated_resource(group, v, doc["resources"]),
                                     "freshness": "Current"})
        items.append(item)
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2beta1", "metadata": {},
            "items": items}

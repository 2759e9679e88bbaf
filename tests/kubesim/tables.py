"""Server-side printing: the ``meta.k8s.io/v1 Table`` kubectl asks for, with the columns the real server prints for
core kinds and the additionalPrinterColumns of the CRDs."""

import json
import re

from .clock import parse_rfc3339


def human_duration(seconds):
    """AGE as the apiserver prints it: apimachinery's duration.HumanDuration, kubesim's own copy (the plugin has
    another, so a difference between the two shows in tests)."""
    whole = int(seconds)          # Go's int(d.Seconds()) truncates toward zero
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 60 * 2:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        sec = whole % 60
        return f"{minutes}m" if sec == 0 else f"{minutes}m{sec}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        mins = minutes % 60
        return f"{hours}h" if mins == 0 else f"{hours}h{mins}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _age(ts, now):
    if not ts:
        return "<unknown>"
    try:
        return human_duration((now - parse_rfc3339(ts)).total_seconds())
    except ValueError:
        return "<unknown>"


def _controller(obj):
    """The controller owner as kubectl's printers name it: ``kind.group/name`` in lower case, or <none>."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            group = ref.get("apiVersion", "").rpartition("/")[0]
            kind = f"{ref.get('kind', '')}.{group}" if group else ref.get("kind", "")
            return f"{kind.lower()}/{ref.get('name', '')}"
    return "<none>"


# ------------------------------------------------------------------ JSONPath subset used by printer columns
_TOKEN = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*['\"]([^'\"]*)['\"]\)\]")


def jsonpath(obj, path):
    values = [obj]
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            return []
        pos = m.end()
        nxt = []
        for v in values:
            if m.group(1) is not None and isinstance(v, dict) and m.group(1) in v:
                nxt.append(v[m.group(1)])
            elif m.group(2) is not None and isinstance(v, list) and int(m.group(2)) < len(v):
                nxt.append(v[int(m.group(2))])
            elif m.group(3) is not None and isinstance(v, list):
                field, want = m.group(3), m.group(4)
                for item in v:
                    cur = item
                    for part in field.split("."):
                        cur = cur.get(part) if isinstance(cur, dict) else None
                    if cur is not None and str(cur) == want:
                        nxt.append(item)
        values = nxt
    return values


def _cell_for(value, ctype, now):
    if value is None:
        return None
    if ctype == "date" and isinstance(value, str):
        return _age(value, now)
    if ctype == "integer" and isinstance(value, (int, float)):
        return int(value)
    if ctype == "boolean" and isinstance(value, bool):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return value if isinstance(value, (str, int, float, bool)) else str(value)


# ------------------------------------------------------------------ core kinds
_ABBREV = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _modes(modes):
    return ",".join(_ABBREV.get(m, m) for m in modes or ())


def _col(name, ctype="string", priority=0, fmt="", desc=""):
    return {"name": name, "type": ctype, "format": fmt, "description": desc or name, "priority": priority}


NAME = _col("Name", fmt="name", desc="Name must be unique within a namespace.")
AGE = _col("Age", desc="CreationTimestamp is a timestamp representing the server time when this object was created.")


def _selector(sel):
    return ",".join(f"{k}={v}" for k, v in sorted((sel or {}).items())) or "<none>"


def _ports(svc):
    out = []
    for p in (svc.get("spec") or {}).get("ports") or ():
        s = str(p.get("port"))
        if p.get("nodePort"):
            s += f":{p['nodePort']}"
        out.append(f"{s}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _pod_ready(pod):
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or [])
    ready = sum(1 for c in statuses if c.get("ready"))
    return f"{ready}/{total}"


def _core(kind):
    """(columns, row function(obj, now)) for the core kinds with their own printers; None for Name/Age only."""
    meta = lambda o: o.get("metadata") or {}  # noqa: E731
    spec = lambda o: o.get("spec") or {}  # noqa: E731
    status = lambda o: o.get("status") or {}  # noqa: E731
    age = lambda o, now: _age(meta(o).get("creationTimestamp"), now)  # noqa: E731
    table = {
        "Namespace": ([NAME, _col("Status"), AGE],
                      lambda o, now: [meta(o)["name"], status(o).get("phase", ""), age(o, now)]),
        "Pod": ([NAME, _col("Ready"), _col("Status"), _col("Restarts", "string"), AGE, _col("IP", priority=1),
                 _col("Node", priority=1), _col("Nominated Node", priority=1), _col("Readiness Gates", priority=1)],
                lambda o, now: [meta(o)["name"], _pod_ready(o), status(o).get("reason") or status(o).get("phase", ""),
                                str(sum(c.get("restartCount", 0) for c in status(o).get("containerStatuses") or ())),
                                age(o, now), status(o).get("podIP") or "<none>", spec(o).get("nodeName") or "<none>",
                                "<none>", "<none>"]),
        "Service": ([NAME, _col("Type"), _col("Cluster-IP"), _col("External-IP"), _col("Port(s)"), AGE,
                     _col("Selector", priority=1)],
                    lambda o, now: [meta(o)["name"], spec(o).get("type", "ClusterIP"),
                                    spec(o).get("clusterIP") or "<none>",
                                    ",".join(spec(o).get("externalIPs") or ()) or (
                                        "<pending>" if spec(o).get("type") == "LoadBalancer" else "<none>"),
                                    _ports(o), age(o, now), _selector(spec(o).get("selector"))]),
        "ConfigMap": ([NAME, _col("Data", "integer"), AGE],
                      lambda o, now: [meta(o)["name"], len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                                      age(o, now)]),
        "Secret": ([NAME, _col("Type"), _col("Data", "integer"), AGE],
                   lambda o, now: [meta(o)["name"], o.get("type", "Opaque"), len(o.get("data") or {}), age(o, now)]),
        "ServiceAccount": ([NAME, _col("Secrets", "integer"), AGE],
                           lambda o, now: [meta(o)["name"], len(o.get("secrets") or ()), age(o, now)]),
        "PersistentVolumeClaim": (
            [NAME, _col("Status"), _col("Volume"), _col("Capacity"), _col("Access Modes"), _col("StorageClass"),
             _col("VolumeAttributesClass"), AGE, _col("VolumeMode", priority=1)],
            lambda o, now: [meta(o)["name"], status(o).get("phase", ""), spec(o).get("volumeName", ""),
                            (status(o).get("capacity") or {}).get("storage", ""),
                            _modes(status(o).get("accessModes")), spec(o).get("storageClassName", ""),
                            spec(o).get("volumeAttributesClassName") or "<unset>", age(o, now),
                            spec(o).get("volumeMode", "")]),
        "PersistentVolume": (
            [NAME, _col("Capacity"), _col("Access Modes"), _col("Reclaim Policy"), _col("Status"), _col("Claim"),
             _col("StorageClass"), _col("VolumeAttributesClass"), _col("Reason"), AGE,
             _col("VolumeMode", priority=1)],
            lambda o, now: [meta(o)["name"], (spec(o).get("capacity") or {}).get("storage", ""),
                            _modes(spec(o).get("accessModes")), spec(o).get("persistentVolumeReclaimPolicy", ""),
                            status(o).get("phase", ""),
                            (f"{spec(o)['claimRef'].get('namespace', '')}/{spec(o)['claimRef'].get('name', '')}"
                             if spec(o).get("claimRef") else ""),
                            spec(o).get("storageClassName", ""), spec(o).get("volumeAttributesClassName") or "<unset>",
                            status(o).get("reason", ""), age(o, now), spec(o).get("volumeMode", "")]),
        "Event": ([_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"), _col("Message")],
                  lambda o, now: [_age(o.get("lastTimestamp") or o.get("eventTime") or
                                       meta(o).get("creationTimestamp"), now),
                                  o.get("type", ""), o.get("reason", ""),
                                  f"{(o.get('involvedObject') or {}).get('kind', '').lower()}/"
                                  f"{(o.get('involvedObject') or {}).get('name', '')}", o.get("message", "")]),
        "ResourceQuota": ([NAME, AGE, _col("Request"), _col("Limit")],
                          lambda o, now: [meta(o)["name"], age(o, now),
                                          ", ".join(f"{k}: {(status(o).get('used') or {}).get(k, '0')}/{v}"
                                                    for k, v in sorted((spec(o).get("hard") or {}).items())
                                                    if not k.startswith("limits.")), ""]),
        "StorageClass": ([NAME, _col("Provisioner"), _col("ReclaimPolicy"), _col("VolumeBindingMode"),
                          _col("AllowVolumeExpansion"), AGE],
                         lambda o, now: [meta(o)["name"] + (
                             " (default)" if (meta(o).get("annotations") or {}).get(
                                 "storageclass.kubernetes.io/is-default-class") == "true" else ""),
                                         o.get("provisioner", ""), o.get("reclaimPolicy", "Delete"),
                                         o.get("volumeBindingMode", "Immediate"),
                                         str(bool(o.get("allowVolumeExpansion", False))).lower(), age(o, now)]),
        "NetworkPolicy": ([NAME, _col("Pod-Selector"), AGE],
                          lambda o, now: [meta(o)["name"],
                                          _selector((spec(o).get("podSelector") or {}).get("matchLabels")).replace(
                                              "<none>", ""), age(o, now)]),
        "RoleBinding": ([NAME, _col("Role"), AGE],
                        lambda o, now: [meta(o)["name"], f"{(o.get('roleRef') or {}).get('kind')}/"
                                                         f"{(o.get('roleRef') or {}).get('name')}", age(o, now)]),
        "ClusterRoleBinding": ([NAME, _col("Role"), AGE],
                               lambda o, now: [meta(o)["name"], f"{(o.get('roleRef') or {}).get('kind')}/"
                                                                f"{(o.get('roleRef') or {}).get('name')}",
                                               age(o, now)]),
        "ControllerRevision": ([NAME, _col("Controller"), _col("Revision", "integer"), AGE],
                               lambda o, now: [meta(o)["name"], _controller(o), o.get("revision", 0), age(o, now)]),
        "Role": ([NAME, _col("Created At")], lambda o, now: [meta(o)["name"], meta(o).get("creationTimestamp")]),
        "ClusterRole": ([NAME, _col("Created At")],
                        lambda o, now: [meta(o)["name"], meta(o).get("creationTimestamp")]),
    }
    return table.get(kind)


def _partial(obj):
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def build_table(t, objs, now, resource_version, continue_token=None, include_object="PartialObjectMetadata",
                remaining=None):
    core = None if t.custom else _core(t.kind)
    if core:
        columns, row = core
    elif t.columns:
        columns = [NAME] + [_col(n, ctype, prio) for n, ctype, _, prio in t.columns]
        specs = t.columns

        def row(o, now):
            cells = [o["metadata"]["name"]]
            for _, ctype, path, _ in specs:
                found = jsonpath(o, path)
                cells.append(_cell_for(found[0], ctype, now) if found else None)
            return cells
    else:
        columns = [NAME, AGE]

        def row(o, now):
            return [o["metadata"]["name"], _age(o["metadata"].get("creationTimestamp"), now)]
    rows = []
    for o in objs:
        r = {"cells": row(o, now)}
        if include_object == "Object":
            r["object"] = o
        elif include_object != "None":
            r["object"] = _partial(o)
        rows.append(r)
    meta = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    if remaining:
        meta["remainingItemCount"] = remaining
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": columns,
            "rows": rows}

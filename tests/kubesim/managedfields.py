"""``metadata.managedFields`` as the apiserver's field manager keeps them: one entry per (manager, operation,
subresource) with the fields that manager set, in the FieldsV1 form.

Simplifications, stated: lists are owned whole (``f:list: {}``, no ``k:``/``v:`` keys for associative lists), and a
manager does not take fields away from another manager's entry when it changes them."""

_SYSTEM_META = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
                "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "generateName")


def manager_from_user_agent(user_agent):
    """The default manager name: the user agent up to its first "/", at most 128 characters."""
    return (user_agent or "").split("/")[0][:128] or "unknown"


def _fields(node):
    if isinstance(node, dict):
        return {f"f:{k}": _fields(v) for k, v in sorted(node.items())}
    return {}


def fields_v1(obj, status_separate, subresource=None):
    """The FieldsV1 set of ``obj`` as written by a main-resource (or status) request."""
    if subresource == "status":
        return {"f:status": _fields(obj["status"])} if isinstance(obj.get("status"), dict) else {}
    out = {}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SYSTEM_META}
    if meta:
        out["f:metadata"] = _fields(meta)
    for k, v in sorted(obj.items()):
        if k in ("apiVersion", "kind", "metadata") or (k == "status" and status_separate):
            continue
        out[f"f:{k}"] = _fields(v)
    return out


def _union(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = _union(out.get(k, {}), v) if isinstance(v, dict) and v else out.get(k, v)
    return out


def _value_changed(old_obj, new_obj):
    """FieldsV1 of the leaves whose values differ between two objects (main resource view)."""
    def walk(o, n):
        out = {}
        if not isinstance(n, dict):
            return out
        for k, v in n.items():
            ov = o.get(k) if isinstance(o, dict) else None
            if ov == v:
                continue
            if isinstance(v, dict) and isinstance(ov, dict):
                sub = walk(ov, v)
                out[f"f:{k}"] = sub
            else:
                out[f"f:{k}"] = _fields(v)
        return out
    return walk(old_obj, new_obj)


def stamp(old, new, manager, operation, api_version, timestamp, status_separate, subresource=None):
    """Set ``new["metadata"]["managedFields"]`` for a write by ``manager`` (``old`` None for a create)."""
    meta = new.setdefault("metadata", {})
    sent = meta.get("managedFields")
    base = sent if sent is not None and (old is None or sent != (old.get("metadata") or {}).get("managedFields")) \
        else (old or {}).get("metadata", {}).get("managedFields") or []
    if old is None:
        owned = fields_v1(new, status_separate, subresource)
    else:
        view = lambda o: {k: v for k, v in o.items() if k not in ("apiVersion", "kind")}  # noqa: E731
        olds = dict(view(old), metadata={k: v for k, v in old.get("metadata", {}).items() if k not in _SYSTEM_META})
        news = dict(view(new), metadata={k: v for k, v in new.get("metadata", {}).items() if k not in _SYSTEM_META})
        if subresource == "status":
            olds, news = {"status": olds.get("status")}, {"status": news.get("status")}
        elif status_separate:
            olds.pop("status", None)
            news.pop("status", None)
        owned = _value_changed(olds, news)
        owned.pop("f:metadata", None) if owned.get("f:metadata") == {} else None
    entries = [dict(e) for e in base if isinstance(e, dict)]
    if not owned:
        meta["managedFields"] = entries
        return new
    for e in entries:
        if (e.get("manager"), e.get("operation"), e.get("subresource")) == (manager, operation, subresource):
            e["fieldsV1"] = _union(e.get("fieldsV1") or {}, owned)
            e["time"] = timestamp
            e["apiVersion"] = api_version
            break
    else:
        entry = {"manager": manager, "operation": operation, "apiVersion": api_version, "time": timestamp,
                 "fieldsType": "FieldsV1", "fieldsV1": owned}
        if subresource:
            entry["subresource"] = subresource
        entries.append(entry)
    meta["managedFields"] = entries
    return new

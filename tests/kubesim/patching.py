"""Patch application: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and an approximation of strategic merge
patch that knows the list merge keys kubectl relies on.  Pure functions: document in, new document out."""

import copy

from . import errors
from .errors import bad_request


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class JSONPatchError(Exception):
    pass


def _unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def _split_pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise JSONPatchError(f'JSON pointer "{path}" must start with "/"')
    return [_unescape(t) for t in path[1:].split("/")]


def _index(container, token, path, allow_end=False):
    if token == "-" and allow_end:
        return len(container)
    try:
        i = int(token)
    except ValueError:
        raise JSONPatchError(f"unable to access invalid index: {token}") from None
    limit = len(container) + (1 if allow_end else 0)
    if i < 0 or i >= limit:
        raise JSONPatchError(f"unable to access invalid index: {i}")
    return i


def _parent(doc, tokens, path):
    cur = doc
    for t in tokens[:-1]:
        if isinstance(cur, dict):
            if t not in cur:
                raise JSONPatchError(f"doc is missing path: \"{path}\": missing value")
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_index(cur, t, path)]
        else:
            raise JSONPatchError(f"doc is missing path: \"{path}\": missing value")
    return cur


def _get(doc, path):
    tokens = _split_pointer(path)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise JSONPatchError(f"doc is missing path: \"{path}\": missing value")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, path)]
    raise JSONPatchError(f"doc is missing path: \"{path}\": missing value")


def _add(doc, path, value):
    tokens = _split_pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, path, allow_end=True), value)
    else:
        raise JSONPatchError(f"doc is missing path: \"{path}\": missing value")
    return doc


def _remove(doc, path):
    tokens = _split_pointer(path)
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise JSONPatchError(f"unable to remove nonexistent key: {last}: missing value")
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last, path)]
    else:
        raise JSONPatchError(f"doc is missing path: \"{path}\": missing value")
    return doc


def json_patch(doc, ops):
    """Apply RFC 6902 operations; failures raise ApiError 422 as the apiserver does (a failed ``test`` included)."""
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    try:
        for op in ops:
            if not isinstance(op, dict) or "op" not in op:
                raise JSONPatchError("Unexpected kind: <nil>")
            kind, path = op["op"], op.get("path", "")
            if kind == "add":
                doc = _add(doc, path, copy.deepcopy(op.get("value")))
            elif kind == "remove":
                doc = _remove(doc, path)
            elif kind == "replace":
                _get(doc, path)
                doc = _remove(doc, path) if _split_pointer(path) else doc
                doc = _add(doc, path, copy.deepcopy(op.get("value")))
            elif kind == "move":
                value = _get(doc, op["from"])
                doc = _remove(doc, op["from"])
                doc = _add(doc, path, value)
            elif kind == "copy":
                doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"])))
            elif kind == "test":
                try:
                    have = _get(doc, path)
                except JSONPatchError:
                    have = None
                if have != op.get("value"):
                    raise JSONPatchError(f"testing value {path} failed: test failed")
            else:
                raise JSONPatchError(f"Unexpected kind: {kind}")
    except JSONPatchError as e:
        raise errors.generic_unprocessable(str(e)) from e
    return doc


# Strategic merge: list fields merged by a key (patchMergeKey in the Go types), and lists of scalars merged as sets
# (patchStrategy merge).  Everything else is replaced, as in a JSON merge patch.
_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
    "volumeMounts": "mountPath", "volumeDevices": "devicePath", "env": "name", "imagePullSecrets": "name",
    "ownerReferences": "uid", "conditions": "type", "tolerations": "key", "hostAliases": "ip",
    "secrets": "name", "subsets": None,
}
_SET_LISTS = {"finalizers"}


def _ports_key(path):
    # Service ports merge on "port", container ports on "containerPort".
    return "containerPort" if "containers" in path or "initContainers" in path else "port"


def strategic_merge(target, patch, path=()):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key == "$retainKeys" or key == "$patch":
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [x for x in result[field] if x not in (value or [])]
            continue
        if value is None:
            result.pop(key, None)
            continue
        merge_key = _ports_key(path) if key == "ports" else _MERGE_KEYS.get(key)
        if isinstance(value, list) and merge_key and isinstance(result.get(key), list):
            result[key] = _merge_list_by_key(result[key], value, merge_key, path + (key,))
        elif isinstance(value, list) and key in _SET_LISTS and isinstance(result.get(key), list):
            merged = list(result[key])
            merged.extend(x for x in value if x not in merged)
            result[key] = merged
        elif isinstance(value, list):
            result[key] = [strategic_merge(None, v, path + (key,)) if isinstance(v, dict) else copy.deepcopy(v)
                           for v in value if not (isinstance(v, dict) and v.get("$patch") == "delete")]
        else:
            result[key] = strategic_merge(result.get(key), value, path + (key,))
    return result


def _merge_list_by_key(current, patch_items, merge_key, path):
    out = [copy.deepcopy(x) for x in current]
    for item in patch_items:
        if not isinstance(item, dict) or merge_key not in item:
            if isinstance(item, dict) and item.get("$patch") == "replace":
                return [copy.deepcopy(x) for x in patch_items if x is not item]
            out.append(copy.deepcopy(item))
            continue
        idx = next((i for i, x in enumerate(out) if isinstance(x, dict) and x.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del out[idx]
            continue
        if idx is None:
            out.append(strategic_merge(None, item, path))
        else:
            out[idx] = strategic_merge(out[idx], item, path)
    return out

"""Structural-schema handling of custom resources as the apiextensions server does it: prune unknown fields (and
nulls that are not nullable), apply defaults, then validate types, required fields, enums, patterns and bounds with
the apiserver's field-path messages.  Schemas are loaded lazily, once per process."""

import copy
import functools
import json
import os
import re

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")


@functools.lru_cache(maxsize=None)
def load(relpath):
    with open(os.path.join(SCHEMA_DIR, relpath), encoding="utf-8") as f:
        return json.load(f)


@functools.lru_cache(maxsize=None)
def _regex(pattern):
    return re.compile(pattern)


def _type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_ok(value, want):
    have = _type_name(value)
    if want == "number":
        return have in ("integer", "number")
    if want == "integer" and have == "number":
        return float(value).is_integer()
    return have == want


def _go_value(value):
    """A value as the apiserver quotes it in messages."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _join(path, key):
    return f"{path}.{key}" if path else key


class Result:
    def __init__(self):
        self.unknown = []   # field paths pruned because the schema does not know them
        self.causes = []    # (field, message) validation errors


def process(schema, obj):
    """Prune, default and validate ``obj`` (a whole custom resource, modified in place) against ``schema``.

    The root's apiVersion, kind and metadata are left to the caller, as the CRD schema does not describe them.
    """
    res = Result()
    props = schema.get("properties") or {}
    for key in list(obj):
        if key in ("apiVersion", "kind", "metadata"):
            continue
        if key not in props:
            res.unknown.append(key)
            del obj[key]
            continue
        if obj[key] is None and not props[key].get("nullable"):
            del obj[key]
            continue
        obj[key] = _walk(props[key], obj[key], key, res)
    for key, sub in props.items():
        if key not in obj and "default" in sub and key not in ("apiVersion", "kind", "metadata"):
            obj[key] = copy.deepcopy(sub["default"])
    for key in schema.get("required") or ():
        if key not in obj and key not in ("apiVersion", "kind", "metadata"):
            res.causes.append((key, "Required value"))
    return res


def _walk(schema, value, path, res):
    if value is None:
        if not schema.get("nullable"):
            res.causes.append((path, f'Invalid value: "null": {path} in body must be of type '
                                     f'{schema.get("type", "object")}: "null"'))
        return value
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            res.causes.append((path, f'Invalid value: "{_type_name(value)}": {path} in body must be of type '
                                     f'integer,string: "{_type_name(value)}"'))
            return value
        if isinstance(value, str) and schema.get("pattern") and not _regex(schema["pattern"]).search(value):
            res.causes.append((path, f"Invalid value: {_go_value(value)}: {path} in body should match "
                                     f"'{schema['pattern']}'"))
        return value
    want = schema.get("type")
    if isinstance(want, list):
        want = next((w for w in want if w != "null"), None)
    if want and not _type_ok(value, want):
        have = _type_name(value)
        res.causes.append((path, f'Invalid value: "{have}": {path} in body must be of type {want}: "{have}"'))
        return value
    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(_go_value(v) for v in schema["enum"])
        res.causes.append((path, f"Unsupported value: {_go_value(value)}: supported values: {supported}"))
    if isinstance(value, dict):
        return _walk_object(schema, value, path, res)
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            res.causes.append((path, f"Too many: {len(value)}: must have at most {schema['maxItems']} items"))
        if "minItems" in schema and len(value) < schema["minItems"]:
            res.causes.append((path, f"Invalid value: {len(value)}: {path} in body should have at least "
                                     f"{schema['minItems']} items"))
        items = schema.get("items")
        if isinstance(items, dict):
            out = []
            for i, v in enumerate(value):
                out.append(_walk(items, v, f"{path}[{i}]", res))
            _check_list_map(schema, out, path, res)
            return out
        return value
    if isinstance(value, str):
        if schema.get("pattern") and not _regex(schema["pattern"]).search(value):
            res.causes.append((path, f"Invalid value: {_go_value(value)}: {path} in body should match "
                                     f"'{schema['pattern']}'"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            res.causes.append((path, f"Too long: may not be more than {schema['maxLength']} bytes"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            res.causes.append((path, f"Invalid value: {_go_value(value)}: {path} in body should be greater than "
                                     f"or equal to {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            res.causes.append((path, f"Invalid value: {_go_value(value)}: {path} in body should be less than "
                                     f"or equal to {schema['maximum']}"))
    return value


def _walk_object(schema, value, path, res):
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields")
    if props is None and not isinstance(extra, dict):
        # An object with no declared fields: a map the schema leaves open (e.g. metadata in templates).
        return value
    for key in list(value):
        sub = (props or {}).get(key)
        if sub is None and isinstance(extra, dict):
            sub = extra
        if sub is None:
            if not preserve:
                res.unknown.append(_join(path, key))
                del value[key]
            continue
        if value[key] is None and not sub.get("nullable"):
            del value[key]
            continue
        value[key] = _walk(sub, value[key], _join(path, key), res)
    for key, sub in (props or {}).items():
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
    for key in schema.get("required") or ():
        if key not in value:
            res.causes.append((_join(path, key), "Required value"))
    return value


def _check_list_map(schema, items, path, res):
    if schema.get("x-kubernetes-list-type") != "map":
        return
    keys = schema.get("x-kubernetes-list-map-keys") or []
    seen = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        k = tuple(json.dumps(item.get(key)) for key in keys)
        if k in seen:
            shown = ", ".join(f"{key}={_go_value(item.get(key))}" for key in keys)
            res.causes.append((f"{path}[{i}]", f"Duplicate value: map[string]interface {{}}{{{shown}}}"))
        seen.add(k)

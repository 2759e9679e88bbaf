"""Label and field selectors in their query-string form, parsed once and matched against plain dicts."""

import re

from .errors import bad_request

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                  r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


class Requirement:
    __slots__ = ("key", "op", "values")

    def __init__(self, key, op, values=()):
        self.key, self.op, self.values = key, op, frozenset(values)

    def matches(self, labels):
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "==", "in"):
            return present and labels[self.key] in self.values
        if self.op in ("!=", "notin"):
            return not present or labels[self.key] not in self.values
        raise AssertionError(self.op)

    def __repr__(self):
        return f"Requirement({self.key!r}, {self.op!r}, {sorted(self.values)!r})"


def _split_top(text):
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


_SET = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")


def parse_label_selector(text):
    """Parse ``a=b,c!=d,e in (x,y),!f,g`` into requirements (all must match)."""
    if not text:
        return []
    reqs = []
    for part in _split_top(text):
        m = _SET.match(part)
        if m:
            key, op, vals = m.group(1), m.group(2), [v.strip() for v in m.group(3).split(",") if v.strip()]
            _check_key(key, text)
            for v in vals:
                _check_value(v, text)
            reqs.append(Requirement(key, op, vals))
            continue
        for op in ("==", "!=", "="):
            if op in part:
                key, _, val = part.partition(op)
                key, val = key.strip(), val.strip()
                _check_key(key, text)
                _check_operand(val)
                _check_value(val, text)
                reqs.append(Requirement(key, op, (val,)))
                break
        else:
            if part.startswith("!"):
                key = part[1:].strip()
                _check_key(key, text)
                reqs.append(Requirement(key, "!"))
            else:
                _check_key(part, text)
                reqs.append(Requirement(part, "exists"))
    return reqs


def _check_key(key, text):
    if not _KEY.match(key) or len(key.rpartition("/")[2]) > 63:
        raise bad_request(f'unable to parse requirement: <nil>: Invalid value: "{key}": name part must consist of '
                          f"alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
                          f"character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                          f"'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")


def _check_operand(val):
    """The value after an operator must be an identifier token, as labels.Parse's lexer reads it."""
    if val[:1] and val[0] in "=!(),<>":
        token = val[:2] if val[:2] in ("==", "!=") else val[0]
        raise bad_request(f"unable to parse requirement: found '{token}', expected: identifier")


def _check_value(val, text):
    if not _VALUE.match(val) or len(val) > 63:
        raise bad_request(f'unable to parse requirement: values[0][{text}]: Invalid value: "{val}": a valid label '
                          f"must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
                          f"start and end with an alphanumeric character")


def labels_match(reqs, obj):
    if not reqs:
        return True
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in reqs)


def selector_from_label_selector(sel):
    """Requirements from a ``metav1.LabelSelector`` dict (matchLabels / matchExpressions)."""
    reqs = [Requirement(k, "=", (v,)) for k, v in (sel.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for e in sel.get("matchExpressions") or []:
        reqs.append(Requirement(e["key"], ops[e["operator"]], e.get("values") or ()))
    return reqs


# Field selectors: which fields each kind supports, as the real server does (metadata.name and metadata.namespace
# everywhere, plus a few per kind).
_FIELDS_EXTRA = {
    "pods": ("status.phase", "spec.nodeName", "spec.serviceAccountName", "status.podIP"),
    "events": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
               "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
               "reportingComponent", "source", "type"),
    "secrets": ("type",),
    "namespaces": ("status.phase",),
    "persistentvolumeclaims": (),
}


def parse_field_selector(text, rtype):
    if not text:
        return []
    out = []
    allowed = ("metadata.name", "metadata.namespace") + _FIELDS_EXTRA.get(rtype.plural, ())
    for part in _split_top(text):
        for op in ("==", "!=", "="):
            if op in part:
                key, _, val = part.partition(op)
                key, val = key.strip(), val.strip()
                break
        else:
            raise bad_request(f'invalid selector: \'{text}\'; can\'t understand \'{part}\'')
        if key not in allowed:
            label = f"{rtype.api_version_for(rtype.version)}"
            raise bad_request(f'"{key}" is not a known field selector: only "metadata.name", "metadata.namespace"'
                              if not rtype.group else
                              f'field label not supported: {key}' if rtype.custom else
                              f'"{key}" is not a known field selector: only "metadata.name", "metadata.namespace"'
                              f' ({label})')
        out.append((key, op, val))
    return out


def _field_value(obj, path):
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    return cur if isinstance(cur, str) else str(cur)


def fields_match(reqs, obj):
    for key, op, val in reqs:
        have = _field_value(obj, key)
        if (have == val) != (op != "!="):
            return False
    return True


def field_name_equals(reqs):
    """The name a ``metadata.name=x`` field selector pins, for an index lookup; else None."""
    for key, op, val in reqs:
        if key == "metadata.name" and op != "!=":
            return val
    return None

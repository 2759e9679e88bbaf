"""Label selectors: kubectl's `-l` text form, and the LabelSelector / plain-map forms objects carry.

The inventory lists every VM of a namespace once and selects locally, because the VMs that are *not* selected are
needed too: they decide whether a dependency is shared.
"""

import re
from typing import FrozenSet, List, Tuple

from ..errors import UsageError

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                  r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_SET = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")
_EQ = re.compile(r"^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$")


def _split_top(text):
    parts, depth, cur = [], 0, []
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _check(key, values=()):
    if not _KEY.match(key) or len(key.split("/")[-1]) > 63:
        raise UsageError(f'unable to parse requirement: invalid label key "{key}": a valid label key must consist '
                         "of alphanumeric characters, '-', '_' or '.', optionally prefixed by a DNS subdomain")
    for v in values:
        if not _VALUE.match(v) or len(v) > 63:
            raise UsageError(f'unable to parse requirement: invalid label value: "{v}"')


def parse(text: str):
    """`a=b,c!=d,e in (x,y),!f,g` as a list of (key, operator, values); raises UsageError like kubectl."""
    reqs: List[Tuple[str, str, FrozenSet[str]]] = []
    if text is None or not text.strip():
        return reqs
    for part in _split_top(text):
        if not part:
            raise UsageError(f'unable to parse requirement: found \',\', expected: identifier in "{text}"')
        m = _SET.match(part)
        if m:
            values = [v.strip() for v in m.group(3).split(",") if v.strip()]
            _check(m.group(1), values)
            reqs.append((m.group(1), m.group(2), frozenset(values)))
            continue
        m = _EQ.match(part)
        if m:
            _check(m.group(1), [m.group(3)])
            reqs.append((m.group(1), "!=" if m.group(2) == "!=" else "=", frozenset([m.group(3)])))
            continue
        if part.startswith("!"):
            _check(part[1:].strip())
            reqs.append((part[1:].strip(), "!", frozenset()))
            continue
        _check(part)
        reqs.append((part, "exists", frozenset()))
    return reqs


def _match(req, labels) -> bool:
    key, op, values = req
    present = key in labels
    if op == "exists":
        return present
    if op in ("!", "DoesNotExist"):
        return not present
    if op in ("=", "in", "In"):
        return present and labels[key] in values
    if op in ("!=", "notin", "NotIn"):
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    return False


def matches_text(requirements, labels) -> bool:
    """Whether `labels` satisfy the parsed `-l` requirements (all of them)."""
    labels = labels or {}
    return all(_match(r, labels) for r in requirements)


def matches_label_selector(selector, labels) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions). An empty selector matches everything; None nothing."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or ():
        req = (expr.get("key", ""), expr.get("operator", ""), frozenset(expr.get("values") or ()))
        if not _match(req, labels):
            return False
    return True


def matches_service_selector(selector, labels) -> bool:
    """A Service's plain map selector. An empty or absent one selects no pods (endpoints are managed by hand)."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())

"""Kubernetes name and label rules, and how OpenStack names are bent to fit them.

OpenStack names are free text ("Dev Group A", "My Server Name", "web_01.example"); Kubernetes wants DNS-1123 labels
for namespaces and most object names, and a narrower syntax for label keys and values. Sanitising is lossy, so every
caller keeps the original in an annotation and tells the report when the name changed.
"""

import functools
import hashlib
import re
from typing import Dict, Optional

_NOT_DNS = re.compile(r"[^a-z0-9-]+")
_DASHES = re.compile(r"-{2,}")
_NOT_LABEL_VALUE = re.compile(r"[^A-Za-z0-9._-]+")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

MAX_LABEL = 63
# Names and labels are made from the same strings again and again (project, network and image names, metadata
# keys and tags on thousands of servers): the pure functions below keep their recent answers.
_CACHED = 2048


def short_hash(text: str, length: int = 5) -> str:
    """A stable suffix that tells apart names that sanitise alike."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


@functools.lru_cache(maxsize=_CACHED)
def dns_label(text: Optional[str], fallback: str = "x", max_length: int = MAX_LABEL) -> str:
    """`Dev Group A_1` -> `dev-group-a-1`: lower case, runs of other characters become one dash, at most 63."""
    name = _NOT_DNS.sub("-", (text or "").lower())
    name = _DASHES.sub("-", name).strip("-")
    if not name:
        name = fallback
    if len(name) > max_length:
        # Truncation alone could merge two long names; a hash of the whole keeps them apart.
        name = name[: max_length - 6].rstrip("-") + "-" + short_hash(text or "")
    return name


def dns1035_label(text: Optional[str], fallback: str = "x", max_length: int = MAX_LABEL) -> str:
    """Service names must also start with a letter."""
    name = dns_label(text, fallback, max_length)
    if not name[0].isalpha():
        name = dns_label("s-" + name, fallback, max_length)
    return name


def label_value(text: Optional[str]) -> str:
    """A label value: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric (empty is allowed)."""
    return _cached_label_value(text) if type(text) is str else _label_value(text)


def _label_value(text: Optional[str]) -> str:
    value = _NOT_LABEL_VALUE.sub("-", str(text or ""))
    value = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value)
    if len(value) > MAX_LABEL:
        value = value[: MAX_LABEL - 6].rstrip("-_.") + "-" + short_hash(str(text))
    return value


_cached_label_value = functools.lru_cache(maxsize=_CACHED)(_label_value)


def is_label_value(text: str) -> bool:
    return len(text) <= MAX_LABEL and bool(_LABEL_VALUE.match(text))


def label_name(text: str) -> str:
    """The name part of a label key (after the prefix): same syntax as a value but never empty."""
    return label_value(text) or "x"


class NameAllocator:
    """Hands out unique names in one scope (a namespace, a VM), the same way every run.

    Callers must offer candidates in a stable order (sorted by source id); the first keeps the plain name, later
    ones get a suffix from their source id, so a re-run over the same input yields the same names.
    """

    def __init__(self, max_length: int = MAX_LABEL):
        self.taken: Dict[str, str] = {}
        self.max_length = max_length

    def allocate(self, wanted: str, key: str) -> str:
        if wanted not in self.taken:
            self.taken[wanted] = key
            return wanted
        suffix = "-" + short_hash(key)
        name = wanted[: self.max_length - len(suffix)].rstrip("-") + suffix
        counter = 2
        while name in self.taken:
            suffix = f"-{short_hash(key)}-{counter}"
            name = wanted[: self.max_length - len(suffix)].rstrip("-") + suffix
            counter += 1
        self.taken[name] = key
        return name

"""Manifests as YAML with the bytes of printers.dump_yaml, several times faster for big estates.

PyYAML's emitter is C, but its representer and serializer build a node per value in Python: rendering 5,000
servers' manifests took ten times as long as converting them. Manifests are plain trees (dicts with string keys,
lists, strings, integers, booleans, null), so the block layout PyYAML writes for them is simple: two spaces per
mapping level, sequences inside a mapping not indented ("key:" then "- item"), a mapping in a sequence starting on
the dash's line, `{}` and `[]` for empty collections, keys sorted. That layout is written here directly.

Scalars are where YAML is subtle (quoting, what a reader would take for a number or a date), so only strings made of
a few safe characters that PyYAML's own resolver reads back as strings are written as they are; every other scalar
is written by PyYAML itself (as the value of a one-key mapping, its text kept once per distinct value). Whatever
this cannot prove it writes exactly as PyYAML does (a float, a non-string key, a long key, a multi-line or very long
string) makes the whole object go through PyYAML.
"""

import re
from typing import Callable, Dict, List

import yaml

from ..printers import dump_yaml, needs_quotes

# Strings PyYAML writes plain in block context: a safe first character, then safe characters, `:` only before a
# non-space, no space before `#` (no `#` at all), no trailing space, nothing that starts a flow or an anchor.
_SAFE = re.compile(r"[A-Za-z0-9_/](?:[A-Za-z0-9_./@=+-]|:(?=[^ ])| (?=[^ #]))*\Z")
_STR_TAG = "tag:yaml.org,2002:str"
_LONG = 1000   # longer strings could meet PyYAML's line width: left to PyYAML with their object
_SIMPLE_KEY = 100  # longer keys (over 128 bytes in libyaml) are written as "? key" complex keys: left to PyYAML
_CACHE_LIMIT = 200_000
# Fewer whole lines: each is a string of its own (a plain value is its own text), and a 50,000-server estate's
# distinct values would add tens of MiB at the peak; the values that repeat are back after a clear at once.
_LINE_CACHE_LIMIT = 20_000
_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")  # line breaks: the text would continue on an indented line
# First characters of the plain strings a reader could take for something else: those PyYAML's resolver has a
# pattern for, and those printers.needs_quotes' patterns start with. A safe string starting with any other
# character is a string to both, so neither needs asking (None: PyYAML has patterns for any first character).
_AMBIGUOUS_FIRST = frozenset(k for k in yaml.resolver.Resolver.yaml_implicit_resolvers if k) | \
    frozenset("yYnNtTfFoO~+-.0123456789=<")
_ANY_FIRST = None in yaml.resolver.Resolver.yaml_implicit_resolvers


class _Fallback(Exception):
    """The object holds something only PyYAML writes exactly."""


class Emitter:
    """Renders objects one at a time; remembers the text of scalars it had PyYAML write."""

    def __init__(self):
        self._resolve: Callable = yaml.resolver.Resolver().resolve
        self._values: Dict[str, str] = {}
        self._lines: Dict[str, str] = {}  # a string value -> " text\n", the rest of its "key: text" line
        self._keys: Dict[str, str] = {}   # a key -> "key:"

    def document(self, obj) -> str:
        """dump_yaml(obj), byte for byte."""
        if not isinstance(obj, dict) or not obj:
            return dump_yaml(obj)
        out: List[str] = []
        try:
            self._mapping(obj, "", out)
        except _Fallback:
            return dump_yaml(obj)
        return "".join(out)

    # ------------------------------------------------------------------------------------------- collections

    def _mapping(self, obj: dict, indent: str, out: List[str], first: str = "") -> None:
        """`first` replaces the indentation of the first key (a mapping that starts on a `- ` line). The hot
        loop of rendering: lookups are bound to locals and types compared exactly (bool is not int here)."""
        lead = first or indent
        keys, lines, append = self._keys, self._lines, out.append
        for key in sorted(obj):
            head = keys.get(key)  # only str keys are ever in it
            head = lead + (head if head is not None else self._key(key))
            lead = indent
            value = obj[key]
            kind = type(value)
            if kind is str:
                line = lines.get(value)
                append(head + (line if line is not None else self._line(value)))
            elif kind is dict:
                if value:
                    append(head + "\n")
                    self._mapping(value, indent + "  ", out)
                else:
                    append(head + " {}\n")
            elif kind is list:
                if value:
                    append(head + "\n")
                    self._sequence(value, indent, out)
                else:
                    append(head + " []\n")
            else:
                append(head + " " + self._scalar(value) + "\n")

    def _sequence(self, items: list, indent: str, out: List[str], first: str = "") -> None:
        lead = first or indent
        for item in items:
            dash = lead + "- "
            lead = indent
            if isinstance(item, dict):
                if item:
                    self._mapping(item, indent + "  ", out, first=dash)
                else:
                    out.append(dash + "{}\n")
            elif isinstance(item, list):
                if item:
                    self._sequence(item, indent + "  ", out, first=dash)
                else:
                    out.append(dash + "[]\n")
            else:
                out.append(dash + self._scalar(item) + "\n")

    # ------------------------------------------------------------------------------------------- scalars

    def _scalar(self, value) -> str:
        if type(value) is str:
            text = self._values.get(value)
            if text is None:
                text = self._string(value)
                if len(self._values) >= _CACHE_LIMIT:
                    self._values.clear()
                self._values[value] = text
            return text
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if type(value) is int:
            return str(value)
        raise _Fallback

    def _line(self, value: str) -> str:
        """The rest of a "key: value" line; kept apart from _values (held once, not in both: a big estate's
        distinct strings run into the hundreds of thousands)."""
        text = self._values.get(value)
        line = " " + (text if text is not None else self._string(value)) + "\n"
        if len(self._lines) >= _LINE_CACHE_LIMIT:
            self._lines.clear()
        self._lines[value] = line
        return line

    def _string(self, text: str) -> str:
        if len(text) > _LONG or _BREAKS.search(text):
            raise _Fallback
        if _SAFE.match(text) and ((text[0] not in _AMBIGUOUS_FIRST and not _ANY_FIRST) or (
                not needs_quotes(text) and self._resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG)):
            return text
        rendered = dump_yaml({"k": text})
        if not rendered.startswith("k: ") or rendered.count("\n") != 1:
            raise _Fallback
        return rendered[3:-1]

    def _key(self, key) -> str:
        """`key:` as PyYAML writes it."""
        if not isinstance(key, str):
            raise _Fallback
        text = self._keys.get(key)
        if text is None:
            if len(key.encode("utf-8")) > _SIMPLE_KEY or _BREAKS.search(key):
                raise _Fallback
            if _SAFE.match(key) and not needs_quotes(key) and \
                    self._resolve(yaml.ScalarNode, key, (True, False)) == _STR_TAG:
                text = key
            else:
                rendered = dump_yaml({key: 0})
                if not rendered.endswith(": 0\n") or rendered.count("\n") != 1 or rendered.startswith("?"):
                    raise _Fallback
                text = rendered[:-4]
            text += ":"
            self._keys[key] = text
        return text

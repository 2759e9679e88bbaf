"""The one place that prints: kubectl-style tables, yaml, json and name output.

Conventions follow kubectl / cli-runtime (see shared/reference/plugin-packaging.md section 3): upper-case headers,
columns padded by 3 and left aligned, `-o wide` extra columns, `kind: List` around several objects, 4-space JSON,
sorted YAML keys, and YAML strings quoted whenever a YAML 1.1 reader (kubectl, Argo CD, Flux) would otherwise read
them as a boolean, a number or null.
"""

import datetime as _dt
import json
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

OUTPUT_FORMATS = ("table", "wide", "yaml", "json", "name")

# --------------------------------------------------------------------------------------------------- durations


def human_duration(seconds: float) -> str:
    """kubectl's AGE (apimachinery duration.HumanDuration): 2h prints 120m, 3d5h prints 3d5h."""
    s = int(seconds)    # Go's int(d.Seconds()) truncates toward zero: a skew under 2 s prints "0s"
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 60 * 2:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def parse_timestamp(value: Optional[str]) -> Optional[_dt.datetime]:
    """RFC 3339 as the API server writes it (`2026-01-02T03:04:05Z`, optionally with fractions or an offset)."""
    if not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        stamp = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=_dt.timezone.utc)
    return stamp


def age(timestamp: Optional[str], now: Optional[_dt.datetime] = None) -> str:
    """AGE column text for a creationTimestamp; `<unknown>` when there is none, as kubectl prints."""
    stamp = parse_timestamp(timestamp)
    if stamp is None:
        return "<unknown>"
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return human_duration((now - stamp).total_seconds())


def format_timestamp(stamp: _dt.datetime) -> str:
    return stamp.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------------- YAML

# Plain scalars that a YAML 1.1 reader resolves to something other than a string. PyYAML's own resolver misses
# y/n/Y/N, 0o17 and 1e3 (it needs a dot in floats), which go-yaml (sigs.k8s.io/yaml) reads as bool/number.
_YAML11_NON_STRINGS = re.compile(
    r"""^(?:
        y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
      | ~|null|Null|NULL|
      | [-+]?0b[01_]+
      | [-+]?0o?[0-7_]+
      | [-+]?0x[0-9a-fA-F_]+
      | [-+]?(?:0|[1-9][0-9_]*)
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+
      | [-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?
      | [-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
      | [-+]?\.(?:inf|Inf|INF)
      | \.(?:nan|NaN|NAN)
      | =|<<
    )$""",
    re.VERBOSE,
)


def needs_quotes(text: str) -> bool:
    """True when an unquoted `text` would not read back as the same string in kubectl."""
    return bool(_YAML11_NON_STRINGS.match(text))


if TYPE_CHECKING:
    _BaseDumper = yaml.SafeDumper
else:
    _BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _KubeDumper(_BaseDumper):
    """SafeDumper (libyaml's when present: several times faster, same bytes) that quotes ambiguous strings and
    writes multi-line text as literal blocks."""


def _represent_str(dumper, data):
    if "\n" in data and not any(line != line.rstrip() for line in data.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    if needs_quotes(data):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_KubeDumper.add_representer(str, _represent_str)


def dump_yaml(obj, sort_keys: bool = True) -> str:
    """One YAML document, kubectl-safe."""
    return yaml.dump(obj, Dumper=_KubeDumper, sort_keys=sort_keys, default_flow_style=False, allow_unicode=True,
                     width=4096)


def dump_yaml_documents(objs: Iterable[dict], sort_keys: bool = True) -> str:
    """Several objects as `---`-separated documents: what kustomize, Argo CD and Flux expect in a repository."""
    return "".join("---\n" + dump_yaml(o, sort_keys=sort_keys) for o in objs)


# A JSON string as the encoder writes it (quotes and backslashes inside are escaped): what lies between two of
# them is structure, numbers and literals only.
_JSON_STRING = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")', re.DOTALL)
_JSON_CLOSING = {"{": "}", "[": "]"}


def _indent_json_run(run: str, depth: int) -> Tuple[str, int]:
    """One run of compact JSON between strings as `indent=4` writes it, and the nesting depth after it."""
    out = []
    i, n = 0, len(run)
    while i < n:
        c = run[i]
        if c == "{" or c == "[":
            if i + 1 < n and run[i + 1] == _JSON_CLOSING[c]:
                out.append(run[i:i + 2])     # empty containers stay on one line
                i += 2
                continue
            depth += 1
            out.append(c + "\n" + "    " * depth)
        elif c == "}" or c == "]":
            depth -= 1
            out.append("\n" + "    " * depth + c)
        elif c == ",":
            out.append(",\n" + "    " * depth)
        elif c == ":":
            out.append(": ")
        else:
            out.append(c)
        i += 1
    return "".join(out), depth


def dump_json(obj) -> str:
    """kubectl's JSON: 4-space indentation and a trailing newline.

    The same bytes as json.dumps(indent=4, sort_keys=True, ensure_ascii=False), about twice as fast on big plans:
    with an indent the json module falls back to its pure-Python encoder, so the C encoder writes compact JSON and
    the runs between strings are re-indented. Those runs are few distinct texts ("," ":{" "}},{" ...), each
    indented once per depth."""
    parts = _JSON_STRING.split(json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    done: Dict[Tuple[str, int], Tuple[str, int]] = {}
    depth = 0
    for i in range(0, len(parts), 2):      # strings sit at the odd indexes and stay as they are
        key = (parts[i], depth)
        hit = done.get(key)
        if hit is None:
            hit = done[key] = _indent_json_run(parts[i], depth)
        parts[i], depth = hit
    parts.append("\n")
    return "".join(parts)


def as_list(objs: Sequence[dict]) -> dict:
    """kubectl's wrapper for zero or several objects."""
    return {"apiVersion": "v1", "items": list(objs), "kind": "List", "metadata": {"resourceVersion": ""}}


# --------------------------------------------------------------------------------------------------- names


def resource_name(obj: dict) -> str:
    """`-o name` form: `configmap/cm1` for the core group, `virtualmachine.kubevirt.io/vm1` otherwise."""
    api_version = obj.get("apiVersion", "v1")
    group = api_version.split("/")[0] if "/" in api_version else ""
    kind = str(obj.get("kind", "")).lower()
    name = obj.get("metadata", {}).get("name", "")
    return f"{kind}.{group}/{name}" if group else f"{kind}/{name}"


# --------------------------------------------------------------------------------------------------- tables


@dataclass
class Column:
    header: str
    wide_only: bool = False


@dataclass
class Table:
    columns: List[Column]
    rows: List[List[str]] = field(default_factory=list)

    def add(self, *cells) -> None:
        self.rows.append(["<none>" if c is None or c == "" else str(c) for c in cells])


def render_table(table: Table, wide: bool = False, no_headers: bool = False) -> str:
    """Align like cli-runtime's tabwriter (minwidth 6, padding 3, left aligned); the last column is not padded."""
    keep = [i for i, c in enumerate(table.columns) if wide or not c.wide_only]
    lines: List[List[str]] = []
    if not no_headers:
        lines.append([table.columns[i].header.upper() for i in keep])
    for row in table.rows:
        lines.append([row[i] if i < len(row) else "" for i in keep])
    if not lines:
        return ""
    widths = [0] * len(keep)
    for line in lines:
        for j, cell in enumerate(line):
            widths[j] = max(widths[j], len(cell))
    out = []
    for line in lines:
        cells = []
        for j, cell in enumerate(line):
            if j == len(line) - 1:
                cells.append(cell)
            else:
                cells.append(cell.ljust(max(widths[j] + 3, 6)))
        out.append("".join(cells).rstrip())
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------- printing


@dataclass
class OutputOptions:
    """What `-o` and `--no-headers` asked for."""

    format: str = "table"
    no_headers: bool = False

    @property
    def structured(self) -> bool:
        return self.format in ("yaml", "json")


def validate_output(fmt: Optional[str], allowed: Sequence[str] = OUTPUT_FORMATS) -> str:
    from .errors import UsageError

    fmt = fmt or "table"
    if fmt not in allowed:
        raise UsageError(
            f'unable to match a printer suitable for the output format "{fmt}", allowed formats are: '
            + ",".join(a for a in allowed if a != "table")
        )
    return fmt


def print_objects(objs: Sequence[dict], options: OutputOptions, stream=None, single: bool = False) -> None:
    """Structured or name output of API objects; a single named object prints bare, others as a List."""
    stream = stream or sys.stdout
    if options.format == "name":
        for obj in objs:
            stream.write(resource_name(obj) + "\n")
        return
    doc = objs[0] if single and len(objs) == 1 else as_list(objs)
    stream.write(dump_yaml(doc) if options.format == "yaml" else dump_json(doc))


def print_document(doc, options: OutputOptions, stream=None) -> None:
    """A non-API document (plan, report, version) as yaml or json."""
    stream = stream or sys.stdout
    stream.write(dump_yaml(doc) if options.format == "yaml" else dump_json(doc))


def print_table(table: Table, options: OutputOptions, stream=None, empty_message: Optional[str] = None) -> None:
    stream = stream or sys.stdout
    if not table.rows:
        if empty_message:
            sys.stderr.write(empty_message + "\n")
        return
    stream.write(render_table(table, wide=options.format == "wide", no_headers=options.no_headers))


def no_resources_message(namespace: Optional[str]) -> str:
    return f"No resources found in {namespace} namespace." if namespace else "No resources found"

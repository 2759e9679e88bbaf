"""The loss report: for every source object, each field mapped, approximated or dropped, and why.

Mapping functions record what they do as they do it; at the end `account_rest` walks each source object's raw fields
and files whatever nobody claimed, so no field disappears without a line in the report. Bookkeeping that has no
meaning outside the cloud (links, timestamps, revision numbers) is filed as `ignored` and counted apart, so the
three counts a reviewer reads are about the workload.

Values are never copied into the report: secret material (user data, keys) must not leak, and reasons are written
by this code, not taken from the input.
"""

import marshal
from collections import OrderedDict
from itertools import islice
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

MAPPED = "mapped"
APPROXIMATED = "approximated"
DROPPED = "dropped"
IGNORED = "ignored"
UNKNOWN = "unknown"  # the input could not tell (a CLI listing lacks the column); the reason names the command that does
STATUSES = (MAPPED, APPROXIMATED, DROPPED, IGNORED, UNKNOWN)

# Fields of any record that only describe the record's life in OpenStack.
BOOKKEEPING = frozenset({
    "links", "self", "schema", "file", "created", "created_at", "updated", "updated_at", "deleted", "deleted_at",
    "revision_number", "tenant_id", "project_id", "user_id", "owner", "progress", "hostId", "host_status",
    "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at", "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state",
    "OS-EXT-STS:power_state", "OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname",
    "OS-EXT-SRV-ATTR:instance_name", "OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:launch_index",
    "os-vol-host-attr:host", "os-vol-mig-status-attr:migstat", "os-vol-mig-status-attr:name_id",
    "os-vol-tenant-attr:tenant_id", "migration_status", "replication_status", "consistencygroup_id", "group_id",
    "service_uuid", "shared_targets", "cluster_name", "provider_id", "consumes_quota", "checksum", "os_hash_algo",
    "os_hash_value", "os_hidden", "visibility", "protected", "status", "locked", "locked_reason", "fingerprint",
    "bdm_uuid", "attachment_id", "tags_links", "is_domain", "enabled", "options", "password_expires_at",
    "domain_id", "description", "stateful", "shared", "id", "name", "belongs_to_default_sg", "used_in_default_sg",
    "used_in_default_non_sg", "security_group_id", "parent_group_id", "OS-FLV-DISABLED:disabled",
    "os-flavor-access:is_public", "os-volume-type-access:is_public", "is_public", "rxtx_factor", "access_project_ids", "availability_zones",
    "availability_zone_hints", "ipv4_address_scope", "ipv6_address_scope", "l2_adjacency", "router:external",
    "is_default", "standard_attr_id", "trusted_image_certificates", "user_data_links",
})


MARKDOWN_BATCH = 4096  # lines per chunk of markdown_chunks

# Sources whose field lists stay unpacked at once; the others are packed (see Report).
OPEN_SOURCES = 4096


class Report:
    """Field entries of a big estate run into the millions: as tuples of strings they would take more memory than
    the manifests. So an entry is a code for its (field, status, reason), which mostly repeat, and its target; and
    a source's list is kept packed (marshal: only ever read back by this process) except for the few thousand
    sources most recently written to; adding to a packed source unpacks it again."""

    def __init__(self):
        # (kind, id) -> {"name", "origin", "fields": [(code, target)], or those packed}; a code stands for one
        # (field, status, reason): most of them repeat across records, so each is kept once
        self.sources: "OrderedDict[Tuple[str, str], dict]" = OrderedDict()
        self._codes: List[Tuple[str, str, str]] = []
        self._code_of: Dict[Tuple[str, str, str], int] = {}
        # fields claimed under other names (claim()); those with an entry of their own are read from the entries
        self._claimed: Dict[Tuple[str, str], Tuple[str, ...]] = {}
        self._open: List[dict] = []
        self._last_record: object = None  # the record last written to and its unpacked entry: most entries
        self._last_entry: dict = {}       # come in runs for one record
        self.warnings: List[str] = []
        self.counts = {s: 0 for s in STATUSES}

    # ----------------------------------------------------------------------------------------------- recording

    def _source(self, record) -> dict:
        """The record's entry with its field list unpacked."""
        if record is self._last_record:
            return self._last_entry
        key = (record.kind, record.id)
        entry = self.sources.get(key)
        if entry is None:
            entry = {"name": record.name, "origin": record.origin, "fields": []}
            self.sources[key] = entry
        elif not isinstance(entry["fields"], list):
            entry["fields"] = marshal.loads(entry["fields"])
        else:
            self._last_record, self._last_entry = record, entry
            return entry
        if len(self._open) >= OPEN_SOURCES:
            for other in self._open:
                if isinstance(other["fields"], list):
                    other["fields"] = marshal.dumps(other["fields"])
            self._open.clear()
        self._open.append(entry)
        self._last_record, self._last_entry = record, entry
        return entry

    def add(self, record, field: str, status: str, target: str = "", reason: str = "") -> None:
        # the hot path of converting: most entries come in runs for the record last written to
        entry = self._last_entry if record is self._last_record else self._source(record)
        key = (field, status, reason)
        code = self._code_of.get(key)
        if code is None:
            code = self._code_of[key] = len(self._codes)
            self._codes.append(key)
        entry["fields"].append((code, target))
        self.counts[status] += 1

    def mapped(self, record, field, target="", reason=""):
        self.add(record, field, MAPPED, target, reason)

    def approximated(self, record, field, target="", reason=""):
        self.add(record, field, APPROXIMATED, target, reason)

    def dropped(self, record, field, reason, target=""):
        self.add(record, field, DROPPED, target, reason)

    def ignored(self, record, field, reason):
        self.add(record, field, IGNORED, "", reason)

    def unknown(self, record, field, reason, target=""):
        """A field the input hid, never one it lacked: the reason says what was done and which command tells."""
        self.add(record, field, UNKNOWN, target, reason)

    def claim(self, record, *fields: str) -> None:
        """Mark raw fields as accounted for by entries filed under other names."""
        self._source(record)
        key = (record.kind, record.id)
        self._claimed[key] = self._claimed.get(key, ()) + fields

    def account_rest(self, record, notes: Optional[Dict[str, Tuple[str, str]]] = None) -> None:
        """File every raw top-level field nobody reported: known notes first, bookkeeping, then dropped."""
        entry = self._source(record)
        claimed = {self._codes[code][0].split(".", 1)[0] for code, _ in entry["fields"]}
        claimed.update(self._claimed.pop((record.kind, record.id), ()))
        notes = notes or {}
        for key in record.raw:
            if key in claimed:
                continue
            value = record.raw[key]
            if value is None or value == "" or value == [] or value == {}:
                self.add(record, key, IGNORED, "", "empty in the source")
            elif value is False:
                self.add(record, key, IGNORED, "", "off in the source")
            elif key in notes:
                status, reason = notes[key]
                self.add(record, key, status, "", reason)
            elif key in BOOKKEEPING or key.endswith("_links"):
                self.add(record, key, IGNORED, "", "bookkeeping of the OpenStack record")
            else:
                self.add(record, key, DROPPED, "", "no KubeVirt or Kubernetes equivalent in this converter")

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    # ----------------------------------------------------------------------------------------------- output

    def summary(self, servers: int, objects: int) -> dict:
        return {"servers": servers, "objects": objects, **self.counts}

    def document(self, servers: int, objects: int) -> dict:
        sources = []
        for (kind, ident), entry in self._sorted_sources():
            sources.append({
                "kind": kind,
                "id": ident,
                "name": entry["name"],
                "origin": entry["origin"],
                "fields": [
                    {k: v for k, v in (("field", f), ("status", s), ("target", t), ("reason", r)) if v}
                    for f, s, t, r in self._fields(entry)
                ],
            })
        return {
            "apiVersion": "vmmove.io/v1alpha1",
            "kind": "OpenStackConversionReport",
            "summary": self.summary(servers, objects),
            "warnings": list(self.warnings),
            "sources": sources,
        }

    def markdown(self, servers: int, objects: int) -> str:
        return "".join(self.markdown_chunks(servers, objects))

    def markdown_chunks(self, servers: int, objects: int) -> Iterator[str]:
        """The markdown report a few thousand lines at a time (the CLI writes it as it goes: a big estate's report
        has millions of rows); joined, the lines are separated by newlines with none after the last."""
        lines = self._markdown_lines(servers, objects)
        batch = list(islice(lines, MARKDOWN_BATCH))
        if batch:
            yield "\n".join(batch)
        while True:
            batch = list(islice(lines, MARKDOWN_BATCH))
            if not batch:
                return
            yield "\n" + "\n".join(batch)

    def _fields(self, entry: dict) -> List[Tuple[str, str, str, str]]:
        """(field, status, target, reason) of a source."""
        codes = self._codes
        return [(*codes[code][:2], target, codes[code][2]) for code, target in _coded(entry)]

    def _sorted_sources(self) -> List[Tuple[Tuple[str, str], dict]]:
        return sorted(self.sources.items(), key=lambda kv: (kv[0][0], kv[1]["name"] or "", kv[0][1]))

    def _markdown_lines(self, servers: int, objects: int) -> Iterator[str]:
        s = self.summary(servers, objects)
        yield from [
            "# OpenStack conversion report",
            "",
            f"{s['servers']} servers converted into {s['objects']} objects: {s['mapped']} fields mapped, "
            f"{s['approximated']} approximated, {s['dropped']} dropped"
            + (f", {s['unknown']} unknown (the input could not tell)" if s["unknown"] else "")
            + f" ({s['ignored']} bookkeeping fields ignored).",
            "",
        ]
        if self.warnings:
            yield from ["## Warnings", ""] + [f"- {_md(w)}" for w in self.warnings] + [""]
        sources = self._sorted_sources()
        # the markdown of each code's field and reason, made once: codes repeat across thousands of sources
        cells = [(f"`{_md(f)}`", st, _md(r)) for f, st, r in self._codes]
        for status in (UNKNOWN, DROPPED, APPROXIMATED):
            if self.counts[status]:
                yield from self._status_table(status, sources, cells)
        yield from ["## Every source object", ""]
        for (kind, ident), entry in sources:
            yield from [f"### {kind} {_md(entry['name'] or ident)}", "",
                        f"id `{ident}`, read from {_md(entry['origin'])}", "",
                        "| field | status | target | reason |", "|---|---|---|---|"]
            for code, t in _coded(entry):
                f, st, r = cells[code]
                yield f"| {f} | {st} | {_md(t)} | {r} |"
            yield ""

    def _status_table(self, status: str, sources: list, cells: List[Tuple[str, str, str]]) -> Iterator[str]:
        """The markdown table of every field with `status`; `cells` as in _markdown_lines."""
        yield from [f"## {status.capitalize()}", "", "| source | field | target | reason |", "|---|---|---|---|"]
        wanted = {code for code, (_, st, _) in enumerate(self._codes) if st == status}
        for (kind, ident), entry in sources:
            title = f"{kind} {_md(entry['name'] or ident)}"
            for code, t in _coded(entry):
                if code in wanted:
                    f, _, r = cells[code]
                    yield f"| {title} | {f} | {_md(t)} | {r} |"
        yield ""


def _coded(entry: dict) -> List[Tuple[int, str]]:
    fields = entry["fields"]
    return fields if isinstance(fields, list) else marshal.loads(fields)


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_line(servers: int, objects: int, counts: dict, report_path: Optional[str]) -> str:
    tail = f"; see {report_path}" if report_path else "; add --report FILE for the details"
    return (f"converted {servers} server{'s' if servers != 1 else ''} into {objects} objects: "
            f"{counts[MAPPED]} mapped, {counts[APPROXIMATED]} approximated, {counts[DROPPED]} dropped"
            + (f", {counts[UNKNOWN]} unknown" if counts.get(UNKNOWN) else "") + tail)


def iter_entries(report: Report) -> Iterable[Tuple[str, str, str, str, str, str]]:
    """(kind, id, field, status, target, reason) for tests and tools."""
    for (kind, ident), entry in report.sources.items():
        for f, s, t, r in report._fields(entry):
            yield kind, ident, f, s, t, r

"""Input files of any supported shape into raw records, each tagged with where it was read.

Shapes: our export document (`kind: OpenStackExport`), REST API responses as saved by curl or the api-ref
(enveloped lists `{"servers": [...]}` with `*_links` pagination, enveloped shows `{"server": {...}}`, un-enveloped
shows such as Neutron's address-group sample), and `openstack ... -f json` output. A directory is read recursively
(`*.json`, `*.yaml`, `*.yml`, in name order). The kind of an un-enveloped object is recognised by its fields.
"""

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from ...errors import UsageError, UserError
from . import cli_lists
from . import cli_output as osc

KINDS = (
    "servers", "flavors", "images", "volumes", "volume_types", "networks", "subnets", "ports", "security_groups",
    "security_group_rules", "address_groups", "floating_ips", "keypairs", "server_groups", "projects", "domains",
    "users", "groups", "role_assignments", "roles", "quotas", "volume_attachments", "interface_attachments",
    "default_security_group_rules", "port_forwardings",
)

# API envelope key -> kind. Plural keys hold lists, singular keys one object.
PLURAL = {
    "servers": "servers", "flavors": "flavors", "images": "images", "volumes": "volumes",
    "volume_types": "volume_types", "networks": "networks", "subnets": "subnets", "ports": "ports",
    "security_groups": "security_groups", "security_group_rules": "security_group_rules",
    "floatingips": "floating_ips", "floating_ips": "floating_ips", "keypairs": "keypairs",
    "server_groups": "server_groups", "projects": "projects", "domains": "domains", "users": "users",
    "groups": "groups", "role_assignments": "role_assignments", "roles": "roles", "address_groups": "address_groups",
    "volumeAttachments": "volume_attachments", "interfaceAttachments": "interface_attachments",
    "default_security_group_rules": "default_security_group_rules", "attachments": "volume_attachments",
}
SINGULAR = {
    "server": "servers", "flavor": "flavors", "image": "images", "volume": "volumes", "volume_type": "volume_types",
    "network": "networks", "subnet": "subnets", "port": "ports", "security_group": "security_groups",
    "security_group_rule": "security_group_rules", "floatingip": "floating_ips", "keypair": "keypairs",
    "server_group": "server_groups", "project": "projects", "domain": "domains", "user": "users", "group": "groups",
    "role": "roles", "address_group": "address_groups", "volumeAttachment": "volume_attachments",
    "interfaceAttachment": "interface_attachments", "attachment": "volume_attachments", "quota_set": "quotas",
    "default_security_group_rule": "default_security_group_rules",
}
# Keys that may sit beside an envelope without changing its meaning.
PAGING = {"links", "schema", "first", "next", "previous", "count", "total"}

SUFFIXES = (".json", ".yaml", ".yml")


@dataclass
class RawInput:
    records: Dict[str, List[Tuple[dict, str]]] = field(default_factory=lambda: {k: [] for k in KINDS})
    warnings: List[str] = field(default_factory=list)
    files: List[str] = field(default_factory=list)
    # Origins of servers read from `openstack server list` rows: partial records, skipped rather than fatal when
    # their flavor cannot be resolved.
    listed_servers: Set[str] = field(default_factory=set)

    def add(self, kind: str, raw, origin: str) -> None:
        if not isinstance(raw, dict):
            raise UserError(f"{origin}: expected an object, found {type(raw).__name__}; fix the file or re-export it")
        self.records[kind].append((raw, origin))


def read_paths(paths: List[str], stdin=None) -> RawInput:
    out = RawInput()
    if not paths:
        # A command line without inputs is a usage error (exit 2), as kubectl treats a missing -f.
        raise UsageError("no input given; pass export files or directories, e.g. "
                         "'kubectl vmmove openstack convert export.yaml'")
    for path in paths:
        if path == "-":
            text = (stdin or sys.stdin).read()
            read_text(text, "<stdin>", out)
            continue
        if os.path.isdir(path):
            found = False
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith(SUFFIXES):
                        found = True
                        read_file(os.path.join(root, name), out)
            if not found:
                raise UserError(f"{path}: no .json, .yaml or .yml files in this directory")
        elif os.path.exists(path):
            read_file(path, out)
        else:
            raise UserError(f"{path}: no such file or directory")
    return out


def read_file(path: str, out: RawInput) -> None:
    try:
        with open(path, "r", encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read: {err}") from err
    read_text(text, path, out)


def parse_text(text: str, origin: str):
    stripped = text.lstrip()
    if not stripped:
        raise UserError(f"{origin}: the file is empty; pass an export document or API JSON")
    if cli_lists.is_public_key_text(stripped):
        return {cli_lists.PUBLIC_KEY_TEXT: text}
    if stripped[0] in "{[":
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise UserError(f"{origin}: invalid JSON at line {err.lineno} column {err.colno}: {err.msg}; "
                            "fix the file or export it again") from err
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = [d for d in yaml.load_all(text, Loader=loader) if d is not None]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise UserError(f"{origin}: invalid YAML{where}: {problem}; fix the file or export it again") from err
    if len(docs) == 1:
        return docs[0]
    return docs


def read_text(text: str, origin: str, out: RawInput) -> None:
    out.files.append(origin)
    data = parse_text(text, origin)
    if isinstance(data, list) and data and all(isinstance(d, dict) and d.get("kind") == "OpenStackExport" for d in data):
        for i, doc in enumerate(data):
            _read_export(doc, f"{origin}: document {i + 1}", out)
        return
    read_data(data, origin, out)


def read_data(data, origin: str, out: RawInput) -> None:
    if isinstance(data, dict) and data.get("kind") == "OpenStackExport":
        _read_export(data, origin, out)
        return
    if isinstance(data, dict) and cli_lists.PUBLIC_KEY_TEXT in data:
        out.add("keypairs", cli_lists.public_key_record(data[cli_lists.PUBLIC_KEY_TEXT], origin), origin)
        return
    if isinstance(data, list) and data and all(isinstance(d, dict) for d in data) and _cli_list(data, origin, out):
        return
    if isinstance(data, list):
        listed = 0
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise UserError(f"{origin}: item {i} is a {type(item).__name__}, expected an OpenStack object")
            columns = _maybe_cli_columns(item)
            if columns is not item and osc.is_server_list_row(columns):
                out.add("servers", osc.server_list_row(columns), f"{origin}: [{i}]")
                out.listed_servers.add(f"{origin}: [{i}]")
                listed += 1
                continue
            _add_unenveloped(columns, f"{origin}: [{i}]", out)
        if listed:
            out.warnings.append(
                f"{origin}: this is 'openstack server list' output: it names each server's image, flavor and "
                "addresses only: no flavor sizes, volumes, ports (MAC addresses), security groups, key pair or "
                "user data, so the VMs converted from it lack those; for a full conversion save 'openstack server "
                "show <server> -f json' for each server, or use 'kubectl vmmove openstack export'")
        return
    if not isinstance(data, dict):
        raise UserError(f"{origin}: expected a JSON or YAML object, found {type(data).__name__}")
    keys = set(data)
    envelope = [k for k in keys if k in PLURAL or k in SINGULAR]
    rest = {k for k in keys if k not in envelope and k not in PAGING and not k.endswith("_links")}
    if len(envelope) == 1 and not rest:
        key = envelope[0]
        value = data[key]
        if key in PLURAL and isinstance(value, list):
            kind = PLURAL[key]
            for i, item in enumerate(value):
                if kind == "keypairs" and isinstance(item, dict) and set(item) == {"keypair"}:
                    item = item["keypair"]  # nova wraps each list item once more
                _add(kind, item, f"{origin}: {key}[{i}]", out)
            return
        if key in SINGULAR and isinstance(value, dict):
            _add(SINGULAR[key], value, f"{origin}: {key}", out)
            return
    if "resource_type_associations" in keys and "namespace" in keys:
        out.warnings.append(f"{origin}: a Glance metadata definition catalogue describes properties and holds no "
                            "resources; skipped")
        return
    if keys == {"metadata"} and isinstance(data["metadata"], dict):
        out.warnings.append(f"{origin}: a volume image metadata response names no volume; skipped "
                            "(export the volume itself, whose volume_image_metadata carries the same keys)")
        return
    _add_unenveloped(_maybe_cli_columns(data), origin, out)


def _cli_list(rows: List[dict], origin: str, out: RawInput) -> bool:
    """`openstack ... list -f json` output other than `server list`: recognised by its columns."""
    if not all(_is_cli_row(r) for r in rows):
        return False
    columns = [osc.column_keys(r) for r in rows]
    if osc.is_server_list_row(columns[0]):
        return False
    found = cli_lists.convert_rows(columns, origin)
    if found is None:
        return False
    kind, records, warnings = found
    out.warnings.extend(warnings)
    if kind == "port_forwardings":
        target = cli_lists.forwarding_target(origin)
        if target is None:
            out.warnings.append(f"{origin}: 'openstack floating ip port forwarding list' output does not name its "
                                "floating IP; skipped: save it in a file named after the floating IP address or "
                                "id (e.g. port-forwardings-203.0.113.5.json)")
            return True
        records = [{**r, "floatingip": target} for r in records]
    if kind == "security_group_rules" and any(not r.get("security_group_id") for r in records):
        out.warnings.append(f"{origin}: 'openstack security group rule list <group>' output does not name the group "
                            "its rules belong to; skipped (no rule is opened): list all rules without the group "
                            "argument, or save 'openstack security group show <group> -f json'")
        return True
    if kind == "security_group_rules" and any("direction" not in r for r in records):
        out.warnings.append(f"{origin}: these rules have no Direction column (OSC before 4.0 without --long); "
                            "skipped (no rule is opened): list them again with --long")
        return True
    for i, rec in enumerate(records):
        out.add(kind, rec, f"{origin}: [{i}]")
    return True


def _is_cli_row(row: dict) -> bool:
    return any(k[:1].isupper() for k in row)


def _read_export(doc: dict, origin: str, out: RawInput) -> None:
    api = doc.get("apiVersion")
    if api not in (None, "vmmove.io/v1alpha1"):
        raise UserError(f"{origin}: apiVersion {api!r} is not supported; this version reads vmmove.io/v1alpha1")
    for w in doc.get("warnings") or []:
        out.warnings.append(f"{origin}: export: {w}")
    resources = doc.get("resources") or {}
    if not isinstance(resources, dict):
        raise UserError(f"{origin}: resources must be a mapping of kind to list")
    for key in sorted(resources):
        value = resources[key]
        if key == "quotas":
            if not isinstance(value, dict):
                raise UserError(f"{origin}: resources.quotas must map project ids to limits")
            for pid in sorted(value):
                out.add("quotas", {"project_id": pid, **(value[pid] or {})}, f"{origin}: resources.quotas.{pid}")
            continue
        kind = PLURAL.get(key, key if key in KINDS else None)
        if kind is None:
            out.warnings.append(f"{origin}: resources.{key} is not a kind this converter reads; skipped")
            continue
        if value is None:
            continue
        if not isinstance(value, list):
            raise UserError(f"{origin}: resources.{key} must be a list")
        for i, item in enumerate(value):
            _add(kind, item, f"{origin}: resources.{key}[{i}]", out)


SHOW_CONVERTERS = {**osc.CONVERTERS, "ports": cli_lists.port_show, "subnets": cli_lists.subnet_show}


def _add(kind: str, raw, origin: str, out: RawInput) -> None:
    if isinstance(raw, dict) and kind in SHOW_CONVERTERS and _looks_like_cli(kind, raw):
        raw = SHOW_CONVERTERS[kind](raw)
    out.add(kind, raw, origin)


def _looks_like_cli(kind: str, raw: dict) -> bool:
    """OSC flattens structured fields into strings; the API never does for these."""
    if kind == "servers":
        return any(isinstance(raw.get(k), str) and raw.get(k) for k in ("flavor", "addresses", "security_groups")) or \
            "properties" in raw or "volumes_attached" in raw or isinstance(raw.get("image"), str) and bool(raw["image"])
    if kind == "flavors":
        return "properties" in raw
    if kind == "images":
        return "properties" in raw
    if kind == "volumes":
        return "type" in raw or isinstance(raw.get("attachments"), str)
    if kind == "security_groups":
        return "rules" in raw or isinstance(raw.get("security_group_rules"), str)
    if kind == "ports":
        return isinstance(raw.get("fixed_ips"), str) or bool({"security_group_ids", "binding_vnic_type",
                                                              "is_port_security_enabled"} & set(raw))
    if kind == "subnets":
        return any(isinstance(raw.get(k), str) for k in ("dns_nameservers", "allocation_pools", "host_routes"))
    if kind == "networks":
        return isinstance(raw.get("subnets"), str)
    if kind == "server_groups":
        return any(isinstance(raw.get(k), str) for k in ("members", "policies", "rules"))
    return False


def _maybe_cli_columns(item: dict) -> dict:
    if any(k[:1].isupper() and " " in k or k in ("ID", "Name") for k in item):
        return osc.column_keys(item)
    return item


def guess_kind(raw: dict) -> Optional[str]:
    """The kind of an un-enveloped object, from the fields only that kind has."""
    k = set(raw)
    if "flavor" in k and ("addresses" in k or "status" in k or "image" in k):
        return "servers"
    if {"vcpus", "ram"} <= k:
        return "flavors"
    if "security_group_rules" in k or ("rules" in k and "stateful" in k):
        return "security_groups"
    if "rules" in k and isinstance(raw.get("rules"), (str, list)) and not ({"policy", "policies", "members"} & k):
        return "security_groups"  # `security group show` of OSC <= 3.19: no stateful key, rules as text
    if {"direction", "ethertype"} <= k:
        return "security_group_rules"
    if {"ip_protocol", "parent_group_id"} <= k:
        return "security_group_rules"
    if "floating_ip_address" in k:
        return "floating_ips"
    if {"mac_address", "network_id"} <= k:
        return "ports"
    if {"mac_addr", "net_id"} <= k:
        return "interface_attachments"
    if {"cidr", "network_id"} <= k:
        return "subnets"
    if "addresses" in k and isinstance(raw.get("addresses"), list) and "id" in k:
        return "address_groups"
    if "disk_format" in k or "container_format" in k:
        return "images"
    if "public_key" in k or ("fingerprint" in k and "name" in k):
        return "keypairs"
    if ("policy" in k or "policies" in k) and "members" in k:
        return "server_groups"
    if {"role", "scope"} <= k:
        return "role_assignments"
    if "size" in k and ("bootable" in k or "volume_type" in k or "attachments" in k):
        return "volumes"
    if "volumeId" in k and ("serverId" in k or "device" in k):
        return "volume_attachments"
    if "subnets" in k and ("mtu" in k or "router:external" in k or "provider:network_type" in k or "segments" in k):
        return "networks"
    if "is_domain" in k or ("parent_id" in k and "domain_id" in k):
        return "projects"
    if "password_expires_at" in k or "default_project_id" in k or "email" in k:
        return "users"
    if "extra_specs" in k and "name" in k:
        return "volume_types"
    return None


def _add_unenveloped(raw: dict, origin: str, out: RawInput) -> None:
    kind = guess_kind(raw)
    if kind is None:
        keys = ", ".join(sorted(raw)[:8])
        raise UserError(f"{origin}: cannot tell what OpenStack object this is (fields: {keys}); pass an export "
                        "document, an API response, or 'openstack ... show -f json' output")
    _add(kind, raw, origin, out)

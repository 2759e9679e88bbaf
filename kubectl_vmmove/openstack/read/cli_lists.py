"""Rows of `openstack ... list -f json` back into API records.

A list prints a JSON array of rows keyed by the table's column headers ("ID", "Fixed IP Addresses"); which command
printed it is told by its columns (python-openstackclient's `take_action` of each `List*` command), in the shapes of
every release: JSON-native values since the osc-lib formatters (lists, objects, booleans), `format_dict` /
`format_list` strings before (`"hw:cpu_policy='dedicated'"`, `"id1, id2"`, `"UP"`). Each converter returns what the
REST API would have returned for the fields the row has, and marks the fields the command cannot print with
`CLI_UNKNOWN` (the key of a list of (field, command that supplies it)), so the normaliser and the report say
"unknown" instead of inventing a value or calling it absent.
"""

import os
import re
from typing import Callable, Dict, List, Optional, Tuple

from . import cli_output as osc
from .cli_output import CLI_COMMAND, CLI_UNKNOWN

PUBLIC_KEY_TEXT = "x-vmmove-public-key-text"  # a file that is the raw text `keypair show --public-key` prints

_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


def _bool(value, true_words=("true", "up", "external", "yes", "1")) -> Optional[bool]:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text == "":
        return None
    return text in true_words


def _dict(value) -> dict:
    if isinstance(value, dict):
        return dict(value)
    return osc.parse_kv(str(value)) if value else {}


def _unknown(out: dict, command: str, *fields_commands: Tuple[str, str]) -> dict:
    out[CLI_COMMAND] = command
    if fields_commands:
        out[CLI_UNKNOWN] = [list(fc) for fc in fields_commands]
    return out


def _pick(row: dict, renames: Dict[str, str]) -> dict:
    return {renames.get(k, k): v for k, v in row.items()}


# ------------------------------------------------------------------------------------------------ network


def network(row: dict) -> dict:
    out = _pick(row, {"project": "project_id", "network_type": "provider:network_type",
                      "availability_zones": "availability_zones"})
    out["subnets"] = osc.parse_list(row.get("subnets"))
    if "state" in row:
        out.pop("state")
        out["admin_state_up"] = _bool(row["state"])
    if "router_type" in row:
        out.pop("router_type")
        out["router:external"] = _bool(row["router_type"])
    if isinstance(row.get("tags"), str):
        out["tags"] = osc.parse_list(row["tags"])
    return _unknown(out, "openstack network list --long", ("mtu", "openstack network show <network> -f json"))


def _pools(value) -> list:
    if isinstance(value, list):
        return value
    out = []
    for part in str(value or "").split(","):
        start, sep, end = part.strip().partition("-")
        if sep:
            out.append({"start": start, "end": end})
    return out


def subnet(row: dict) -> dict:
    out = _pick(row, {"network": "network_id", "subnet": "cidr", "project": "project_id", "dhcp": "enable_dhcp",
                      "name_servers": "dns_nameservers", "gateway": "gateway_ip"})
    out["dns_nameservers"] = osc.parse_list(row.get("name_servers"))
    if "allocation_pools" in row:
        out["allocation_pools"] = _pools(row["allocation_pools"])
    if "host_routes" in row:
        out["host_routes"] = [{"destination": r.get("destination"), "nexthop": r.get("nexthop", r.get("gateway"))}
                              for r in osc.parse_kv_lines(row["host_routes"])]
    if "dhcp" in row:
        out["enable_dhcp"] = _bool(row["dhcp"])
    for key in ("service_types", "tags"):
        if isinstance(row.get(key), str):
            out[key] = osc.parse_list(row[key])
    return _unknown(out, "openstack subnet list --long")


def subnet_show(raw: dict) -> dict:
    """`subnet show` of the string era: lists as sorted strings, pools as `a-b,c-d`."""
    out = dict(raw)
    if isinstance(raw.get("dns_nameservers"), str):
        out["dns_nameservers"] = osc.parse_list(raw["dns_nameservers"])
    if isinstance(raw.get("allocation_pools"), str):
        out["allocation_pools"] = _pools(raw["allocation_pools"])
    if isinstance(raw.get("host_routes"), str):
        out["host_routes"] = osc.parse_kv_lines(raw["host_routes"])
    return out


def port(row: dict) -> dict:
    out = _pick(row, {"fixed_ip_addresses": "fixed_ips"})
    out["fixed_ips"] = [{k: v for k, v in f.items() if k in ("ip_address", "subnet_id")}
                        for f in osc.parse_kv_lines(row.get("fixed_ip_addresses"))]
    out["security_groups"] = osc.parse_list(row.get("security_groups"))
    if isinstance(row.get("tags"), str):
        out["tags"] = osc.parse_list(row["tags"])
    show = f"openstack port show {row.get('id') or '<port>'} -f json"
    unknown = [("device_id", "openstack port list --server <server> --long -f json"), ("network_id", show)]
    if "security_groups" not in row:
        unknown.append(("security_groups", "openstack port list --long -f json"))
    unknown.append(("port_security_enabled", show))
    return _unknown(out, "openstack port list --long", *unknown)


def port_show(raw: dict) -> dict:
    """`port show`: SDK attribute names (`security_group_ids`, `binding_vnic_type`, `is_port_security_enabled`
    in some releases), admin state `UP` in the string era."""
    out = osc.port(raw)
    renames = {"binding_vnic_type": "binding:vnic_type", "binding_host_id": "binding:host_id",
               "binding_profile": "binding:profile", "binding_vif_details": "binding:vif_details",
               "binding_vif_type": "binding:vif_type", "is_port_security_enabled": "port_security_enabled",
               "is_admin_state_up": "admin_state_up"}
    for old, new in renames.items():
        if old in out and new not in out:
            out[new] = out.pop(old)
    if isinstance(out.get("admin_state_up"), str):
        out["admin_state_up"] = _bool(out["admin_state_up"])
    if isinstance(out.get("allowed_address_pairs"), str):
        out["allowed_address_pairs"] = osc.parse_kv_lines(out["allowed_address_pairs"])
    return out


def security_group(row: dict) -> dict:
    out = _pick(row, {"project": "project_id"})
    if isinstance(row.get("tags"), str):
        out["tags"] = osc.parse_list(row["tags"])
    return _unknown(out, "openstack security group list")


def _port_range(text, protocol) -> Tuple[Optional[int], Optional[int]]:
    """`22:22`, `1024:65535`, `` (all), and for ICMP `type=8`, `type=8:code=0` (format_network_port_range)."""
    text = str(text or "").strip()
    if not text:
        return None, None
    if "type=" in text:
        kv = dict(part.split("=", 1) for part in text.split(":") if "=" in part)
        lo = osc_int(kv.get("type"))
        return lo, osc_int(kv.get("code"))
    lo, _, hi = text.partition(":")
    return osc_int(lo), osc_int(hi or lo)


def osc_int(value) -> Optional[int]:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def security_group_rule(row: dict) -> dict:
    proto = row.get("ip_protocol")
    proto = None if proto in (None, "", "any") else str(proto).lower()
    lo, hi = _port_range(row.get("port_range"), proto)
    remote_group = row.get("remote_security_group") or None
    remote_ag = row.get("remote_address_group") or None
    # Since 4.0.0 "IP Range" shows 0.0.0.0/0 or ::/0 for a rule with no prefix, also when the peer is a group.
    prefix = row.get("ip_range") or None
    if remote_group or remote_ag:
        prefix = None
    out = {"id": row.get("id"), "protocol": proto, "port_range_min": lo, "port_range_max": hi,
           "remote_ip_prefix": prefix, "remote_group_id": remote_group, "remote_address_group_id": remote_ag,
           "security_group_id": row.get("security_group") or None}
    if "direction" in row:
        out["direction"] = row["direction"]
    if "ethertype" in row:
        out["ethertype"] = row["ethertype"]
    elif prefix:
        out["ethertype"] = "IPv6" if ":" in prefix else "IPv4"
    return _unknown(out, "openstack security group rule list --long")


def floating_ip(row: dict) -> dict:
    out = _pick(row, {"port": "port_id", "floating_network": "floating_network_id", "project": "project_id",
                      "router": "router_id"})
    if isinstance(row.get("tags"), str):
        out["tags"] = osc.parse_list(row["tags"])
    return _unknown(out, "openstack floating ip list --long", (
        "port_forwardings", f"openstack floating ip port forwarding list {row.get('floating_ip_address') or '<ip>'} "
                            "-f json"))


def port_forwarding(row: dict) -> dict:
    out = {"id": row.get("id"), "internal_port_id": row.get("internal_port_id"),
           "internal_ip_address": row.get("internal_ip_address"), "internal_port": row.get("internal_port"),
           "external_port": row.get("external_port"), "protocol": row.get("protocol") or "tcp"}
    for key in ("internal_port_range", "external_port_range", "description"):
        if row.get(key):
            out[key] = row[key]
    return out


# ------------------------------------------------------------------------------------------------ identity


def project(row: dict) -> dict:
    return _unknown(dict(row), "openstack project list --long",
                    ("parent_id", "openstack project show <project> -f json"))


def domain(row: dict) -> dict:
    return _unknown(dict(row), "openstack domain list")


def user(row: dict) -> dict:
    return _unknown(_pick(row, {"project": "default_project_id", "domain": "domain_id"}), "openstack user list --long")


def group(row: dict) -> dict:
    return _unknown(dict(row), "openstack group list --long")


def role(row: dict) -> dict:
    out = {"id": row.get("id"), "name": row.get("name")}
    if row.get("domain"):
        out["domain_name"] = row["domain"]
    return _unknown(out, "openstack role list")


def _split_at(text: object) -> Tuple[str, Optional[str]]:
    """`alice@Default` -> ("alice", "Default"); names may hold `@` (e-mail logins): split at the last one."""
    name, sep, dom = str(text).rpartition("@")
    return (name, dom) if sep and name else (str(text), None)


def _named(value) -> dict:
    name, dom = _split_at(value)
    return {"name": name, **({"domain": {"name": dom}} if dom else {})}


def role_assignment(row: dict) -> dict:
    """A row with IDs, or with `--names` (`name@Domain`), into Keystone's assignment shape. With names there are no
    ids: the name and its domain's name stand in, resolved against the listings by the normaliser."""
    names = bool(row.get("x-names"))
    ref = _named if names else (lambda value: {"id": str(value)})
    out: dict = {"role": {"name": _split_at(row.get("role"))[0]} if names else {"id": str(row.get("role"))}}
    if row.get("user"):
        out["user"] = ref(row["user"])
    elif row.get("group"):
        out["group"] = ref(row["group"])
    scope: dict = {}
    if row.get("project"):
        scope["project"] = ref(row["project"])
    elif row.get("domain"):
        scope["domain"] = {"name": str(row["domain"])} if names else {"id": str(row["domain"])}
    elif row.get("system"):
        scope["system"] = {"all": True}
    if _bool(row.get("inherited")):
        scope["OS-INHERIT:inherited_to"] = "projects"
    out["scope"] = scope
    return _unknown(out, "openstack role assignment list" + (" --names" if names else ""))


def _looks_named(rows: List[dict]) -> bool:
    """`--names` output: user/group/project values are `name@Domain`; ids never contain `@`."""
    for r in rows:
        for key in ("user", "group", "project"):
            if r.get(key) and "@" in str(r[key]):
                return True
    return False


# ------------------------------------------------------------------------------------------------ compute


def flavor(row: dict) -> dict:
    out = _pick(row, {"properties": "extra_specs"})
    out["extra_specs"] = _dict(row.get("properties"))
    return _unknown(out, "openstack flavor list --long")


def image(row: dict) -> dict:
    out = _pick(row, {"project": "owner"})
    if isinstance(row.get("tags"), str):
        out["tags"] = osc.parse_list(row["tags"])
    return _unknown(out, "openstack image list --long", (
        "properties", f"openstack image show {row.get('id') or '<image>'} -f json"))


def volume(row: dict) -> dict:
    out = _pick(row, {"type": "volume_type", "properties": "metadata"})
    attached = row.get("attached_to")
    out.pop("attached_to", None)
    if isinstance(attached, list):
        out["attachments"] = attached
    elif attached:
        out["attachments"] = osc.volume({"attachments": attached})["attachments"]
    if "properties" in row:
        out["metadata"] = _dict(row["properties"])
    return _unknown(out, "openstack volume list --long", (
        "volume_image_metadata", f"openstack volume show {row.get('id') or '<volume>'} -f json"))


def volume_type(row: dict) -> dict:
    out = _pick(row, {"properties": "extra_specs"})
    out["extra_specs"] = _dict(row.get("properties"))
    return _unknown(out, "openstack volume type list --long")


def keypair(row: dict) -> dict:
    out = {k: v for k, v in row.items()}
    return _unknown(out, "openstack keypair list", (
        "public_key", f"openstack keypair show --public-key {row.get('name') or '<name>'}"))


def server_group(row: dict) -> dict:
    out = osc.server_group(row)
    return _unknown(out, "openstack server group list --long")


# ------------------------------------------------------------------------------------------------ recognising


def _cols(*names):
    return frozenset(names)


# (kind, test on the row's columns after column_keys, converter); first match wins.
ListReader = Tuple[str, Callable[[frozenset], bool], Callable[[dict], dict]]
LISTS: List[ListReader] = [
    ("role_assignments", lambda k: {"role", "inherited"} <= k, role_assignment),
    ("port_forwardings", lambda k: "internal_port_id" in k, port_forwarding),
    ("floating_ips", lambda k: "floating_ip_address" in k, floating_ip),
    ("security_group_rules", lambda k: "ip_protocol" in k or {"port_range", "ip_range"} <= k, security_group_rule),
    ("ports", lambda k: "mac_address" in k and "fixed_ip_addresses" in k, port),
    ("subnets", lambda k: {"network", "subnet"} <= k, subnet),
    ("networks", lambda k: "subnets" in k, network),
    ("keypairs", lambda k: "fingerprint" in k, keypair),
    ("flavors", lambda k: {"ram", "vcpus"} <= k, flavor),
    ("server_groups", lambda k: ("policy" in k or "policies" in k) and "id" in k, server_group),
    ("volumes", lambda k: "attached_to" in k, volume),
    ("images", lambda k: bool({"disk_format", "container_format", "visibility"} & k) or k == _cols("id", "name",
                                                                                                   "status"), image),
    ("volume_types", lambda k: "is_public" in k, volume_type),
    ("users", lambda k: "email" in k or {"project", "domain"} <= k, user),
    ("projects", lambda k: {"domain_id", "enabled"} <= k, project),
    ("groups", lambda k: "domain_id" in k, group),
    ("domains", lambda k: "enabled" in k, domain),
    ("security_groups", lambda k: "project" in k and bool({"tags", "description"} & k), security_group),
]
# Lists whose rows are only ID and Name (role list; project, user and group list without --long): the file name
# decides, else roles.
_BARE_HINTS = (("project", "projects", project), ("user", "users", user), ("group", "groups", group),
               ("domain", "domains", domain), ("role", "roles", role))


def classify(columns: frozenset, origin: str):
    """(kind, converter, note) for a list of rows with these columns, or None."""
    for kind, test, conv in LISTS:
        if test(columns):
            return kind, conv, ""
    if columns <= _cols("id", "name", "domain"):
        stem = os.path.basename(origin.split(":")[0]).lower()
        for hint, kind, conv in _BARE_HINTS:
            if hint in stem and not (hint == "group" and "security" in stem):
                return kind, conv, ""
        return "roles", role, (f"{origin}: rows of only ID and Name are read as 'openstack role list' output; "
                               "name the file after the listing (e.g. projects.json) or list projects, users and "
                               "groups with --long")
    return None


def convert_rows(rows: List[dict], origin: str):
    """(kind, API records, warnings) for the rows of one CLI list, or None when the columns are not a known list."""
    columns = frozenset().union(*(r.keys() for r in rows)) if rows else frozenset()
    found = classify(columns, origin)
    if found is None:
        return None
    kind, conv, note = found
    warnings = [note] if note else []
    if kind == "role_assignments" and _looks_named(rows):
        rows = [{**r, "x-names": True} for r in rows]
    return kind, [conv(r) for r in rows], warnings


def forwarding_target(origin: str) -> Optional[str]:
    """The floating IP a port forwarding listing belongs to, from its file name (`openstack floating ip port
    forwarding list <ip>` does not repeat it in its rows)."""
    stem = os.path.splitext(os.path.basename(origin.split(":")[0]))[0]
    m = _UUID.search(stem) or _IPV4.search(stem)
    if m:
        return m.group(1) if m.re is _IPV4 else m.group(0)
    v6 = re.search(r"([0-9a-fA-F]{0,4}(?:[:_][0-9a-fA-F]{0,4}){2,7})", stem)
    if v6 and v6.group(1).count(":") >= 2:
        return v6.group(1)
    return None


PUBLIC_KEY_PREFIXES = ("ssh-", "ecdsa-", "sk-ssh-", "sk-ecdsa-", "-----BEGIN CERTIFICATE")


def is_public_key_text(text: str) -> bool:
    return text.lstrip().startswith(PUBLIC_KEY_PREFIXES)


def public_key_record(text: str, origin: str) -> dict:
    """`openstack keypair show --public-key NAME -f json` prints the key text, then `{}`: the name is the file's."""
    body = text.strip()
    if body.endswith("{}"):
        body = body[:-2].rstrip()
    stem = os.path.splitext(os.path.basename(origin))[0]
    for prefix in ("keypair-show-", "keypair-", "keypair_"):
        if stem.startswith(prefix) and len(stem) > len(prefix):
            stem = stem[len(prefix):]
    for suffix in (".pub", "-public-key", "_public_key"):
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[:-len(suffix)]
    key_type = "x509" if body.startswith("-----BEGIN") else "ssh"
    return {"name": stem, "public_key": body, "type": key_type, CLI_COMMAND: "openstack keypair show --public-key"}

"""`openstack ... -f json` output back into API shapes.

python-openstackclient flattens structured fields into display strings, and the format changed between releases:
`"flavor": "m1.tiny (7627a6a5-...)"`, `"addresses": "net=10.0.0.5; net2=10.1.0.7, 172.24.4.9"`,
`"security_groups": "name='default'\\nname='web'"`, `"properties": "k='v', k2='v2'"`; newer releases print lists
and dicts instead. Each function accepts both and returns what the REST API would have returned.
"""

import ipaddress
import re
from typing import Dict, List

CLI_UNKNOWN = "x-vmmove-cli-unknown"  # fields the CLI output could not tell: [[field, command], ...]
CLI_COMMAND = "x-vmmove-cli-command"  # the command that printed the record, for messages

_NAME_AND_ID = re.compile(r"^(?P<name>.*?)\s*\((?P<id>[^()]+)\)\s*$")


_NEXT_KEY = re.compile(r",\s*[^=',]+=")


def parse_kv(text: str) -> Dict[str, str]:
    """`k='v', Cost Center='42'` (osc-lib's format_dict, keys sorted, no escaping) into a dict. Keys may hold spaces
    and ':' (`pci_passthrough:alias`); a value ends only at a quote followed by `, <key>=` or the end, so values
    with `, ` or `'` inside survive; an empty value (`key=`) runs to the next key."""
    out: Dict[str, str] = {}
    s = text or ""
    i, n = 0, len(s)
    while i < n:
        eq = s.find("=", i)
        if eq < 0:
            break
        key = s[i:eq].strip().lstrip(",").strip()
        j = eq + 1
        if j < n and s[j] in "'\"":
            quote, k = s[j], j + 1
            while True:
                close = s.find(quote, k)
                if close < 0:
                    value, i = s[j + 1:], n
                    break
                rest = s[close + 1:]
                if not rest.strip() or _NEXT_KEY.match(rest):
                    value, i = s[j + 1:close], close + 1
                    break
                k = close + 1
        else:
            m = _NEXT_KEY.search(s, j)
            value, i = (s[j:m.start()], m.start()) if m else (s[j:], n)
        if key:
            out[key] = value
    return out


def parse_kv_lines(value) -> List[Dict[str, str]]:
    """A list of dicts printed one per line (`format_list_of_dicts`), or already a list."""
    if isinstance(value, list):
        return [v if isinstance(v, dict) else parse_kv(str(v)) for v in value]
    if not value:
        return []
    return [parse_kv(line) for line in str(value).splitlines() if line.strip()]


def parse_list(value) -> List[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if not value:
        return []
    return [v.strip() for v in re.split(r"[,\n]", str(value)) if v.strip()]


def name_and_id(text: str):
    """`m1.tiny (7627a6a5-...)` -> ("m1.tiny", "7627a6a5-..."); a bare id -> (None, id)."""
    m = _NAME_AND_ID.match(text or "")
    if m:
        return m.group("name") or None, m.group("id")
    return None, (text or None)


def addresses(value) -> dict:
    """`net=10.0.0.5, 172.24.4.9; net2=fd00::5` or {"net": ["10.0.0.5"]} into Nova's addresses map.

    The CLI does not say which address is fixed and which floating; they are marked fixed here and the normaliser
    re-marks addresses that match a known floating IP.
    """
    if isinstance(value, dict):
        per_network: dict = {}
        for net, addrs in value.items():
            per_network[net] = [a if isinstance(a, dict) else _address(str(a)) for a in (addrs or [])]
        return per_network
    out: dict = {}
    for part in re.split(r";\s*|\n", str(value or "")):
        if "=" not in part:
            continue
        net, _, addrs = part.partition("=")
        out.setdefault(net.strip(), []).extend(_address(a.strip()) for a in addrs.split(",") if a.strip())
    return out


def _address(text: str) -> dict:
    try:
        version = ipaddress.ip_address(text).version
    except ValueError:
        version = 4
    return {"addr": text, "version": version, "OS-EXT-IPS:type": "fixed"}


def server(raw: dict) -> dict:
    out = dict(raw)
    flavor = raw.get("flavor")
    if isinstance(flavor, str):
        if "=" in flavor:
            spec = parse_kv(flavor)
            extra = {k[len("extra_specs."):]: v for k, v in spec.items() if k.startswith("extra_specs.")}
            out["flavor"] = {k: v for k, v in spec.items() if not k.startswith("extra_specs.")}
            out["flavor"]["extra_specs"] = extra
        else:
            name, ident = name_and_id(flavor)
            out["flavor"] = {"id": ident, "original_name": name}
    image = raw.get("image")
    if isinstance(image, str):
        name, ident = name_and_id(image)
        # Boot-from-volume servers print "" or "N/A (booted from volume)".
        out["image"] = {"id": ident, "name": name} if ident and "booted from volume" not in ident.lower() else ""
    addrs = raw.get("addresses")
    if isinstance(addrs, str) or isinstance(addrs, dict) and any(
            isinstance(v, list) and v and isinstance(v[0], str) for v in addrs.values()):
        out["addresses"] = addresses(addrs)
    if isinstance(raw.get("security_groups"), str):
        out["security_groups"] = [{"name": d.get("name", "")} for d in parse_kv_lines(raw["security_groups"])]
    vols = raw.get("volumes_attached", raw.get("os-extended-volumes:volumes_attached"))
    if isinstance(vols, str):
        out.pop("volumes_attached", None)
        out["os-extended-volumes:volumes_attached"] = [{"id": d["id"]} for d in parse_kv_lines(vols) if d.get("id")]
    elif isinstance(vols, list) and "volumes_attached" in raw:
        out.pop("volumes_attached")
        out["os-extended-volumes:volumes_attached"] = vols
    props = raw.get("properties")
    if "properties" in raw:
        out.pop("properties")
        out["metadata"] = parse_kv(props) if isinstance(props, str) else dict(props or {})
    if "project_id" in raw and "tenant_id" not in raw:
        out["tenant_id"] = raw["project_id"]
    if isinstance(raw.get("tags"), str):
        out["tags"] = parse_list(raw["tags"])
    if "user_data" in raw and "OS-EXT-SRV-ATTR:user_data" not in raw:
        out["OS-EXT-SRV-ATTR:user_data"] = out.pop("user_data")
    if not out.get("OS-EXT-SRV-ATTR:user_data"):
        # OSC prints null (openstacksdk) or nothing (novaclient) both when there is none and when it is hidden
        # (not an admin, or compute API below 2.3): the CLI output cannot tell which.
        out[CLI_UNKNOWN] = [["OS-EXT-SRV-ATTR:user_data", "openstack --os-compute-api-version 2.3 server "
                                                                     "show <server> -f json"]]
    return out


def flavor(raw: dict) -> dict:
    out = dict(raw)
    if "properties" in raw:
        props = raw["properties"]
        out.pop("properties")
        out["extra_specs"] = parse_kv(props) if isinstance(props, str) else dict(props or {})
    return out


def image(raw: dict) -> dict:
    out = dict(raw)
    props = out.pop("properties", None)
    if isinstance(props, str):
        props = parse_kv(props)
    for k, v in (props or {}).items():
        out.setdefault(k, v)
    if isinstance(out.get("tags"), str):
        out["tags"] = parse_list(out["tags"])
    return out


def volume(raw: dict) -> dict:
    out = dict(raw)
    if "type" in raw and "volume_type" not in raw:
        out["volume_type"] = out.pop("type")
    atts = raw.get("attachments")
    if isinstance(atts, str):
        # "Attached to web-01 on /dev/vdb " (OSC prints the server name, not its id).
        out["attachments"] = [{"server_name": m.group(1), "device": m.group(2)}
                              for m in re.finditer(r"Attached to (\S+) on (\S+)", atts)]
    if isinstance(raw.get("properties"), str):
        out["metadata"] = parse_kv(out.pop("properties"))
    return out


def security_group(raw: dict) -> dict:
    out = dict(raw)
    rules = raw.get("rules", raw.get("security_group_rules"))
    out.pop("rules", None)
    out["security_group_rules"] = [_rule(r) for r in parse_kv_lines(rules)]
    return out


def _rule(rule: dict) -> dict:
    out = dict(rule)
    for key in ("port_range_min", "port_range_max"):
        if isinstance(out.get(key), str):
            out[key] = int(out[key]) if out[key].isdigit() else None
    for key in ("remote_ip_prefix", "remote_group_id", "protocol", "remote_address_group_id"):
        if out.get(key) in ("None", "", "null"):
            out[key] = None
    return out


def port(raw: dict) -> dict:
    out = dict(raw)
    if isinstance(raw.get("fixed_ips"), str):
        out["fixed_ips"] = parse_kv_lines(raw["fixed_ips"])
    if "security_group_ids" in raw and "security_groups" not in raw:
        out["security_groups"] = parse_list(out.pop("security_group_ids"))
    elif isinstance(raw.get("security_groups"), str):
        out["security_groups"] = parse_list(raw["security_groups"])
    return out


def network(raw: dict) -> dict:
    out = dict(raw)
    if isinstance(raw.get("subnets"), str):
        out["subnets"] = parse_list(raw["subnets"])
    return out


def server_group(raw: dict) -> dict:
    out = dict(raw)
    if isinstance(raw.get("members"), str):
        out["members"] = parse_list(raw["members"])
    if isinstance(raw.get("policies"), str):
        out["policies"] = parse_list(raw["policies"])
    if isinstance(raw.get("rules"), str):
        out["rules"] = parse_kv(raw["rules"])
    return out


BOOTED_FROM_VOLUME = "n/a (booted from volume)"  # what OSC prints, lower-cased, for a server with no image

# The columns of `openstack server list` (after column_keys) that `server show` does not have.
_LIST_COLUMNS = {"networks", "image_name", "image_id", "flavor_name", "flavor_id", "task_state", "power_state",
                 "availability_zone", "host", "created_at", "security_groups"}


def is_server_list_row(row: dict) -> bool:
    """A row of `openstack server list -f json|yaml` (column_keys applied): `Networks` instead of `addresses`."""
    return {"id", "name", "status", "networks"} <= set(row) and "addresses" not in row


def server_list_row(row: dict) -> dict:
    """One `openstack server list` row as a partial server record. The list names the image and flavor (by name
    unless --long or --no-name-lookup gives ids) and each network's addresses; it has no flavor sizes, volumes,
    ports or MACs, security groups (unless -c), key pair or user data, so the record holds only what it says."""
    out = {k: v for k, v in row.items() if k not in _LIST_COLUMNS}
    out["addresses"] = addresses(row.get("networks"))
    image_id, image_name = row.get("image_id"), row.get("image_name", row.get("image"))
    if any(str(v or "").strip().lower() == BOOTED_FROM_VOLUME for v in (image_id, image_name)):
        out["image"] = ""
    elif image_id:
        out["image"] = {"id": image_id, "name": image_name}
    elif image_name:
        # The normaliser resolves it against the images in the input by id or by name (--no-name-lookup).
        out["image"] = {"name": image_name}
    else:
        out["image"] = ""
    flavor_id, flavor_name = row.get("flavor_id"), row.get("flavor_name", row.get("flavor"))
    out["flavor"] = {k: v for k, v in (("id", flavor_id), ("original_name", flavor_name)) if v}
    renames = {"task_state": "OS-EXT-STS:task_state", "power_state": "OS-EXT-STS:power_state",
               "availability_zone": "OS-EXT-AZ:availability_zone", "host": "OS-EXT-SRV-ATTR:hypervisor_hostname",
               "created_at": "created"}
    for column, key in renames.items():
        if column in row:
            out[key] = row[column]
    if "security_groups" in row:
        out["security_groups"] = [{"name": n} for n in parse_list(row["security_groups"])]
    return server(out)


CONVERTERS = {
    "servers": server,
    "flavors": flavor,
    "images": image,
    "volumes": volume,
    "security_groups": security_group,
    "ports": port,
    "networks": network,
    "server_groups": server_group,
}


def column_keys(raw: dict) -> dict:
    """`openstack ... list -f json` columns ("ID", "Flavor Name") into API-style keys ("id", "flavor_name")."""
    return {re.sub(r"\W+", "_", k.strip()).lower(): v for k, v in raw.items()}

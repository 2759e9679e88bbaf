"""Raw records of any shape and microversion into the one model (`model.Estate`).

Everything version-dependent is settled here: `swap: ""` before 2.75, the flavor embedded in servers from 2.47,
image properties embedded from 2.100, `image: ""` for boot-from-volume, `bootable: "true"` strings, Nova's
proxy security-group-rule shape, the `PARENT` sentinel of default-rule templates, partial down-cell records (2.69+),
Keystone's include_names variants. Records seen twice (a list and a show) are merged, later fields winning.
"""

import base64
import binascii
import ipaddress
from typing import Dict, List, Optional, Tuple

from ...errors import UserError
from .. import model as m
from .cli_output import CLI_COMMAND, CLI_UNKNOWN
from .inputs import RawInput

# Kinds whose records may arrive more than once (a list row and a show, several CLI listings): their raw fields
# are merged by identity before the record is built, so a later, shorter row does not hide what a show told.
MERGED_KINDS = ("domains", "projects", "users", "groups", "roles", "flavors", "images", "volume_types", "volumes",
                "networks", "subnets", "ports", "floating_ips", "keypairs", "server_groups", "servers",
                "address_groups", "security_groups")

GLANCE_STANDARD = frozenset({
    "id", "name", "status", "tags", "container_format", "disk_format", "created_at", "updated_at", "visibility",
    "self", "min_disk", "min_ram", "protected", "file", "checksum", "os_hash_algo", "os_hash_value", "os_hidden",
    "owner", "size", "virtual_size", "schema", "locations", "direct_url", "stores", "links", "metadata", "minDisk",
    "minRam", "OS-EXT-IMG-SIZE:size", "progress", "created", "updated", "OS-DCF:diskConfig", "server",
})


def to_bool(value, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        return default
    return str(value).strip().lower() in ("true", "1", "yes", "y", "on", "required")


def to_int(value, default: int = 0) -> int:
    if value is None or value == "" or isinstance(value, bool):
        return default
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def _str_dict(value) -> Dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): ("" if v is None else str(v) if not isinstance(v, bool) else str(v).lower()) for k, v in value.items()}


def _require(raw: dict, key: str, origin: str):
    value = raw.get(key)
    if value in (None, ""):
        raise UserError(f"{origin}: field {key!r} is missing; this record cannot be converted (re-export it)")
    return value


class _Builder:
    def __init__(self, raw: RawInput):
        self.raw = raw
        self.e = m.Estate()
        self.e.warnings.extend(raw.warnings)
        self.attachment_devices: Dict[tuple, Optional[str]] = {}
        self.unknown: Dict[str, str] = {}  # unknown fields of the record being built
        self.attachments_by_server_name: List[tuple] = []

    def warn(self, message: str) -> None:
        self.e.warnings.append(message)

    # --------------------------------------------------------------------------------------------- merging

    def _merge(self, table: dict, key: str, record):
        record.unknown = dict(self.unknown)
        old = table.get(key)
        if old is not None:
            merged = {**old.raw, **record.raw}
            record.raw = merged
            record.origin = old.origin
        table[key] = record
        return record

    # --------------------------------------------------------------------------------------------- identity

    def domain(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        self._merge(self.e.domains, ident, m.Domain(ident, raw.get("name") or ident, raw, origin,
                                                    enabled=to_bool(raw.get("enabled"), True)))

    def project(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        for i, sub in enumerate(raw.get("subtree") or []):
            if isinstance(sub, dict):
                self.project(sub.get("project", sub), f"{origin} subtree[{i}]")
        raw = {k: v for k, v in raw.items() if k not in ("subtree", "parents")}
        tags = raw.get("tags") or []
        self._merge(self.e.projects, ident, m.Project(
            ident, raw.get("name") or ident, raw, origin, domain_id=raw.get("domain_id"),
            parent_id=raw.get("parent_id"), tags=[str(t) for t in tags] if isinstance(tags, list) else []))

    def user(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        self._merge(self.e.users, ident, m.User(ident, raw.get("name") or ident, raw, origin,
                                                domain_id=raw.get("domain_id")))

    def group(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        self._merge(self.e.groups, ident, m.Group(ident, raw.get("name") or ident, raw, origin,
                                                  domain_id=raw.get("domain_id")))

    def role(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        self._merge(self.e.roles, ident, m.Role(ident, raw.get("name") or ident, raw, origin))

    def role_assignment(self, raw, origin):
        role = raw.get("role") or {}
        scope = raw.get("scope") or {}
        if "user" in raw:
            actor_kind, actor = "user", raw.get("user") or {}
        elif "group" in raw:
            actor_kind, actor = "group", raw.get("group") or {}
        else:
            raise UserError(f"{origin}: field 'user' or 'group' is missing from the role assignment")
        if "project" in scope:
            scope_kind, target = "project", scope["project"] or {}
        elif "domain" in scope:
            scope_kind, target = "domain", scope["domain"] or {}
        elif "system" in scope:
            scope_kind, target = "system", {"id": "system"}
        else:
            raise UserError(f"{origin}: field 'scope' names no project, domain or system")
        if not role.get("id") and role.get("name"):  # `role assignment list --names`: names only
            role = {"id": self._id_by_name(self.e.roles, role["name"], None), "name": role["name"]}
        if not actor.get("id") and actor.get("name"):
            table = self.e.users if actor_kind == "user" else self.e.groups
            actor = {**actor, "id": self._id_by_name(table, actor["name"], actor.get("domain"))}
        if not target.get("id") and target.get("name"):
            if scope_kind == "project":
                target = {**target, "id": self._id_by_name(self.e.projects, target["name"], target.get("domain"))}
            else:
                target = {**target, "id": self._id_by_name(self.e.domains, target["name"], None)}
        if not role.get("id") or not actor.get("id") or not target.get("id"):
            raise UserError(f"{origin}: role assignment lacks role.id, {actor_kind}.id or scope.{scope_kind}.id")
        ident = f"{role['id']}/{actor_kind}:{actor['id']}/{scope_kind}:{target['id']}"
        actor_domain = actor.get("domain") if isinstance(actor.get("domain"), dict) else {}
        self.e.role_assignments.append(m.RoleAssignment(
            ident, ident, raw, origin, role_id=str(role["id"]), role_name=role.get("name"), actor_kind=actor_kind,
            actor_id=str(actor["id"]), actor_name=actor.get("name"),
            actor_domain_id=actor_domain.get("id") or None, actor_domain_name=actor_domain.get("name") or None,
            scope_kind=scope_kind, scope_id=str(target["id"]), inherited=bool(scope.get("OS-INHERIT:inherited_to"))))
        if scope_kind == "project" and target.get("name") and target["id"] not in self.e.projects:
            dom = dict(target.get("domain") or {})
            if not dom.get("id") and dom.get("name"):
                dom["id"] = self._id_by_name(self.e.domains, dom["name"], None)
                if dom["id"] not in self.e.domains:
                    self.domain({"id": dom["id"], "name": dom["name"]}, origin)
            self.project({"id": target["id"], "name": target["name"], "domain_id": dom.get("id")}, origin)
        for obj in (target.get("domain"), actor.get("domain")):
            if isinstance(obj, dict) and obj.get("id") and obj.get("name") and obj["id"] not in self.e.domains:
                self.domain({"id": obj["id"], "name": obj["name"]}, origin)

    def _id_by_name(self, table: dict, name: str, domain: Optional[dict]) -> str:
        """The id of the record of this name (in this domain, by the domain's name), else `name@Domain`: unique
        as Keystone's names are within a domain, and never the id of another identity."""
        dom_name = (domain or {}).get("name")
        for rec in table.values():
            if rec.name != name:
                continue
            rec_domain = getattr(rec, "domain_id", None)
            if dom_name is None or (rec_domain in self.e.domains and self.e.domains[rec_domain].name == dom_name):
                return rec.id
        return f"{name}@{dom_name}" if dom_name else name

    def quota(self, raw, origin):
        pid = str(raw.get("project_id") or raw.get("id") or "")
        if not pid:
            raise UserError(f"{origin}: field 'project_id' is missing from the quota")
        if "compute" in raw or "volume" in raw or "network" in raw:
            sections = {s: raw.get(s) or {} for s in ("compute", "volume", "network")}
        else:  # a bare nova quota_set
            sections = {"compute": {k: v for k, v in raw.items() if k != "id"}}
        limits = {}
        for section, values in sections.items():
            limits[section] = {}
            for key, value in (values or {}).items():
                if isinstance(value, dict):
                    value = value.get("limit")
                if isinstance(value, (int, float)) or isinstance(value, str) and value.lstrip("-").isdigit():
                    limits[section][key] = int(value)
        old = self.e.quotas.get(pid)
        if old:
            for section, values in limits.items():
                old.limits.setdefault(section, {}).update(values)
            return
        self.e.quotas[pid] = m.Quota(pid, pid, raw, origin, project_id=pid, limits=limits)

    # --------------------------------------------------------------------------------------------- compute

    def flavor(self, raw, origin, embedded=False, server_id=None):
        name = raw.get("name") or raw.get("original_name")
        ident = raw.get("id") or name
        if not ident:
            raise UserError(f"{origin}: field 'flavor.original_name' (or 'id') is missing")
        ephemeral = raw.get("OS-FLV-EXT-DATA:ephemeral", raw.get("ephemeral"))
        flavor = m.Flavor(str(ident), name or str(ident), raw, origin, vcpus=max(1, to_int(raw.get("vcpus"), 1)),
                          ram_mib=to_int(raw.get("ram")), disk_gib=to_int(raw.get("disk")),
                          ephemeral_gib=to_int(ephemeral), swap_mib=to_int(raw.get("swap")),  # "" before 2.75
                          extra_specs=_str_dict(raw.get("extra_specs")), embedded=embedded)
        if not embedded:
            self._merge(self.e.flavors, flavor.id, flavor)
        return flavor

    def image(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        props = {k: v for k, v in raw.items() if k not in GLANCE_STANDARD}
        props.update(raw.get("metadata") or {})  # nova's /images proxy nests properties under metadata
        image = m.Image(
            ident, raw.get("name") or ident, raw, origin, disk_format=raw.get("disk_format"),
            container_format=raw.get("container_format"),
            size_bytes=to_int(raw.get("size", raw.get("OS-EXT-IMG-SIZE:size")), 0) or None,
            virtual_size_bytes=to_int(raw.get("virtual_size"), 0) or None,
            min_disk_gib=to_int(raw.get("min_disk", raw.get("minDisk"))),
            min_ram_mib=to_int(raw.get("min_ram", raw.get("minRam"))),
            properties=_str_dict(props), status=raw.get("status"))
        self._merge(self.e.images, ident, image)

    def server(self, raw, origin):
        if "flavorRef" in raw and "id" not in raw:
            raise UserError(f"{origin}: this is a server create request (flavorRef), not a server record; save "
                            "'openstack server show <server> -f json' or the API's server detail instead")
        ident = str(_require(raw, "id", origin))
        if "name" not in raw and str(raw.get("status", "")).upper() == "UNKNOWN":
            rec = m.Server(ident, ident, raw, origin, status="UNKNOWN",
                           skip_reason="partial record from a down cell: not converted")
            self.e.skipped.append(rec)
            self.warn(f"{origin}: server {ident} is a partial record from a down cell (status UNKNOWN, no name, "
                      "addresses or security groups); skipped: export again when the cell is back")
            return
        name = _require(raw, "name", origin)
        flavor_raw = raw.get("flavor")
        flavor, flavor_id = None, None
        if isinstance(flavor_raw, dict) and ("vcpus" in flavor_raw or "ram" in flavor_raw):
            flavor = self.flavor(flavor_raw, f"{origin} flavor", embedded=True)
        elif isinstance(flavor_raw, dict) and (flavor_raw.get("id") or flavor_raw.get("original_name")):
            flavor_id = str(flavor_raw.get("id") or flavor_raw.get("original_name"))
        else:
            raise UserError(f"{origin}: field 'flavor' of server {name!r} is missing or empty; the VM cannot be sized")
        image_id, image_props = _server_image(raw.get("image"))
        addresses = _server_addresses(raw)
        sg_names = _server_group_names(raw)
        vols = raw.get("os-extended-volumes:volumes_attached", raw.get("volumes_attached")) or []
        user_data = raw.get("OS-EXT-SRV-ATTR:user_data")
        if user_data:
            try:
                base64.b64decode(user_data, validate=True)
            except (binascii.Error, ValueError):
                raise UserError(f"{origin}: field 'OS-EXT-SRV-ATTR:user_data' of server {name!r} is not base64") from None
        tags = raw.get("tags") or []
        server = m.Server(
            ident, str(name), raw, origin, status=str(raw.get("status") or "").upper(),
            project_id=raw.get("tenant_id") or raw.get("project_id"), flavor_id=flavor_id, flavor=flavor,
            image_id=image_id, image_properties=image_props, key_name=raw.get("key_name") or None,
            user_data_b64=user_data or None, config_drive=to_bool(raw.get("config_drive")),
            metadata=_str_dict(raw.get("metadata")), tags=[str(t) for t in tags],
            security_group_names=sg_names, addresses=addresses,
            volume_ids=[str(v["id"]) for v in vols if isinstance(v, dict) and v.get("id")],
            availability_zone=raw.get("OS-EXT-AZ:availability_zone") or None,
            server_group_ids=[str(g) for g in raw.get("server_groups") or [] if isinstance(g, str)],
            root_device_name=raw.get("OS-EXT-SRV-ATTR:root_device_name") or None,
            description=raw.get("description") or None)
        self._merge(self.e.servers, ident, server)

    def keypair(self, raw, origin):
        name = str(_require(raw, "name", origin))
        self._merge(self.e.keypairs, name, m.KeyPair(
            str(raw.get("id") or name), name, raw, origin, public_key=(raw.get("public_key") or "").strip(),
            key_type=raw.get("type") or "ssh", user_id=raw.get("user_id")))

    def server_group(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        policy = raw.get("policy") or (raw.get("policies") or [""])[0]
        rules = {k: to_int(v) for k, v in (raw.get("rules") or {}).items()}
        self._merge(self.e.server_groups, ident, m.ServerGroup(
            ident, raw.get("name") or ident, raw, origin, policy=str(policy), rules=rules,
            members=[str(x) for x in raw.get("members") or []], project_id=raw.get("project_id")))

    # --------------------------------------------------------------------------------------------- storage

    def volume(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        attachments = []
        for a in raw.get("attachments") or []:
            if a.get("server_id"):
                attachments.append(m.VolumeAttachment(str(a["server_id"]), a.get("device")))
            elif a.get("server_name"):
                self.attachments_by_server_name.append((ident, a["server_name"], a.get("device")))
        self._merge(self.e.volumes, ident, m.Volume(
            ident, raw.get("name") or ident, raw, origin, size_gib=max(1, to_int(raw.get("size"), 1)),
            volume_type=raw.get("volume_type") or raw.get("volume_type_id"), bootable=to_bool(raw.get("bootable")),
            multiattach=to_bool(raw.get("multiattach")), status=raw.get("status"),
            project_id=raw.get("os-vol-tenant-attr:tenant_id") or raw.get("project_id"), attachments=attachments,
            image_metadata=_str_dict(raw.get("volume_image_metadata"))))

    def volume_type(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        self._merge(self.e.volume_types, ident, m.VolumeType(ident, raw.get("name") or ident, raw, origin))

    def volume_attachment(self, raw, origin):
        server_id = raw.get("serverId") or raw.get("server_id") or raw.get("instance")
        volume_id = raw.get("volumeId") or raw.get("volume_id")
        if not server_id or not volume_id:
            raise UserError(f"{origin}: a volume attachment needs serverId (or instance) and volumeId")
        self.attachment_devices[(str(server_id), str(volume_id))] = raw.get("device")

    # --------------------------------------------------------------------------------------------- network

    def network(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        self._merge(self.e.networks, ident, m.Network(
            ident, raw.get("name") or ident, raw, origin, project_id=raw.get("project_id") or raw.get("tenant_id"),
            shared=to_bool(raw.get("shared")), external=to_bool(raw.get("router:external")),
            mtu=to_int(raw.get("mtu")) or None))

    def subnet(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        self._merge(self.e.subnets, ident, m.Subnet(
            ident, raw.get("name") or ident, raw, origin, network_id=str(raw.get("network_id") or ""),
            cidr=str(raw.get("cidr") or ""), ip_version=to_int(raw.get("ip_version"), 4),
            gateway_ip=raw.get("gateway_ip") or None, dns_nameservers=list(raw.get("dns_nameservers") or []),
            enable_dhcp=to_bool(raw.get("enable_dhcp"), True)))

    def port(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        fixed = [m.FixedIP(str(f.get("ip_address")), f.get("subnet_id")) for f in raw.get("fixed_ips") or []
                 if isinstance(f, dict) and f.get("ip_address")]
        sgs = [s if isinstance(s, str) else s.get("id") for s in raw.get("security_groups") or []]
        self._merge(self.e.ports, ident, m.Port(
            ident, raw.get("name") or ident, raw, origin, network_id=str(raw.get("network_id") or ""),
            mac_address=str(raw.get("mac_address") or "").lower(), fixed_ips=fixed,
            device_id=raw.get("device_id") or None, device_owner=raw.get("device_owner") or None,
            security_group_ids=[s for s in sgs if s], port_security_enabled=self._port_security(raw),
            vnic_type=raw.get("binding:vnic_type") or "normal", project_id=raw.get("project_id") or raw.get("tenant_id")))

    def _port_security(self, raw) -> Optional[bool]:
        if "port_security_enabled" in self.unknown and raw.get("port_security_enabled") is None:
            groups = raw.get("security_groups") or []
            return True if groups else None  # Neutron refuses groups on a port without port security
        return to_bool(raw.get("port_security_enabled"), True)

    def interface_attachment(self, raw, origin):
        ident = str(_require(raw, "port_id", origin))
        if ident in self.e.ports:
            return
        fixed = [m.FixedIP(str(f.get("ip_address")), f.get("subnet_id")) for f in raw.get("fixed_ips") or []]
        self.e.ports[ident] = m.Port(ident, ident, raw, origin, network_id=str(raw.get("net_id") or ""),
                                     mac_address=str(raw.get("mac_addr") or "").lower(), fixed_ips=fixed)

    def security_group(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        sg = m.SecurityGroup(ident, raw.get("name") or ident, raw, origin,
                             project_id=raw.get("project_id") or raw.get("tenant_id"),
                             stateful=to_bool(raw.get("stateful"), True))
        rules_raw = raw.get("security_group_rules", raw.get("rules")) or []
        old = self.e.security_groups.get(ident)
        if old is not None:
            sg.rules = old.rules  # rules read from a flat rule listing before this group
        sg = self._merge(self.e.security_groups, ident, sg)
        for i, r in enumerate(rules_raw):
            self.rule({**r, "security_group_id": r.get("security_group_id") or r.get("parent_group_id") or ident},
                      f"{origin} security_group_rules[{i}]")

    def rule(self, raw, origin):
        sg_id = raw.get("security_group_id") or raw.get("parent_group_id")
        if not sg_id:
            raise UserError(f"{origin}: field 'security_group_id' is missing from the rule")
        sg_id = str(sg_id)
        sg = self.e.security_groups.get(sg_id)
        if sg is None:
            sg = m.SecurityGroup(sg_id, sg_id, {"id": sg_id}, origin)
            self.e.security_groups[sg_id] = sg
        if "ip_protocol" in raw:  # nova's proxy shape
            cidr = (raw.get("ip_range") or {}).get("cidr")
            group = raw.get("group") or {}
            remote_group = None
            if group.get("name"):
                remote_group = next((g.id for g in self.e.security_groups.values() if g.name == group["name"]), None)
            lo, hi = raw.get("from_port"), raw.get("to_port")
            proto = (raw.get("ip_protocol") or "").lower() or None
            rule = m.SecurityGroupRule(
                str(raw.get("id") or f"{sg_id}/{len(sg.rules)}"), "", raw, origin, security_group_id=sg_id,
                direction="ingress", ethertype=_ethertype(cidr), protocol=proto,
                port_min=None if lo in (None, -1) else to_int(lo), port_max=None if hi in (None, -1) else to_int(hi),
                remote_ip_prefix=cidr, remote_group_id=remote_group)
        else:
            remote = raw.get("remote_group_id")
            if remote == "PARENT":  # default-rule templates: the group the rule ends up in
                remote = sg_id
            proto = raw.get("protocol")
            rule = m.SecurityGroupRule(
                str(raw.get("id") or f"{sg_id}/{len(sg.rules)}"), "", raw, origin, security_group_id=sg_id,
                direction=str(raw.get("direction") or "ingress").lower(), ethertype=raw.get("ethertype") or "IPv4",
                protocol=None if proto in (None, "", "any") else str(proto).lower(),
                port_min=None if raw.get("port_range_min") is None else to_int(raw["port_range_min"]),
                port_max=None if raw.get("port_range_max") is None else to_int(raw["port_range_max"]),
                remote_ip_prefix=raw.get("remote_ip_prefix") or None, remote_group_id=remote or None,
                remote_address_group_id=raw.get("remote_address_group_id") or None)
        rule.name = f"{rule.direction} {rule.ethertype} {rule.protocol or 'any'}"
        for i, existing in enumerate(sg.rules):
            if existing.id == rule.id:
                sg.rules[i] = rule
                return
        sg.rules.append(rule)

    def address_group(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        self._merge(self.e.address_groups, ident, m.AddressGroup(
            ident, raw.get("name") or ident, raw, origin, addresses=[str(a) for a in raw.get("addresses") or []]))

    def floating_ip(self, raw, origin):
        ident = str(_require(raw, "id", origin))
        address = _require(raw, "floating_ip_address", origin)
        forwards = [m.PortForwarding(str(pf.get("protocol") or "tcp").lower(), pf.get("internal_port_id"),
                                     pf.get("internal_ip_address"), to_int(pf.get("internal_port")),
                                     to_int(pf.get("external_port")))
                    for pf in raw.get("port_forwardings") or [] if isinstance(pf, dict)]
        fip = self._merge(self.e.floating_ips, ident, m.FloatingIP(
            ident, str(address), raw, origin, address=str(address), port_id=raw.get("port_id") or None,
            fixed_ip=raw.get("fixed_ip_address") or None, project_id=raw.get("project_id") or raw.get("tenant_id"),
            port_forwardings=forwards))
        fip.forwardings_known = "port_forwardings" not in fip.unknown

    def _attach_forwardings(self, entries):
        """Rows of `floating ip port forwarding list <fip>`, tagged by the reader with the floating IP (address or
        id) their file is named after."""
        for raw, origin in entries:
            target = str(raw.get("floatingip") or "")
            fip = next((f for f in self.e.floating_ips.values()
                        if target in (f.id, f.address) or target.replace("_", ":") == f.address), None)
            if fip is None:
                self.warn(f"{origin}: port forwardings of floating IP {target}, which is not in the input; skipped: "
                          "add 'openstack floating ip list --long -f json'")
                continue
            fip.port_forwardings.append(m.PortForwarding(
                str(raw.get("protocol") or "tcp").lower(), raw.get("internal_port_id"), raw.get("internal_ip_address"),
                to_int(raw.get("internal_port")), to_int(raw.get("external_port"))))
            fip.forwardings_known = True
            fip.unknown.pop("port_forwardings", None)

    # --------------------------------------------------------------------------------------------- run

    def build(self) -> m.Estate:
        r = self.raw.records
        order = [
            ("domains", self.domain), ("projects", self.project), ("users", self.user), ("groups", self.group),
            ("roles", self.role), ("role_assignments", self.role_assignment), ("quotas", self.quota),
            ("flavors", self.flavor), ("images", self.image), ("volume_types", self.volume_type),
            ("volumes", self.volume), ("networks", self.network), ("subnets", self.subnet),
            ("security_groups", self.security_group), ("security_group_rules", self.rule),
            ("address_groups", self.address_group), ("ports", self.port),
            ("interface_attachments", self.interface_attachment), ("floating_ips", self.floating_ip),
            ("keypairs", self.keypair), ("server_groups", self.server_group), ("servers", self.server),
            ("volume_attachments", self.volume_attachment),
        ]
        for kind, fn in order:
            entries = _merge_by_identity(kind, r.get(kind, []))
            for raw, origin, unknown in entries:
                self.unknown = unknown
                fn(raw, origin)
            self.unknown = {}
        self._attach_forwardings(r.get("port_forwardings", []))
        if r.get("default_security_group_rules"):
            self.warn(f"{len(r['default_security_group_rules'])} default security group rule templates read; "
                      "templates only shape groups created later in OpenStack, so only existing groups' rules are "
                      "converted")
        self._resolve()
        return self.e

    def _resolve(self):
        e = self.e
        floating = {f.address for f in e.floating_ips.values()}
        for server in list(e.servers.values()):
            for a in server.addresses:
                if a.address in floating:
                    a.kind = "floating"
            if server.flavor is None:
                flavor = e.flavors.get(server.flavor_id) or next(
                    (f for f in e.flavors.values() if f.name == server.flavor_id), None)
                if flavor is None and server.origin in self.raw.listed_servers:
                    server.skip_reason = f"flavor {server.flavor_id!r} is not in the input: the VM cannot be sized"
                    del e.servers[server.id]
                    e.skipped.append(server)
                    self.warn(f"{server.origin}: server {server.name!r} names flavor {server.flavor_id!r}, which is "
                              "not in the input; skipped: add the flavors ('openstack flavor list --long -f json', "
                              "or 'openstack flavor show <flavor> -f json' saved next to it)")
                    continue
                if flavor is None:
                    raise UserError(
                        f"{server.origin}: field flavor.id {server.flavor_id!r} of server {server.name!r} names a "
                        "flavor that is not in the input; add the flavors (the export's resources.flavors, or "
                        "'openstack flavor show <id> -f json' saved next to it)")
                server.flavor = flavor
            if server.image_id and server.image_id not in e.images:
                named = [i for i in e.images.values() if i.name == server.image_id]
                if len(named) == 1:
                    server.image_id = named[0].id
            if server.image_id and server.image_id not in e.images and not server.image_properties:
                e.warnings.append(f"{server.origin}: field image.id {server.image_id!r} of server {server.name!r} "
                                  "names an image that is not in the input; converted without its properties "
                                  "(disk bus, firmware, OS type)")
        names = {}
        for s in e.servers.values():
            names.setdefault(s.name, s.id)
        for vol_id, server_name, device in self.attachments_by_server_name:
            if server_name in names and vol_id in e.volumes:
                e.volumes[vol_id].attachments.append(m.VolumeAttachment(names[server_name], device))
        for (server_id, vol_id), device in sorted(self.attachment_devices.items()):
            vol = e.volumes.get(vol_id)
            if vol is not None:
                att = next((a for a in vol.attachments if a.server_id == server_id), None)
                if att is None:
                    vol.attachments.append(m.VolumeAttachment(server_id, device))
                elif device and not att.device:
                    att.device = device
            server = e.servers.get(server_id)
            if server is not None and vol_id not in server.volume_ids:
                server.volume_ids.append(vol_id)
        for vol in e.volumes.values():
            for att in vol.attachments:
                server = e.servers.get(att.server_id)
                if server is not None and vol.id not in server.volume_ids:
                    server.volume_ids.append(vol.id)
        for server in e.servers.values():
            for vid in server.volume_ids:
                if vid not in e.volumes:
                    e.warnings.append(f"{server.origin}: volume {vid} attached to server {server.name!r} is not in "
                                      "the input; its disk is left out (add the volume listing)")
        self._match_ports()

    def _match_ports(self):
        """Ports without a device id are matched to servers: by MAC address (interface attachments), else by fixed
        IP on the port's network (`port list` prints neither device nor network: the subnet of each fixed IP names
        the network, and a server's addresses are keyed by network name). An address alone is never enough:
        private ranges overlap across projects."""
        e = self.e
        by_mac = {}
        owners: Dict[tuple, List[str]] = {}
        for server in e.servers.values():
            for a in server.addresses:
                if a.mac:
                    by_mac.setdefault(a.mac.lower(), server.id)
                if a.kind == "fixed":
                    owners.setdefault((a.network_name, a.address), []).append(server.id)
        unmatched = 0
        for port in e.ports.values():
            if not port.network_id:
                nets = {e.subnets[f.subnet_id].network_id for f in port.fixed_ips if f.subnet_id in e.subnets}
                if len(nets) == 1:
                    port.network_id = nets.pop()
                    port.unknown.pop("network_id", None)
            if port.device_id or (port.device_owner or "").startswith("network:"):
                continue
            if port.mac_address in by_mac:
                port.device_id = by_mac[port.mac_address]
                continue
            net = e.networks.get(port.network_id)
            if net is None:
                unmatched += "device_id" in port.unknown
                continue
            for f in port.fixed_ips:
                found = owners.get((net.name, f.ip_address), [])
                if len(found) == 1:
                    port.device_id = found[0]
                    break
            if port.device_id:
                port.unknown.pop("device_id", None)
                for a in e.servers[port.device_id].addresses:
                    if a.network_name == net.name and any(a.address == f.ip_address for f in port.fixed_ips):
                        a.mac = a.mac or port.mac_address
        if unmatched:
            self.warn(f"{unmatched} ports from 'openstack port list' name no network the input knows, so they cannot "
                      "be matched to servers (the listing has no device or network column): add 'openstack subnet "
                      "list -f json' and 'openstack network list -f json', or list ports per server with "
                      "'openstack port list --server <server> --long -f json'")


def _split_cli(raw) -> tuple:
    """(raw without the CLI markers, {field: command} of what the CLI output could not tell)."""
    if not isinstance(raw, dict) or (CLI_UNKNOWN not in raw and CLI_COMMAND not in raw):
        return raw, {}
    raw = dict(raw)
    unknown = {str(f): str(c) for f, c in raw.pop(CLI_UNKNOWN, None) or []}
    raw.pop(CLI_COMMAND, None)
    return raw, unknown


def _merge_by_identity(kind: str, entries) -> List[tuple]:
    """[(raw, origin, unknown)], records of one identity merged into the first one read: later fields win, and a
    field one input told stays known even when another input could not tell it."""
    out: List[tuple] = []
    index: Dict[str, int] = {}
    for raw, origin in entries:
        raw, unknown = _split_cli(raw)
        key = None
        if kind in MERGED_KINDS and isinstance(raw, dict):
            key = raw.get("name") if kind == "keypairs" else raw.get("id")
        if key in (None, "") or key not in index:
            if key not in (None, ""):
                index[str(key)] = len(out)
            out.append((raw, origin, unknown))
            continue
        i = index[str(key)]
        old_raw, old_origin, old_unknown = out[i]
        told = {f for f in old_raw if f not in old_unknown} | {f for f in raw if f not in unknown}
        merged_unknown = {f: c for f, c in {**old_unknown, **unknown}.items() if f not in told}
        out[i] = ({**old_raw, **raw}, old_origin, merged_unknown)
    return out


def _ethertype(cidr: Optional[str]) -> str:
    if cidr:
        try:
            return "IPv6" if ipaddress.ip_network(cidr, strict=False).version == 6 else "IPv4"
        except ValueError:
            pass
    return "IPv4"


def normalise(raw: RawInput) -> m.Estate:
    return _Builder(raw).build()


def _server_image(image_raw) -> Tuple[Optional[str], Dict[str, str]]:
    """(image id, embedded properties) of a server's `image` field: an object with an id (and properties at
    compute 2.100), an id string, or an object with only a name (`openstack server list`; resolved by name later)."""
    if isinstance(image_raw, dict) and image_raw.get("id"):
        return str(image_raw["id"]), _str_dict(image_raw.get("properties"))
    if isinstance(image_raw, str) and image_raw:
        return image_raw, {}
    if isinstance(image_raw, dict) and image_raw.get("name"):
        return str(image_raw["name"]), {}
    return None, {}


def _server_addresses(raw) -> list:
    addresses = []
    for net_name, entries in (raw.get("addresses") or {}).items():
        for a in entries or []:
            if not isinstance(a, dict) or not a.get("addr"):
                continue
            addresses.append(m.AddressEntry(net_name, a["addr"], a.get("OS-EXT-IPS-MAC:mac_addr"),
                                            a.get("OS-EXT-IPS:type") or "fixed", to_int(a.get("version"), 4)))
    return addresses


def _server_group_names(raw) -> List[str]:
    """The server's security group names, once each, in order."""
    sg_names: List[str] = []
    for sg in raw.get("security_groups") or []:
        sg_name = sg.get("name") if isinstance(sg, dict) else str(sg)
        if sg_name and sg_name not in sg_names:
            sg_names.append(sg_name)
    return sg_names

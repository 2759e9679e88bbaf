"""Every `openstack ... -f json` output an operator saves reads, in the shapes python-openstackclient printed across
releases, joins the way the data allows, and says what it could not tell.

Rows are built from the column definitions in ../shared/reference/openstack-cli-output.md (python-openstackclient's
`take_action` of each command; section numbers below), the two real samples in fixtures/upstream/openstack/cli-json,
and the osc-lib formatter rules (section 1.2-1.4): JSON-native values since osc-lib's FormattableColumns, `k='v'`
strings and `", "`-joined lists in the string era.
"""

import json
import os

import pytest

from kubectl_vmmove.cli import main
from kubectl_vmmove.openstack.convert import Options, convert
from kubectl_vmmove.openstack.read.inputs import read_paths
from kubectl_vmmove.openstack.read.normalise import normalise
from kubectl_vmmove.openstack.report import iter_entries
from tests.netpol_eval import External, Probe, cluster_of, pods_of

SERVER_ID = "6d0a3ac6-2d2c-4d1e-9d7f-6a0e7d2c1b11"
DB_ID = "7e1b4bd7-3e3d-4e2f-8e80-7b1f8e3d2c22"
PROJECT = "3f9d4c2e1b0a4f6e8d7c5b4a39281706"
DOMAIN = "default"
NET, EXT_NET, SUBNET = "a1b2c3d4-0000-4000-8000-000000000001", "a1b2c3d4-0000-4000-8000-0000000000ee", \
    "b1b2c3d4-0000-4000-8000-000000000002"
PORT_WEB, PORT_DB, PORT_DHCP = "c1000000-0000-4000-8000-00000000000a", "c1000000-0000-4000-8000-00000000000b", \
    "c1000000-0000-4000-8000-0000000000dd"
SG_DEFAULT, SG_WEB = "d1000000-0000-4000-8000-000000000001", "d1000000-0000-4000-8000-000000000002"
FLAVOR, IMAGE, VOLUME, VTYPE = "2", "e1000000-0000-4000-8000-000000000001", "f1000000-0000-4000-8000-000000000001", \
    "f2000000-0000-4000-8000-000000000001"
FIP, FIP_PF = "90000000-0000-4000-8000-000000000001", "90000000-0000-4000-8000-000000000002"
ROLE_MEMBER, ROLE_ADMIN = "r0000000000000000000000000000001", "r0000000000000000000000000000002"
USER, GROUP = "u0000000000000000000000000000001", "g0000000000000000000000000000001"
MAC_WEB, MAC_DB = "fa:16:3e:aa:bb:01", "fa:16:3e:aa:bb:02"
PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly0000000000000000000000 ops@example"

RULES = [  # (id, direction, ethertype, protocol, lo, hi, prefix, remote group, group)
    ("e1", "egress", "IPv4", None, None, None, None, None, SG_DEFAULT),
    ("e2", "egress", "IPv6", None, None, None, None, None, SG_DEFAULT),
    ("i1", "ingress", "IPv4", None, None, None, None, SG_DEFAULT, SG_DEFAULT),
    ("i2", "ingress", "IPv6", None, None, None, None, SG_DEFAULT, SG_DEFAULT),
    ("w1", "ingress", "IPv4", "tcp", 80, 80, "0.0.0.0/0", None, SG_WEB),
    ("w2", "ingress", "IPv4", "tcp", 8000, 8100, "192.0.2.0/24", None, SG_WEB),
    ("w3", "ingress", "IPv4", "icmp", 8, 0, "0.0.0.0/0", None, SG_WEB),
]


# ------------------------------------------------------------------------------------------ the API-form estate

def api_estate():
    rules = [{"id": rid, "direction": d, "ethertype": et, "protocol": p, "port_range_min": lo, "port_range_max": hi,
              "remote_ip_prefix": prefix, "remote_group_id": rg, "remote_address_group_id": None,
              "security_group_id": sg} for rid, d, et, p, lo, hi, prefix, rg, sg in RULES]
    flavor = {"id": FLAVOR, "name": "m1.small", "vcpus": 2, "ram": 2048, "disk": 20, "OS-FLV-EXT-DATA:ephemeral": 0,
              "swap": "", "extra_specs": {"hw:cpu_policy": "shared", "Cost Center": "42"}}
    return {"apiVersion": "vmmove.io/v1alpha1", "kind": "OpenStackExport", "resources": {
        "domains": [{"id": DOMAIN, "name": "Default", "enabled": True}],
        "projects": [{"id": PROJECT, "name": "shop", "domain_id": DOMAIN, "parent_id": DOMAIN}],
        "users": [{"id": USER, "name": "alice", "domain_id": DOMAIN}],
        "groups": [{"id": GROUP, "name": "ops", "domain_id": DOMAIN}],
        "roles": [{"id": ROLE_MEMBER, "name": "member"}, {"id": ROLE_ADMIN, "name": "admin"}],
        "role_assignments": [
            {"role": {"id": ROLE_MEMBER}, "user": {"id": USER}, "scope": {"project": {"id": PROJECT}}},
            {"role": {"id": ROLE_ADMIN}, "group": {"id": GROUP}, "scope": {"project": {"id": PROJECT}}}],
        "flavors": [flavor],
        "images": [{"id": IMAGE, "name": "cirros", "disk_format": "qcow2", "container_format": "bare",
                    "size": 12716032, "min_disk": 0, "min_ram": 0, "status": "active", "hw_disk_bus": "scsi",
                    "hw_scsi_model": "virtio-scsi"}],
        "volume_types": [{"id": VTYPE, "name": "ssd", "extra_specs": {}}],
        "volumes": [{"id": VOLUME, "name": "data", "size": 10, "volume_type": "ssd", "bootable": "false",
                     "status": "in-use", "os-vol-tenant-attr:tenant_id": PROJECT,
                     "attachments": [{"server_id": DB_ID, "device": "/dev/vdb"}]}],
        "networks": [{"id": NET, "name": "private", "project_id": PROJECT, "router:external": False},
                     {"id": EXT_NET, "name": "public", "router:external": True}],
        "subnets": [{"id": SUBNET, "name": "private-v4", "network_id": NET, "cidr": "10.0.0.0/24", "ip_version": 4,
                     "gateway_ip": "10.0.0.1", "dns_nameservers": ["10.0.0.2"], "enable_dhcp": True}],
        "ports": [
            {"id": PORT_WEB, "network_id": NET, "mac_address": MAC_WEB, "device_id": SERVER_ID,
             "device_owner": "compute:nova", "fixed_ips": [{"subnet_id": SUBNET, "ip_address": "10.0.0.5"}],
             "security_groups": [SG_DEFAULT, SG_WEB], "port_security_enabled": True, "project_id": PROJECT},
            {"id": PORT_DB, "network_id": NET, "mac_address": MAC_DB, "device_id": DB_ID,
             "device_owner": "compute:nova", "fixed_ips": [{"subnet_id": SUBNET, "ip_address": "10.0.0.6"}],
             "security_groups": [SG_DEFAULT], "port_security_enabled": True, "project_id": PROJECT},
            {"id": PORT_DHCP, "network_id": NET, "mac_address": "fa:16:3e:aa:bb:dd", "device_id": "dhcp-agent",
             "device_owner": "network:dhcp", "fixed_ips": [{"subnet_id": SUBNET, "ip_address": "10.0.0.2"}],
             "security_groups": [], "project_id": PROJECT}],
        "security_groups": [
            {"id": SG_DEFAULT, "name": "default", "project_id": PROJECT, "stateful": True,
             "security_group_rules": [r for r in rules if r["security_group_id"] == SG_DEFAULT]},
            {"id": SG_WEB, "name": "web", "project_id": PROJECT, "stateful": True,
             "security_group_rules": [r for r in rules if r["security_group_id"] == SG_WEB]}],
        "floating_ips": [
            {"id": FIP, "floating_ip_address": "203.0.113.5", "fixed_ip_address": "10.0.0.5", "port_id": PORT_WEB,
             "floating_network_id": EXT_NET, "project_id": PROJECT},
            {"id": FIP_PF, "floating_ip_address": "203.0.113.6", "fixed_ip_address": None, "port_id": None,
             "floating_network_id": EXT_NET, "project_id": PROJECT, "port_forwardings": [
                 {"protocol": "tcp", "internal_port_id": PORT_DB, "internal_ip_address": "10.0.0.6",
                  "internal_port": 5432, "external_port": 15432}]}],
        "keypairs": [{"name": "ops", "public_key": PUBKEY, "type": "ssh", "fingerprint": "aa:bb"}],
        "server_groups": [{"id": "sg-anti", "name": "spread", "policy": "anti-affinity", "rules": {},
                           "members": [SERVER_ID, DB_ID], "project_id": PROJECT}],
        "servers": [
            {"id": SERVER_ID, "name": "web-1", "status": "ACTIVE", "tenant_id": PROJECT, "key_name": "ops",
             "flavor": {"id": FLAVOR}, "image": {"id": IMAGE}, "metadata": {"role": "web"},
             "OS-EXT-SRV-ATTR:user_data": None, "OS-EXT-AZ:availability_zone": "nova",
             "addresses": {"private": [{"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed",
                                        "OS-EXT-IPS-MAC:mac_addr": MAC_WEB},
                                       {"addr": "203.0.113.5", "version": 4, "OS-EXT-IPS:type": "floating",
                                        "OS-EXT-IPS-MAC:mac_addr": MAC_WEB}]},
             "security_groups": [{"name": "default"}, {"name": "web"}], "os-extended-volumes:volumes_attached": []},
            {"id": DB_ID, "name": "db-1", "status": "SHUTOFF", "tenant_id": PROJECT, "key_name": None,
             "flavor": {"id": FLAVOR}, "image": {"id": IMAGE}, "metadata": {},
             "OS-EXT-SRV-ATTR:user_data": None, "OS-EXT-AZ:availability_zone": "nova",
             "addresses": {"private": [{"addr": "10.0.0.6", "version": 4, "OS-EXT-IPS:type": "fixed",
                                        "OS-EXT-IPS-MAC:mac_addr": MAC_DB}]},
             "security_groups": [{"name": "default"}],
             "os-extended-volumes:volumes_attached": [{"id": VOLUME}]}]}}


# ------------------------------------------------------------------------------------------ the CLI-form estate


def cli_files(era):
    """{file name: JSON text} as saved with `openstack ... -f json > name`, in the shapes of one release era:
    "new" (OSC >= 6.1, openstacksdk everywhere) or "old" (string era, OSC <= 3.19 / 5.4 where noted)."""
    new = era == "new"
    files = {}

    def put(name, value):
        files[name] = value if isinstance(value, str) else json.dumps(value, indent=2)

    put("domains.json", [{"ID": DOMAIN, "Name": "Default", "Enabled": True, "Description": "Owns users and "
                                                                                          "projects"}])  # 6.2
    put("projects.json", [{"ID": PROJECT, "Name": "shop", "Domain ID": DOMAIN, "Description": "",
                           "Enabled": True}])  # 6.1 --long
    put("users.json", [{"ID": USER, "Name": "alice", "Project": PROJECT, "Domain": DOMAIN,
                        "Description": None if new else "", "Email": None if new else "", "Enabled": True}])  # 6.3
    put("groups.json", [{"ID": GROUP, "Name": "ops", "Domain ID": DOMAIN, "Description": ""}])  # 6.4 --long
    put("roles.json", [{"ID": ROLE_MEMBER, "Name": "member"}, {"ID": ROLE_ADMIN, "Name": "admin"}])  # 6.6
    if new:  # 6.5, ids
        put("role-assignments.json", [
            {"Role": ROLE_MEMBER, "User": USER, "Group": "", "Project": PROJECT, "Domain": "", "System": "",
             "Inherited": False},
            {"Role": ROLE_ADMIN, "User": "", "Group": GROUP, "Project": PROJECT, "Domain": "", "System": "",
             "Inherited": False}])
    else:  # 6.5, --names
        put("role-assignments.json", [
            {"Role": "member", "User": "alice@Default", "Group": "", "Project": "shop@Default", "Domain": "",
             "System": "", "Inherited": False},
            {"Role": "admin", "User": "", "Group": "ops@Default", "Project": "shop@Default", "Domain": "",
             "System": "", "Inherited": False}])
    # 2.3 flavor list --long: Properties an object (>= 5.5) or a format_dict string (<= 5.4; keys sorted)
    put("flavors.json", [{"ID": FLAVOR, "Name": "m1.small", "RAM": 2048, "Disk": 20, "Ephemeral": 0, "VCPUs": 2,
                          "Is Public": True, "Swap": 0 if new else "", "RXTX Factor": 1.0,
                          "Properties": {"Cost Center": "42", "hw:cpu_policy": "shared"} if new else
                          "Cost Center='42', hw:cpu_policy='shared'"}])
    # 3.2 image show: everything but the standard keys goes into properties (object >= 4.0, string <= 3.19)
    props = {"hw_disk_bus": "scsi", "hw_scsi_model": "virtio-scsi"}
    put("image-cirros.json", {"checksum": "x", "container_format": "bare", "disk_format": "qcow2", "id": IMAGE,
                              "min_disk": 0, "min_ram": 0, "name": "cirros", "owner": PROJECT,
                              "properties": props if new else "hw_disk_bus='scsi', hw_scsi_model='virtio-scsi'",
                              "protected": False, "size": 12716032, "status": "active",
                              "tags": [] if new else "", "visibility": "public"})
    put("images.json", [{"ID": IMAGE, "Name": "cirros", "Disk Format": "qcow2", "Container Format": "bare",
                         "Size": 12716032, "Checksum": "x", "Status": "active", "Visibility": "public",
                         "Protected": False, "Project": PROJECT, "Tags": [] if new else ""}])  # 3.1
    put("volume-types.json", [{"ID": VTYPE, "Name": "ssd", "Is Public": True, "Description": None,
                               "Properties": {} if new else ""}])  # 4.3
    attached = [{"server_id": DB_ID, "device": "/dev/vdb", "attachment_id": "at1", "id": VOLUME,
                 "volume_id": VOLUME, "host_name": None, "attached_at": "2024-01-01T00:00:00.000000"}]
    put("volumes.json", [{"ID": VOLUME, "Name": "data", "Status": "in-use", "Size": 10, "Type": "ssd",
                          "Bootable": False if new else "false",
                          "Attached to": attached if new else "Attached to db-1 on /dev/vdb ",
                          "Properties": {} if new else ""}])  # 4.1
    put("networks.json", [  # 5.1 --long: State/Router Type booleans, or UP / External strings <= 3.19
        {"ID": NET, "Name": "private", "Subnets": [SUBNET] if new else SUBNET, "Status": "ACTIVE",
         "Project": PROJECT, "State": True if new else "UP", "Shared": False, "Network Type": None,
         "Router Type": False if new else "Internal", "Availability Zones": [] if new else "",
         "Tags": [] if new else ""},
        {"ID": EXT_NET, "Name": "public", "Subnets": [] if new else "", "Status": "ACTIVE", "Project": "admin",
         "State": True if new else "UP", "Shared": False, "Network Type": None,
         "Router Type": True if new else "External", "Availability Zones": [] if new else "",
         "Tags": [] if new else ""}])
    put("subnets.json", [{"ID": SUBNET, "Name": "private-v4", "Network": NET, "Subnet": "10.0.0.0/24",
                          "Project": PROJECT, "DHCP": True, "Name Servers": ["10.0.0.2"] if new else "10.0.0.2",
                          "Allocation Pools": [{"start": "10.0.0.2", "end": "10.0.0.254"}] if new
                          else "10.0.0.2-10.0.0.254", "Host Routes": [] if new else "", "IP Version": 4,
                          "Gateway": "10.0.0.1", "Service Types": [] if new else "",
                          "Tags": [] if new else ""}])  # 5.2
    fixed = (lambda ip: [{"subnet_id": SUBNET, "ip_address": ip}]) if new else \
        (lambda ip: f"ip_address='{ip}', subnet_id='{SUBNET}'")
    put("ports.json", [  # 5.4 --long: no device, network, project or port security column
        {"ID": PORT_WEB, "Name": "", "MAC Address": MAC_WEB, "Fixed IP Addresses": fixed("10.0.0.5"),
         "Status": "ACTIVE", "Security Groups": [SG_DEFAULT, SG_WEB] if new else f"{SG_DEFAULT}, {SG_WEB}",
         "Device Owner": "compute:nova", "Tags": [] if new else ""},
        {"ID": PORT_DB, "Name": "", "MAC Address": MAC_DB, "Fixed IP Addresses": fixed("10.0.0.6"),
         "Status": "ACTIVE", "Security Groups": [SG_DEFAULT] if new else SG_DEFAULT,
         "Device Owner": "compute:nova", "Tags": [] if new else ""},
        {"ID": PORT_DHCP, "Name": "", "MAC Address": "fa:16:3e:aa:bb:dd", "Fixed IP Addresses": fixed("10.0.0.2"),
         "Status": "ACTIVE", "Security Groups": [] if new else "", "Device Owner": "network:dhcp",
         "Tags": [] if new else ""}])
    put("security-groups.json", [  # 5.6
        {"ID": SG_DEFAULT, "Name": "default", "Description": "Default security group", "Project": PROJECT,
         "Tags": []},
        {"ID": SG_WEB, "Name": "web", "Description": "", "Project": PROJECT, "Tags": []}])
    rows = []
    for rid, d, et, p, lo, hi, prefix, rg, sg in RULES:  # 5.8: IP Range filled in; ICMP in Port Range
        if p == "icmp":
            port_range = f"type={lo}:code={hi}"
        elif lo is None:
            port_range = ""
        else:
            port_range = f"{lo}:{hi}"
        rows.append({"ID": rid, "IP Protocol": p, "Ethertype": et,
                     "IP Range": prefix or ("0.0.0.0/0" if et == "IPv4" else "::/0"), "Port Range": port_range,
                     "Direction": d, "Remote Security Group": rg, "Remote Address Group": None,
                     "Security Group": sg})
    put("security-group-rules.json", rows)
    put("floating-ips.json", [  # 5.9 --long
        {"ID": FIP, "Floating IP Address": "203.0.113.5", "Fixed IP Address": "10.0.0.5", "Port": PORT_WEB,
         "Floating Network": EXT_NET, "Project": PROJECT, "Router": "rt", "Status": "ACTIVE", "Description": "",
         "Tags": [], "DNS Name": None, "DNS Domain": None},
        {"ID": FIP_PF, "Floating IP Address": "203.0.113.6", "Fixed IP Address": None, "Port": None,
         "Floating Network": EXT_NET, "Project": PROJECT, "Router": "rt", "Status": "ACTIVE", "Description": "",
         "Tags": [], "DNS Name": None, "DNS Domain": None}])
    put("port-forwardings-203.0.113.6.json", [  # 5.10: the floating IP is only in the file name
        {"ID": "pf1", "Internal Port ID": PORT_DB, "Internal IP Address": "10.0.0.6", "Internal Port": 5432,
         "Internal Port Range": "", "External Port": 15432, "External Port Range": "", "Protocol": "tcp",
         "Description": ""}])
    put("keypairs.json", [{"Name": "ops", "Fingerprint": "aa:bb", **({"Type": "ssh"} if new else {})}])  # 2.5
    put("ops.json", PUBKEY + "\n{}\n")  # 2.6 keypair show --public-key ops -f json: text, then {}
    put("server-groups.json", [  # 2.7 --long
        {"ID": "sg-anti", "Name": "spread", **({"Policy": "anti-affinity"} if new else
                                               {"Policies": "anti-affinity"}),
         "Members": [SERVER_ID, DB_ID] if new else f"{SERVER_ID}, {DB_ID}", "Project Id": PROJECT,
         "User Id": USER}])
    for sid, name, ip, groups, status, key, vols, power in (
            (SERVER_ID, "web-1", "10.0.0.5, 203.0.113.5", ["default", "web"], "ACTIVE", "ops", [], 1),
            (DB_ID, "db-1", "10.0.0.6", ["default"], "SHUTOFF", None, [VOLUME], 4)):
        show = {"OS-DCF:diskConfig": "MANUAL", "OS-EXT-AZ:availability_zone": "nova",
                "OS-EXT-STS:power_state": power if new else ("Running" if power == 1 else "Shutdown"),
                "OS-EXT-STS:vm_state": status.lower() if status == "ACTIVE" else "stopped",
                "accessIPv4": "", "accessIPv6": "", "config_drive": "", "created": "2024-01-01T00:00:00Z",
                "id": sid, "key_name": key, "name": name, "project_id": PROJECT, "status": status,
                "user_id": USER, "OS-EXT-SRV-ATTR:user_data": None}
        if new:  # 2.2 at compute >= 2.47 through openstacksdk: embedded flavor whose id is its name
            show.update({"addresses": {"private": [a.strip() for a in ip.split(",")]},
                         "flavor": {"name": "m1.small", "original_name": "m1.small", "id": "m1.small", "vcpus": 2,
                                    "ram": 2048, "disk": 20, "ephemeral": 0, "swap": 0,
                                    "extra_specs": {"hw:cpu_policy": "shared", "Cost Center": "42"},
                                    "is_public": True, "description": None, "rxtx_factor": None},
                         "image": f"cirros ({IMAGE})", "properties": {"role": "web"} if name == "web-1" else {},
                         "security_groups": [{"name": g} for g in groups],
                         "volumes_attached": [{"id": v, "delete_on_termination": False} for v in vols]})
        else:  # string era (the 2018 sample's shapes)
            show.update({"addresses": f"private={ip}", "flavor": f"m1.small ({FLAVOR})",
                         "image": f"cirros ({IMAGE})", "properties": "role='web'" if name == "web-1" else "",
                         "security_groups": "\n".join(f"name='{g}'" for g in groups),
                         "volumes_attached": "\n".join(f"id='{v}'" for v in vols)})
        put(f"server-{name}.json", show)
    return files


def write(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return str(tmp_path)


def convert_api(tmp_path, options=None):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(api_estate()))
    return convert(normalise(read_paths([str(path)])), options or options_())


def options_():
    return Options(network_map={"private": ("pod", None)})


def convert_cli(tmp_path, era, options=None, drop=()):
    files = {k: v for k, v in cli_files(era).items() if k not in drop}
    d = tmp_path / f"cli-{era}"
    d.mkdir()
    return convert(normalise(read_paths([write(d, files)])), options or options_())


def by_kind(result, *kinds):
    return {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in result.objects
            if o["kind"] in kinds}


def unknown_entries(result):
    return [(k, f, r) for k, _, f, s, _, r in iter_entries(result.report) if s == "unknown"]


# ------------------------------------------------------------------------------------------ per command


@pytest.mark.parametrize("era", ["new", "old"])
def test_every_listing_reads_into_the_model(tmp_path, era):
    d = tmp_path / era
    d.mkdir()
    e = normalise(read_paths([write(d, cli_files(era))]))
    assert e.domains[DOMAIN].name == "Default"
    assert (e.projects[PROJECT].name, e.projects[PROJECT].domain_id) == ("shop", DOMAIN)
    assert (e.users[USER].name, e.users[USER].domain_id) == ("alice", DOMAIN)
    assert (e.groups[GROUP].name, e.groups[GROUP].domain_id) == ("ops", DOMAIN)
    assert {r.name for r in e.roles.values()} == {"member", "admin"}
    assert sorted((a.actor_kind, a.actor_id, a.scope_id) for a in e.role_assignments) == [
        ("group", GROUP, PROJECT), ("user", USER, PROJECT)], "--names resolve to the listed identities"
    f = e.flavors[FLAVOR]
    assert (f.vcpus, f.ram_mib, f.disk_gib, f.swap_mib) == (2, 2048, 20, 0)
    assert f.extra_specs == {"hw:cpu_policy": "shared", "Cost Center": "42"}
    assert e.images[IMAGE].properties["hw_disk_bus"] == "scsi"
    v = e.volumes[VOLUME]
    assert (v.size_gib, v.volume_type, v.bootable) == (10, "ssd", False)
    assert [(a.server_id, a.device) for a in v.attachments] == [(DB_ID, "/dev/vdb")]
    assert e.networks[EXT_NET].external and not e.networks[NET].external
    s = e.subnets[SUBNET]
    assert (s.network_id, s.cidr, s.gateway_ip, s.dns_nameservers) == (NET, "10.0.0.0/24", "10.0.0.1", ["10.0.0.2"])
    p = e.ports[PORT_WEB]
    assert (p.mac_address, p.device_id, p.network_id) == (MAC_WEB, SERVER_ID, NET), "joined by fixed IP on the network"
    assert p.security_group_ids == [SG_DEFAULT, SG_WEB] and p.port_security_enabled is True
    assert e.ports[PORT_DHCP].device_id is None
    rules = {r.id: r for g in e.security_groups.values() for r in g.rules}
    assert (rules["i1"].remote_group_id, rules["i1"].remote_ip_prefix) == (SG_DEFAULT, None), \
        "the rule list's 0.0.0.0/0 fill-in is not a prefix when a remote group is set"
    assert (rules["w2"].protocol, rules["w2"].port_min, rules["w2"].port_max, rules["w2"].remote_ip_prefix) == \
        ("tcp", 8000, 8100, "192.0.2.0/24")
    assert (rules["w3"].protocol, rules["w3"].port_min, rules["w3"].port_max) == ("icmp", 8, 0)
    assert (rules["e1"].protocol, rules["e1"].port_min) == (None, None)
    assert e.floating_ips[FIP].port_id == PORT_WEB
    pf = e.floating_ips[FIP_PF].port_forwardings
    assert [(x.internal_port_id, x.internal_port, x.external_port) for x in pf] == [(PORT_DB, 5432, 15432)]
    assert e.keypairs["ops"].public_key == PUBKEY
    assert (e.server_groups["sg-anti"].policy, e.server_groups["sg-anti"].members) == ("anti-affinity",
                                                                                      [SERVER_ID, DB_ID])
    web = e.servers[SERVER_ID]
    assert [(a.address, a.mac, a.kind) for a in web.addresses] == [("10.0.0.5", MAC_WEB, "fixed"),
                                                                   ("203.0.113.5", None, "floating")]
    assert web.metadata == {"role": "web"} and web.security_group_names == ["default", "web"]
    assert e.servers[DB_ID].volume_ids == [VOLUME]


def test_rows_of_only_id_and_name_follow_the_file_name(tmp_path):
    (tmp_path / "projects.json").write_text(json.dumps([{"ID": "p9", "Name": "lab"}]))
    (tmp_path / "list.json").write_text(json.dumps([{"ID": "r9", "Name": "reader"}]))
    raw = read_paths([str(tmp_path)])
    assert [r["id"] for r, _ in raw.records["projects"]] == ["p9"]
    assert [r["id"] for r, _ in raw.records["roles"]] == ["r9"]
    assert any("read as 'openstack role list' output" in w for w in raw.warnings)


def test_rule_list_of_one_group_is_skipped_not_opened(tmp_path):
    rows = [{"ID": "w1", "IP Protocol": "tcp", "Ethertype": "IPv4", "IP Range": "0.0.0.0/0", "Port Range": "80:80",
             "Direction": "ingress", "Remote Security Group": None, "Remote Address Group": None}]
    (tmp_path / "rules.json").write_text(json.dumps(rows))
    raw = read_paths([str(tmp_path)])
    assert not raw.records["security_group_rules"]
    assert any("does not name the group" in w for w in raw.warnings)


def test_port_forwardings_without_the_floating_ip_in_the_file_name_are_reported(tmp_path):
    (tmp_path / "forwards.json").write_text(json.dumps([{"ID": "pf1", "Internal Port ID": "p", "Internal IP Address":
                                                         "10.0.0.6", "Internal Port": 1, "External Port": 2,
                                                         "Protocol": "tcp"}]))
    raw = read_paths([str(tmp_path)])
    assert any("does not name its floating IP" in w and "port-forwardings-203.0.113.5.json" in w
               for w in raw.warnings)


def test_keypair_show_without_public_key_is_reported_unknown_with_the_command(tmp_path):
    r = convert_cli(tmp_path, "new", drop=("ops.json",))
    (entry,) = [x for x in unknown_entries(r) if x[1] == "key_name"]
    assert "openstack keypair show --public-key ops" in entry[2] and "not in the input" not in entry[2]
    assert not [o for o in r.objects if o["kind"] == "Secret" and "keypair" in o["metadata"]["name"]]


def test_what_the_listings_cannot_tell_is_reported_unknown_with_the_command(tmp_path):
    r = convert_cli(tmp_path, "new", drop=("port-forwardings-203.0.113.6.json", "ports.json"))
    unknown = unknown_entries(r)
    fields = {(k, f) for k, f, _ in unknown}
    assert ("FloatingIP", "port_forwardings") in fields
    assert ("Server", "addresses.private.mac") in fields
    assert ("Server", "OS-EXT-SRV-ATTR:user_data") in fields
    text = " ".join(reason for _, _, reason in unknown)
    assert "openstack floating ip port forwarding list 203.0.113.6 -f json" in text
    assert f"openstack port list --server {SERVER_ID} --long -f json" in text
    assert "--os-compute-api-version 2.3" in text


def test_port_list_rows_without_groups_have_unknown_port_security_and_are_closed(tmp_path):
    files = cli_files("new")
    ports = json.loads(files["ports.json"])
    ports[1]["Security Groups"] = []
    files["ports.json"] = json.dumps(ports)
    d = tmp_path / "x"
    d.mkdir()
    r = convert(normalise(read_paths([write(d, files)])), options_())
    pods = pods_of(r.objects, {"web-1": "10.244.0.5", "db-1": "10.244.0.6"})
    net = cluster_of(r.objects)
    assert not net.allowed(Probe(pods["web-1"], pods["db-1"], "TCP", 5432))
    notes = [reason for k, f, reason in unknown_entries(r) if k == "Server" and f == "security_groups"]
    assert notes and f"openstack port show {PORT_DB} -f json" in notes[0]


# ------------------------------------------------------------------------------------------ the twins


@pytest.mark.parametrize("era", ["new", "old"])
def test_cli_estate_and_its_api_twin_convert_to_the_same_objects(tmp_path, era):
    api = convert_api(tmp_path)
    cli = convert_cli(tmp_path, era)
    kinds = ("VirtualMachine", "DataVolume", "NetworkPolicy", "RoleBinding", "Namespace", "Service", "Secret")
    a, c = by_kind(api, *kinds), by_kind(cli, *kinds)
    assert sorted(a) == sorted(c)
    for key in a:
        assert a[key] == c[key], key
    assert [o["kind"] for o in api.objects] == [o["kind"] for o in cli.objects]


def test_the_twin_policies_behave_alike_for_traffic(tmp_path):
    for result in (convert_api(tmp_path), convert_cli(tmp_path, "old")):
        pods = pods_of(result.objects, {"web-1": "10.244.0.5", "db-1": "10.244.0.6"})
        net = cluster_of(result.objects)
        internet = External("198.51.100.9")
        assert net.allowed(Probe(internet, pods["web-1"], "TCP", 80))
        assert net.allowed(Probe(External("192.0.2.7"), pods["web-1"], "TCP", 8050))
        assert not net.allowed(Probe(internet, pods["web-1"], "TCP", 8050))
        assert not net.allowed(Probe(internet, pods["db-1"], "TCP", 5432))
        assert net.allowed(Probe(pods["web-1"], pods["db-1"], "TCP", 5432))


def test_cli_directory_converts_through_the_command_line(tmp_path, capsys):
    d = tmp_path / "dump"
    d.mkdir()
    code = main(["openstack", "convert", write(d, cli_files("old")), "--network-map", "private=pod"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err and "kind: VirtualMachine" in out
    assert os.path.isdir(d)


def test_image_listing_alone_reports_the_properties_unknown(tmp_path):
    r = convert_cli(tmp_path, "new", drop=("image-cirros.json",))
    notes = [reason for k, f, reason in unknown_entries(r) if k == "Server" and f == "image.properties"]
    assert len(notes) == 2 and f"openstack image show {IMAGE} -f json" in notes[0]


# ------------------------------------------------------------------------------------------ show commands


def read_one(tmp_path, name, obj):
    (tmp_path / name).write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return read_paths([str(tmp_path / name)])


def test_port_show_with_sdk_attribute_names(tmp_path):
    # 5.5: fixed key list since 6.4.0, underscore binding names, security_group_ids
    show = {"admin_state_up": True, "allowed_address_pairs": [], "binding_host_id": None, "binding_profile": {},
            "binding_vif_details": {}, "binding_vif_type": None, "binding_vnic_type": "direct",
            "device_id": SERVER_ID, "device_owner": "compute:nova", "fixed_ips": [{"subnet_id": SUBNET,
                                                                                   "ip_address": "10.0.0.5"}],
            "id": PORT_WEB, "mac_address": MAC_WEB, "name": "", "network_id": NET, "port_security_enabled": False,
            "project_id": PROJECT, "security_group_ids": [], "status": "ACTIVE"}
    e = normalise(read_one(tmp_path, "port.json", show))
    p = e.ports[PORT_WEB]
    assert (p.device_id, p.vnic_type, p.port_security_enabled, p.security_group_ids) == (SERVER_ID, "direct", False, [])


def test_port_show_of_the_string_era(tmp_path):
    show = {"admin_state_up": "UP", "device_id": SERVER_ID, "fixed_ips": f"ip_address='10.0.0.5', subnet_id='{SUBNET}'",
            "id": PORT_WEB, "mac_address": MAC_WEB, "network_id": NET, "port_security_enabled": True,
            "security_group_ids": f"{SG_DEFAULT}, {SG_WEB}"}
    p = normalise(read_one(tmp_path, "port.json", show)).ports[PORT_WEB]
    assert [(f.ip_address, f.subnet_id) for f in p.fixed_ips] == [("10.0.0.5", SUBNET)]
    assert p.security_group_ids == [SG_DEFAULT, SG_WEB]


def test_security_group_show_of_both_eras(tmp_path):
    new = {"id": SG_WEB, "name": "web", "project_id": PROJECT, "stateful": True, "rules": [
        {"id": "w1", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 80,
         "port_range_max": 80, "remote_ip_prefix": None, "remote_group_id": None, "security_group_id": SG_WEB}]}
    old = {"id": SG_WEB, "name": "web", "project_id": PROJECT,  # 5.7 <= 3.19: one format_dict line per rule
           "rules": "direction='ingress', ethertype='IPv4', id='w1', port_range_max='80', port_range_min='80', "
                    "protocol='tcp'\ndirection='egress', ethertype='IPv4', id='w2'"}
    for i, show in enumerate((new, old)):
        d = tmp_path / str(i)
        d.mkdir()
        sg = normalise(read_one(d, "sg.json", show)).security_groups[SG_WEB]
        w1 = next(r for r in sg.rules if r.id == "w1")
        assert (w1.direction, w1.protocol, w1.port_min, w1.port_max, w1.remote_ip_prefix) == ("ingress", "tcp", 80, 80,
                                                                                               None)


def test_subnet_show_of_the_string_era(tmp_path):
    show = {"allocation_pools": "10.0.0.2-10.0.0.254", "cidr": "10.0.0.0/24", "dns_nameservers": "10.0.0.2, 10.0.0.3",
            "enable_dhcp": True, "gateway_ip": "10.0.0.1", "host_routes": "", "id": SUBNET, "ip_version": 4,
            "name": "private-v4", "network_id": NET}
    s = normalise(read_one(tmp_path, "subnet.json", show)).subnets[SUBNET]
    assert s.dns_nameservers == ["10.0.0.2", "10.0.0.3"]


def test_server_group_and_volume_show_of_the_string_era(tmp_path):
    group = {"id": "sg-anti", "members": f"{DB_ID}, {SERVER_ID}", "name": "spread", "policies": "anti-affinity",
             "project_id": PROJECT}
    volume = {"attachments": [{"server_id": DB_ID, "device": "/dev/vdb"}], "bootable": "false", "id": VOLUME,
              "name": "data", "properties": "", "size": 10, "status": "in-use", "type": "ssd"}
    (tmp_path / "group.json").write_text(json.dumps(group))
    (tmp_path / "volume.json").write_text(json.dumps(volume))
    e = normalise(read_paths([str(tmp_path)]))
    assert (e.server_groups["sg-anti"].policy, sorted(e.server_groups["sg-anti"].members)) == (
        "anti-affinity", sorted([DB_ID, SERVER_ID]))
    assert (e.volumes[VOLUME].volume_type, e.volumes[VOLUME].bootable) == ("ssd", False)


def test_keypair_show_both_forms(tmp_path):
    hidden = {"created_at": "2024-01-01T00:00:00Z", "fingerprint": "aa:bb", "id": "ops", "is_deleted": False,
              "name": "ops", "private_key": None, "type": "ssh", "user_id": USER}  # 2.6, >= 5.5 without --public-key
    e = normalise(read_one(tmp_path, "keypair.json", hidden))
    assert e.keypairs["ops"].public_key == ""
    d = tmp_path / "pub"
    d.mkdir()
    e = normalise(read_one(d, "keypair-ops.json", PUBKEY + "\n{}"))
    assert e.keypairs["ops"].public_key == PUBKEY


def test_server_group_list_of_the_string_era(tmp_path):
    rows = [{"ID": "sg-anti", "Name": "spread", "Policies": "anti-affinity", "Members": f"{SERVER_ID}, {DB_ID}",
             "Project Id": PROJECT, "User Id": USER}]  # 2.7 <= 5.4
    g = normalise(read_one(tmp_path, "server-groups.json", rows)).server_groups["sg-anti"]
    assert g.policy == "anti-affinity" and g.members == [SERVER_ID, DB_ID]

"""A small, coherent OpenStack cloud composed from the upstream api-ref samples in `upstream/`.

The samples come from unrelated documentation pages, so their ids do not refer to each other. Composition rewrites
the references (tenant ids, image/flavor/volume/port/network ids, MACs and addresses) so that every reference
resolves inside this cloud; the README beside this file lists each edit. Everything else is kept as published,
quirks included (`config_drive: ""`, `bootable: "true"`, `swap: ""` before 2.75, tags `["tag1,tag2"]`, the
Rackspace image's string `protected`), because the exporter must pass them through untouched.
"""

import copy
import json
import os

UPSTREAM = os.path.join(os.path.dirname(__file__), "upstream")

# Identity ----------------------------------------------------------------------------------------------------------
DOMAIN_DEFAULT = "default"
DOMAIN_SWIFT = "5a75994a383c449184053ff7270c4e91"
PROJECT_ADMIN = "0c4e939acacf4376bdcd1129f1a054ad"
PROJECT_DEMO = "0cbd49cbf76d405d9c86562e1d579bd3"
PROJECT_ALT = "fdb8424c4e4f4c0ba32c52e2de3bd80e"
USER_ADMIN = "b964a9e51c0046a4a84d3f83a135a97c"
USER_DEMO = "7596e862b1af473c8ed6ae99d35b51e3"
USER_ALT = "5acb638d15da44fc8de41b9a4bd41875"
GROUP_NONADMINS = "96372bbb152f475aa37e9a76a25a029c"
GROUP_ADMINS = "9ce0ad4e58a84d7a97b92f7955d10c92"
ROLE_ADMIN = "a4e3e8a9f1c24c0e8d1c7a2b5e6f7081"
ROLE_MEMBER = "b5f4f9ba02d35d1f9e2d8b3c6f708192"
ROLE_READER = "c605a0cb13e46e20af3e9c4d7081a2a3"

# Credentials the fake Keystone accepts. Tests assert none of these ever reaches an export document.
PASSWORDS = {"admin": "admin-Secr3t-pw", "demo": "demo-Secr3t-pw", "alt_demo": "alt-Secr3t-pw"}
APP_CREDENTIALS = {"4c7b2f0e9d1a4e55b3a8c6d2e1f0a9b8": ("demo-appcred-S3cret", USER_DEMO, PROJECT_DEMO)}

# Compute / image / volume / network ids ----------------------------------------------------------------------------
SERVER_WEB1 = "0e44cc9c-e052-415d-afbf-469b0d384170"  # server-show-v2.100.json
SERVER_WEB2 = "9168b536-cd40-4630-b43f-b259807c6e87"  # server-show-v2.47.json
SERVER_DB1 = "f4fda93b-06e0-4743-8117-bc8bcecd651b"  # the server the cinder sample's attachment names
SERVER_ALT = "2669556b-b4a3-41f1-a0c1-f9c7ff75e53c"  # server-show-v2.71-down-cell.json
IMAGE_CIRROS = "1bea47ed-f6a9-463b-b423-14b9cca9ad27"  # glance image-show.json
IMAGE_UBUNTU = "fed66ee7-fb4b-4464-b8c6-609c1fde218f"  # rackspace image
IMAGE_RHEL = "9b5d2f6e-3c1a-4e8f-a7d0-1e2c3b4a5f60"  # composed: the hw_* properties no sample carries
IMAGE_SHARED = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"  # composed: shared into demo, owned by alt_demo
FLAVOR_SPECS = "7"  # flavor-show-v2.75.json
FLAVOR_PRIVATE = "8"  # composed: private flavor with access for demo only
VOLUME_DATA = "6edbc2f4-1507-44f8-ac0d-eed1d2608d38"
VOLUME_ROOT = "173f7b48-c4c1-4e70-9acc-086b39073506"
VOLUME_SPARE = "f7223234-1afc-4d19-bfa3-d19deb6235ef"
VOLUME_TYPE_001 = "18947ff2-ad57-42b2-9350-34262e530203"
VOLUME_TYPE_DEFAULT = "7a56b996-b73f-4233-9f00-dd6a68b49b27"
NET_PRIVATE = "d32019d3-bc6e-4319-9c1d-6722fc136a22"  # shared, owned by admin
NET_DEMO = "4e8e5957-649f-477b-9e5b-f1f75b21c03c"  # multi-segment, owned by demo
NET_PUBLIC = "376da547-b977-4cfe-9cba-275c80debf57"  # external: the floating IPs' network
SUBNET_PRIVATE = "54d6f61d-db07-451c-9ab3-b9609b6b6f0b"
SUBNET_DEMO = "a0304c3a-4f08-4c43-88af-d796509c97d2"
SUBNET_PUBLIC = "e6a7b8c9-d0e1-4f23-8a45-b6c7d8e9f012"
PORT_WEB1 = "65c0ee9f-d634-4522-8954-51021b570b0d"
PORT_WEB2 = "2057ec54-8be2-11eb-8dcd-0242ac130003"
PORT_DB1 = "1238be08-a2a8-4b8d-addf-fb5e2250e480"
SG_DEFAULT = "85cc3048-abc3-43cc-89b3-377341426ac5"
SG_WEB = "a7734e61-b545-452d-a3cd-0189cbd9747a"
ADDRESS_GROUP_OFFICE = "a9baa1eb-0614-4d68-870e-fec6d8f8c221"  # the id the tcp80 rule sample names
RULE_HTTPS_FROM_OFFICE = "2bc0accf-312e-429a-956e-e4407625443f"  # composed from the tcp80 rule sample
FIP_WEB1 = "2f245a7b-796b-4f26-9cf9-9e82d248fda7"
FIP_FREE = "61cea855-49cb-4846-997d-801b70c71bdd"
FIP_FORWARDS = "898b198e-49f7-47d6-a7e1-53f626a548e6"
SERVER_GROUP_WEB = "5bbcc3c4-1da2-4437-a48a-66f15b1b13f9"
SERVER_GROUP_ALT = "f3d86fe6-4246-4be8-b87c-eb894626c741"
KEYPAIR_DEMO = "keypair-6638abdb-c4e8-407c-ba88-c8dd7cc3c4f1"
KEYPAIR_ADMIN = "admin-key"

MAC_WEB1 = "fa:16:3e:c9:cb:f0"
MAC_WEB2 = "fa:16:3e:4c:2c:30"
MAC_DB1 = "fa:16:3e:b1:3b:30"
IP_WEB1 = "192.0.0.10"
IP_WEB2 = "192.0.0.11"
IP_DB1 = "10.0.0.19"

USER_DATA_WEB = "IyEvYmluL2Jhc2gKL2Jpbi9zdQplY2hvICJJIGFtIGluIHlvdSEiCg=="  # from server-show-v2.47.json


def _load(path):
    with open(os.path.join(UPSTREAM, path), encoding="utf-8") as handle:
        return json.load(handle)


def _nova_link(host_path, kind, ident):
    return [
        {"href": f"{host_path}/v2.1/{kind}/{ident}", "rel": "self"},
        {"href": f"{host_path}/{kind}/{ident}", "rel": "bookmark"},
    ]


class Cloud:
    """Every object of the fake cloud, in the raw shapes of the newest microversion each service offers.

    Collections are lists of dicts; the server filters and pages them per request. Keys starting with `_` are
    bookkeeping for the server (owner, visibility) and are never sent.
    """

    def __init__(self):
        self.domains = []
        self.projects = []
        self.users = []
        self.groups = []
        self.roles = []
        self.role_assignments = []  # composed with ids only; the server adds names for include_names
        self.servers = []
        self.flavors = []
        self.flavor_access = {}  # flavor id -> [project ids]
        self.keypairs = []  # keypair show shape, user_id set
        self.server_groups = []
        self.images = []
        self.volumes = []
        self.volume_types = []
        self.networks = []
        self.subnets = []
        self.ports = []
        self.security_groups = []
        self.address_groups = []
        self.floating_ips = []
        self.port_forwardings = {}  # floating ip id -> list
        self.quotas = {}  # project id -> {compute, volume, network}

    def user_by_name(self, name):
        return next((u for u in self.users if u["name"] == name), None)

    def project(self, ident):
        return next((p for p in self.projects if p["id"] == ident or p["name"] == ident), None)


def build_cloud(extra_demo_servers=0):
    """Compose the cloud. `extra_demo_servers` adds copies of web-02 so listings span many pages."""
    cloud = Cloud()
    _identity(cloud)
    _images(cloud)
    _flavors(cloud)
    _servers(cloud, extra_demo_servers)
    _volumes(cloud)
    _network(cloud)
    _compute_extras(cloud)
    _quotas(cloud)
    return cloud


def _identity(cloud):
    cloud.domains = _load("keystone/domains-list.json")["domains"]
    cloud.projects = _load("keystone/projects-list.json")["projects"]
    for project in cloud.projects:
        # The sample's domain 1bc2169c... is not in the domains sample; point it at the one that is.
        if project["domain_id"] == "1bc2169ca88e4cdaaba46d4c15390b65":
            project["domain_id"] = DOMAIN_SWIFT
    cloud.users = _load("keystone/users-list.json")["users"]
    for user in cloud.users:
        if user["domain_id"] == "592ab0800d3745baaf45c610fa41950a":
            user["domain_id"] = DOMAIN_SWIFT
        # Keystone returns default_project_id when set; the fake uses it to scope a token given no project.
        user["_default_project_id"] = {
            USER_ADMIN: PROJECT_ADMIN, USER_DEMO: PROJECT_DEMO, USER_ALT: PROJECT_ALT}.get(user["id"])
    cloud.groups = _load("keystone/groups-list.json")["groups"]
    # No roles-list sample is collected: these follow the api-ref "List roles" response shape.
    cloud.roles = [
        {"id": rid, "name": name, "domain_id": None, "description": None, "options": {},
         "links": {"self": f"http://example.com/identity/v3/roles/{rid}"}}
        for rid, name in ((ROLE_ADMIN, "admin"), (ROLE_MEMBER, "member"), (ROLE_READER, "reader"))
    ]
    # Same shape as role-assignments-list.json (actor user|group, scope project|domain), with this cloud's ids.
    def assignment(actor_kind, actor, role, scope_kind, scope):
        return {
            "links": {"assignment": f"http://example.com/identity/v3/{scope_kind}s/{scope}/{actor_kind}s/{actor}"
                                    f"/roles/{role}"},
            "role": {"id": role},
            "scope": {scope_kind: {"id": scope}},
            actor_kind: {"id": actor},
        }

    cloud.role_assignments = [
        assignment("user", USER_ADMIN, ROLE_ADMIN, "project", PROJECT_ADMIN),
        assignment("user", USER_ADMIN, ROLE_ADMIN, "domain", DOMAIN_DEFAULT),
        assignment("user", USER_DEMO, ROLE_MEMBER, "project", PROJECT_DEMO),
        assignment("group", GROUP_NONADMINS, ROLE_READER, "project", PROJECT_DEMO),
        assignment("user", USER_ALT, ROLE_MEMBER, "project", PROJECT_ALT),
        assignment("group", GROUP_ADMINS, ROLE_ADMIN, "project", PROJECT_ADMIN),
    ]


def _images(cloud):
    cirros = _load("glance/image-show.json")
    cirros["owner"] = PROJECT_ADMIN
    ubuntu = _load("glance/rackspace-images-list-vendor-props.json")["images"][0]
    ubuntu["owner"] = PROJECT_DEMO
    # Composed: the libvirt properties catalogued in glance's metadefs (compute-libvirt-image.json) as top-level
    # keys, which is how glance v2 returns image properties.
    rhel = copy.deepcopy(cirros)
    rhel.update({
        "id": IMAGE_RHEL, "name": "rhel-9.4-uefi", "visibility": "private", "owner": PROJECT_DEMO,
        "self": f"/v2/images/{IMAGE_RHEL}", "file": f"/v2/images/{IMAGE_RHEL}/file", "size": 1073741824,
        "virtual_size": 10737418240, "hw_firmware_type": "uefi", "hw_machine_type": "q35", "hw_disk_bus": "virtio",
        "hw_vif_model": "virtio", "hw_qemu_guest_agent": "yes", "os_distro": "rhel", "os_version": "9.4",
        "os_type": "linux", "hw_cpu_sockets": "1", "hw_cpu_cores": "2", "tags": ["golden"],
    })
    shared = copy.deepcopy(cirros)
    shared.update({
        "id": IMAGE_SHARED, "name": "alt-shared-tools", "visibility": "shared", "owner": PROJECT_ALT,
        "self": f"/v2/images/{IMAGE_SHARED}", "file": f"/v2/images/{IMAGE_SHARED}/file",
        "_members": [PROJECT_DEMO],
    })
    cloud.images = [cirros, ubuntu, rhel, shared]


def _flavors(cloud):
    flavors = _load("nova/flavors-detail-v2.1.json")["flavors"]
    for flavor in flavors:
        # At 2.75 swap is an integer and 2.61 puts extra_specs inline; the server down-levels per request.
        flavor["swap"] = 0
        flavor["extra_specs"] = {}
        flavor["description"] = None
    specs = _load("nova/flavor-show-v2.75.json")["flavor"]
    private = copy.deepcopy(specs)
    private.update({
        "id": FLAVOR_PRIVATE, "name": "gpu.large.private", "vcpus": 8, "ram": 16384, "disk": 40,
        "os-flavor-access:is_public": False, "description": "composed private flavor",
        "links": _nova_link("http://openstack.example.com", "flavors", FLAVOR_PRIVATE),
        # hw:cpu_sockets has no published JSON sample (MANIFEST "Gaps"); the key is catalogued in glance metadefs.
        "extra_specs": {"hw:cpu_sockets": "2", "hw:cpu_cores": "4", "hw:cpu_policy": "dedicated",
                        "hw:mem_page_size": "large", "pci_passthrough:alias": "a1:1"},
    })
    cloud.flavors = flavors + [specs, private]
    cloud.flavor_access = {FLAVOR_PRIVATE: [PROJECT_DEMO]}


def _embedded_flavor(flavor):
    return {
        "disk": flavor["disk"], "ephemeral": flavor["OS-FLV-EXT-DATA:ephemeral"],
        "extra_specs": dict(flavor["extra_specs"]), "original_name": flavor["name"], "ram": flavor["ram"],
        "swap": flavor["swap"], "vcpus": flavor["vcpus"],
    }


def _image_ref(image_id):
    return {"id": image_id, "links": [{"href": f"http://openstack.example.com/images/{image_id}", "rel": "bookmark"}]}


def _servers(cloud, extra):
    flavors = {f["id"]: f for f in cloud.flavors}
    web1 = _load("nova/server-show-v2.100.json")["server"]
    web1.update({
        "_flavor_id": FLAVOR_SPECS, "name": "web-01", "tenant_id": PROJECT_DEMO, "user_id": USER_DEMO,
        "key_name": KEYPAIR_DEMO,
        "image": dict(_image_ref(IMAGE_CIRROS), properties=web1["image"]["properties"]),
        "flavor": _embedded_flavor(flavors[FLAVOR_SPECS]),
        "addresses": {"private-network": [
            {"addr": IP_WEB1, "OS-EXT-IPS-MAC:mac_addr": MAC_WEB1, "OS-EXT-IPS:type": "fixed", "version": 4},
            {"addr": "172.24.4.228", "OS-EXT-IPS-MAC:mac_addr": MAC_WEB1, "OS-EXT-IPS:type": "floating",
             "version": 4}]},
        "security_groups": [{"name": "default"}, {"name": "web"}],
        "server_groups": [SERVER_GROUP_WEB], "tags": ["web", "tier:frontend"],
        "os-extended-volumes:volumes_attached": [],
        # At 2.100 an admin also sees the OS-EXT-SRV-ATTR:* extended attributes, user_data among them.
        "OS-EXT-SRV-ATTR:user_data": USER_DATA_WEB, "OS-EXT-SRV-ATTR:host": "compute-1",
        "OS-EXT-SRV-ATTR:hypervisor_hostname": "compute-1.example.com",
        "OS-EXT-SRV-ATTR:instance_name": "instance-00000001", "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
        "OS-EXT-SRV-ATTR:launch_index": 0, "OS-EXT-SRV-ATTR:reservation_id": "r-ov3q80zj",
        "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "", "host_status": "UP",
        "links": _nova_link("http://openstack.example.com", "servers", SERVER_WEB1),
    })
    web1["scheduler_hints"] = {"group": SERVER_GROUP_WEB}
    web2 = _load("nova/server-show-v2.47.json")["server"]
    web2.update({
        "_flavor_id": "2", "name": "web-02", "tenant_id": PROJECT_DEMO, "user_id": USER_DEMO, "key_name": KEYPAIR_DEMO,
        "image": _image_ref(IMAGE_UBUNTU), "flavor": _embedded_flavor(flavors["2"]),
        "addresses": {"private-network": [
            {"OS-EXT-IPS-MAC:mac_addr": MAC_WEB2, "OS-EXT-IPS:type": "fixed", "addr": IP_WEB2, "version": 4}]},
        "security_groups": [{"name": "default"}, {"name": "web"}],
        "os-extended-volumes:volumes_attached": [], "config_drive": "True", "tags": ["web"],
        "server_groups": [SERVER_GROUP_WEB], "pinned_availability_zone": None, "scheduler_hints": {},
        "locked_reason": None, "trusted_image_certificates": None,
        "links": _nova_link("http://openstack.example.com", "servers", SERVER_WEB2),
    })
    # db-01 boots from a volume: nova then returns image as an empty string (api-ref parameters.yaml `image`).
    db1 = copy.deepcopy(web2)
    for key in [k for k in db1 if k.startswith("OS-EXT-SRV-ATTR:")]:
        del db1[key]
    db1.update({
        "id": SERVER_DB1, "_flavor_id": FLAVOR_PRIVATE, "name": "db-01", "image": "",
        "flavor": _embedded_flavor(flavors[FLAVOR_PRIVATE]),
        "key_name": None, "status": "SHUTOFF", "OS-EXT-STS:vm_state": "stopped", "OS-EXT-STS:power_state": 4,
        "addresses": {"net1": [
            {"OS-EXT-IPS-MAC:mac_addr": MAC_DB1, "OS-EXT-IPS:type": "fixed", "addr": IP_DB1, "version": 4}]},
        "security_groups": [{"name": "default"}], "metadata": {"role": "database"}, "tags": [],
        "config_drive": "", "server_groups": [], "OS-EXT-SRV-ATTR:host": "compute-2",
        "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda", "OS-EXT-SRV-ATTR:hostname": "db-01",
        "os-extended-volumes:volumes_attached": [
            {"id": VOLUME_ROOT, "delete_on_termination": True}, {"id": VOLUME_DATA, "delete_on_termination": False}],
        "links": _nova_link("http://openstack.example.com", "servers", SERVER_DB1),
    })
    alt = _load("nova/server-show-v2.71-down-cell.json")["server"]
    alt.update({"_flavor_id": "1", "tenant_id": PROJECT_ALT, "user_id": USER_ALT, "image": _image_ref(IMAGE_SHARED)})
    servers = [web1, web2, db1]
    for index in range(extra):
        clone = copy.deepcopy(web2)
        clone["id"] = f"00000000-0000-4000-8000-{index:012d}"
        clone["name"] = f"batch-{index:03d}"
        clone["links"] = _nova_link("http://openstack.example.com", "servers", clone["id"])
        servers.append(clone)
    cloud.servers = servers + [alt]


def _volumes(cloud):
    listed = _load("cinder/volumes-list-detail-v2-image-metadata.json")["volumes"]
    shown = _load("cinder/volume-show-v3.69.json")["volume"]
    types = _load("cinder/volume-types-list.json")["volume_types"]
    cloud.volume_types = types
    # The v2 list sample lacks the keys v3.69 adds; give them the values v3.69-show has, so all records share
    # the newest shape.
    newer = {k: shown[k] for k in ("provider_id", "group_id", "service_uuid", "shared_targets", "cluster_name",
                                   "consumes_quota")}
    data, root = listed
    for volume in (data, root):
        volume.update(newer)
        volume["os-vol-tenant-attr:tenant_id"] = PROJECT_DEMO
        volume["user_id"] = USER_DEMO
        volume["volume_type"] = "vol-type-001"
        volume["volume_type_id"] = VOLUME_TYPE_001
        volume["links"] = [{"href": f"http://openstack.example.com/v3/{PROJECT_DEMO}/volumes/{volume['id']}",
                            "rel": "self"}]
    data["attachments"][0].update({"server_id": SERVER_DB1, "attached_at": "2015-11-29T03:02:00.000000"})
    root.update({"status": "in-use", "size": 20})
    root["attachments"] = [{
        "server_id": SERVER_DB1, "attachment_id": "979ce4f8-033a-409d-85e6-6b5c0f6a6302", "host_name": None,
        "volume_id": VOLUME_ROOT, "device": "/dev/vda", "id": VOLUME_ROOT,
        "attached_at": "2015-11-29T02:26:00.000000"}]
    # Cinder copies the source image's properties into volume_image_metadata, all as strings.
    root["volume_image_metadata"].update({
        "image_id": IMAGE_RHEL, "image_name": "rhel-9.4-uefi", "disk_format": "qcow2", "container_format": "bare",
        "hw_firmware_type": "uefi", "hw_machine_type": "q35", "hw_disk_bus": "virtio", "os_distro": "rhel"})
    del root["volume_image_metadata"]["kernel_id"], root["volume_image_metadata"]["ramdisk_id"]
    shown.update({"os-vol-tenant-attr:tenant_id": PROJECT_DEMO, "user_id": USER_DEMO, "name": None,
                  "status": "available", "volume_type_id": VOLUME_TYPE_DEFAULT})
    cloud.volumes = [data, root, shown]


def _network(cloud):
    private = _load("neutron/network-show-provider.json")["network"]
    private.update({"project_id": PROJECT_ADMIN, "tenant_id": PROJECT_ADMIN})
    demo = _load("neutron/network-show-multi-segment.json")["network"]
    demo.update({"project_id": PROJECT_DEMO, "tenant_id": PROJECT_DEMO, "subnets": [SUBNET_DEMO]})
    public = copy.deepcopy(private)
    public.update({"id": NET_PUBLIC, "name": "public", "router:external": True, "shared": False,
                   "provider:network_type": "flat", "provider:physical_network": "public",
                   "subnets": [SUBNET_PUBLIC], "is_default": True, "tags": []})
    cloud.networks = [private, demo, public]

    subnet = _load("neutron/subnet-show.json")["subnet"]
    subnet.update({"project_id": PROJECT_ADMIN, "tenant_id": PROJECT_ADMIN})
    demo_subnet = copy.deepcopy(subnet)
    demo_subnet.update({"id": SUBNET_DEMO, "name": "net1-v4", "network_id": NET_DEMO, "cidr": "10.0.0.0/24",
                        "gateway_ip": "10.0.0.1", "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.254"}],
                        "dns_nameservers": ["10.0.0.53"], "project_id": PROJECT_DEMO, "tenant_id": PROJECT_DEMO})
    public_subnet = copy.deepcopy(subnet)
    public_subnet.update({"id": SUBNET_PUBLIC, "name": "public-v4", "network_id": NET_PUBLIC,
                          "cidr": "172.24.4.0/24", "gateway_ip": "172.24.4.1", "enable_dhcp": False,
                          "allocation_pools": [{"start": "172.24.4.2", "end": "172.24.4.254"}]})
    cloud.subnets = [subnet, demo_subnet, public_subnet]

    sg_default = _load("neutron/security-group-show-default.json")["security_group"]
    for holder in [sg_default] + sg_default["security_group_rules"]:
        holder.update({"project_id": PROJECT_DEMO, "tenant_id": PROJECT_DEMO})
    rule = _load("neutron/security-group-rule-tcp80-remote-group.json")["security_group_rule"]
    rule.update({"project_id": PROJECT_DEMO, "tenant_id": PROJECT_DEMO})
    # The sample rule sets both remote_group_id and remote_address_group_id (neutron then matches the group);
    # this copy names the address group alone, so its CIDRs are what the rule allows.
    https = dict(copy.deepcopy(rule), id=RULE_HTTPS_FROM_OFFICE, port_range_min=443, port_range_max=443,
                 remote_group_id=None, description="https from the office")
    web_rules = [rule, https] + [dict(r, id=f"{r['id'][:-4]}beef", security_group_id=SG_WEB)
                                 for r in sg_default["security_group_rules"] if r["direction"] == "egress"]
    sg_web = dict(copy.deepcopy(sg_default), id=SG_WEB, name="web", description="http from default members",
                  security_group_rules=web_rules, tags=[])
    cloud.security_groups = [sg_default, sg_web]
    office = _load("neutron/address-group-show-NO-ENVELOPE.json")
    office.update({"id": ADDRESS_GROUP_OFFICE, "name": "office", "project_id": PROJECT_DEMO,
                   "tenant_id": PROJECT_DEMO})
    cloud.address_groups = [office]

    port = _load("neutron/port-with-binding-and-address-pairs.json")["port"]
    port.update({
        "project_id": PROJECT_DEMO, "tenant_id": PROJECT_DEMO, "network_id": NET_PRIVATE,
        "fixed_ips": [{"ip_address": IP_WEB1, "subnet_id": SUBNET_PRIVATE}], "device_id": SERVER_WEB1,
        "device_owner": "compute:us-west", "binding:vnic_type": "normal", "binding:vif_type": "ovs",
        "binding:profile": {}, "security_groups": [SG_DEFAULT, SG_WEB], "status": "ACTIVE", "name": "web-01-port",
        "dns_name": "web-01", "dns_assignment": [{"hostname": "web-01", "ip_address": IP_WEB1,
                                                   "fqdn": "web-01.my-domain.org"}],
        "allowed_address_pairs": [{"ip_address": "192.0.0.200", "mac_address": MAC_WEB1}],
    })
    web2_port = copy.deepcopy(port)
    web2_port.update({"id": PORT_WEB2, "name": "", "mac_address": MAC_WEB2, "device_id": SERVER_WEB2,
                      "fixed_ips": [{"ip_address": IP_WEB2, "subnet_id": SUBNET_PRIVATE}],
                      "allowed_address_pairs": [], "dns_name": "", "dns_assignment": []})
    db1_port = copy.deepcopy(port)
    db1_port.update({"id": PORT_DB1, "name": "db-01-sriov", "mac_address": MAC_DB1, "device_id": SERVER_DB1,
                     "network_id": NET_DEMO, "fixed_ips": [{"ip_address": IP_DB1, "subnet_id": SUBNET_DEMO}],
                     "binding:vnic_type": "direct", "binding:vif_type": "hw_veb", "security_groups": [SG_DEFAULT],
                     "binding:profile": {"pci_slot": "0000:3b:10.2", "physical_network": "public"},
                     "allowed_address_pairs": [], "port_security_enabled": True, "dns_name": "",
                     "dns_assignment": []})
    dhcp_port = copy.deepcopy(db1_port)
    dhcp_port.update({"id": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", "name": "", "device_owner": "network:dhcp",
                      "device_id": "dhcp-net1", "mac_address": "fa:16:3e:00:00:01", "security_groups": [],
                      "fixed_ips": [{"ip_address": "10.0.0.2", "subnet_id": SUBNET_DEMO}],
                      "binding:vnic_type": "normal", "binding:vif_type": "ovs", "binding:profile": {}})
    cloud.ports = [port, web2_port, db1_port, dhcp_port]

    fips = _load("neutron/floatingips-list.json")["floatingips"]
    for fip in fips:
        fip.update({"project_id": PROJECT_DEMO, "tenant_id": PROJECT_DEMO})
    web_fip, free_fip, forwarding_fip = fips
    web_fip.update({"port_id": PORT_WEB1, "fixed_ip_address": IP_WEB1})
    web_fip["port_details"].update({"network_id": NET_PRIVATE, "mac_address": MAC_WEB1, "device_id": SERVER_WEB1,
                                    "device_owner": "compute:us-west"})
    forwards = forwarding_fip["port_forwardings"]
    forwards[0].update({"internal_port_id": PORT_WEB2, "internal_ip_address": IP_WEB2})
    forwards[1].update({"internal_port_id": PORT_DB1, "internal_ip_address": IP_DB1})
    cloud.port_forwardings = {fip["id"]: fip["port_forwardings"] for fip in fips}
    cloud.floating_ips = fips


def _compute_extras(cloud):
    demo_key = _load("nova/keypair-show-v2.10.json")["keypair"]
    demo_key["user_id"] = USER_DEMO
    admin_key = dict(copy.deepcopy(demo_key), name=KEYPAIR_ADMIN, user_id=USER_ADMIN, id=2,
                     fingerprint="aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99",
                     public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBVvW0b2Sx1p0n2Gk6b3cGZ7u5x0Q9m8V2y1r4w7e3t "
                                "admin@cloud\n")
    cloud.keypairs = [demo_key, admin_key]

    group = _load("nova/server-group-v2.64-anti-affinity.json")["server_group"]
    group.update({"name": "web-anti-affinity", "members": [SERVER_WEB1, SERVER_WEB2], "project_id": PROJECT_DEMO,
                  "user_id": USER_DEMO})
    alt_group = dict(copy.deepcopy(group), id=SERVER_GROUP_ALT, name="alt-affinity", policy="affinity", rules={},
                     members=[SERVER_ALT], project_id=PROJECT_ALT, user_id=USER_ALT)
    cloud.server_groups = [group, alt_group]


def _quotas(cloud):
    # No quota samples were collected; these follow the api-ref shapes of nova/cinder os-quota-sets and neutron
    # quotas, with the services' default values.
    for project in cloud.projects:
        pid = project["id"]
        cloud.quotas[pid] = {
            "compute": {"id": pid, "cores": 20, "instances": 10, "key_pairs": 100, "metadata_items": 128,
                        "ram": 51200, "server_groups": 10, "server_group_members": 10},
            "volume": {"id": pid, "volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10,
                       "backup_gigabytes": 1000, "per_volume_gigabytes": -1, "groups": 10,
                       "volumes_vol-type-001": -1, "gigabytes_vol-type-001": -1},
            "network": {"network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
                        "security_group": 10, "security_group_rule": 100, "rbac_policy": 10, "subnetpool": -1},
        }

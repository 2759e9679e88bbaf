"""The one normalised model of an OpenStack estate that every input shape is read into.

Each record keeps the raw API object it came from (`raw`) and where it was read (`origin`, e.g.
`export.yaml: resources.servers[3]`), so the loss report can account for every source field and error messages can
name the file and the field. Values are normalised once here (string booleans, `swap: ""`, prefixed keys, embedded
flavors), so the mapping modules never look at microversion differences.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional


@dataclass
class Record:
    id: str
    name: str
    raw: dict = field(repr=False)
    origin: str = ""
    # Fields the input could not tell (`openstack ... list` output lacks them): field -> the command that would.
    unknown: Dict[str, str] = field(default_factory=dict)

    # The loss report groups entries by (kind, id); kind is the class name.
    @property
    def kind(self) -> str:
        return type(self).__name__

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})" if self.name and self.name != self.id else self.id


@dataclass
class Domain(Record):
    enabled: bool = True


@dataclass
class Project(Record):
    domain_id: Optional[str] = None
    parent_id: Optional[str] = None
    tags: List[str] = field(default_factory=list)


@dataclass
class User(Record):
    domain_id: Optional[str] = None


@dataclass
class Group(Record):
    domain_id: Optional[str] = None


@dataclass
class Role(Record):
    pass


@dataclass
class RoleAssignment(Record):
    role_id: str = ""
    role_name: Optional[str] = None
    actor_kind: str = "user"  # user | group
    actor_id: str = ""
    actor_name: Optional[str] = None
    actor_domain_id: Optional[str] = None  # the actor's owning domain, when the assignment names it
    actor_domain_name: Optional[str] = None
    scope_kind: str = "project"  # project | domain | system
    scope_id: str = ""
    inherited: bool = False


@dataclass
class Quota(Record):
    """Limits of one project: {"compute": {"cores": 20, ...}, "volume": {...}, "network": {...}}; -1 is unlimited."""

    project_id: str = ""
    limits: Dict[str, Dict[str, int]] = field(default_factory=dict)


@dataclass
class Flavor(Record):
    vcpus: int = 1
    ram_mib: int = 0
    disk_gib: int = 0
    ephemeral_gib: int = 0
    swap_mib: int = 0
    extra_specs: Dict[str, str] = field(default_factory=dict)
    embedded: bool = False  # read from a server record (microversion >= 2.47), not from a flavor listing


@dataclass
class Image(Record):
    disk_format: Optional[str] = None
    container_format: Optional[str] = None
    size_bytes: Optional[int] = None
    virtual_size_bytes: Optional[int] = None
    min_disk_gib: int = 0
    min_ram_mib: int = 0
    properties: Dict[str, str] = field(default_factory=dict)  # hw_*, os_* and any custom key, as strings
    status: Optional[str] = None


@dataclass
class VolumeAttachment:
    server_id: str
    device: Optional[str] = None


@dataclass
class Volume(Record):
    size_gib: int = 1
    volume_type: Optional[str] = None
    bootable: bool = False
    multiattach: bool = False
    status: Optional[str] = None
    project_id: Optional[str] = None
    attachments: List[VolumeAttachment] = field(default_factory=list)
    image_metadata: Dict[str, str] = field(default_factory=dict)  # volume_image_metadata: the image it came from


@dataclass
class VolumeType(Record):
    pass


@dataclass
class Network(Record):
    project_id: Optional[str] = None
    shared: bool = False
    external: bool = False
    mtu: Optional[int] = None


@dataclass
class Subnet(Record):
    network_id: str = ""
    cidr: str = ""
    ip_version: int = 4
    gateway_ip: Optional[str] = None
    dns_nameservers: List[str] = field(default_factory=list)
    enable_dhcp: bool = True


@dataclass
class FixedIP:
    ip_address: str
    subnet_id: Optional[str] = None


@dataclass
class Port(Record):
    network_id: str = ""
    mac_address: str = ""
    fixed_ips: List[FixedIP] = field(default_factory=list)
    device_id: Optional[str] = None
    device_owner: Optional[str] = None
    security_group_ids: List[str] = field(default_factory=list)
    port_security_enabled: Optional[bool] = True  # None: unknown (`port list` does not print it)
    vnic_type: str = "normal"
    project_id: Optional[str] = None
    network_name: Optional[str] = None  # known when read from a server's addresses instead of a port listing


@dataclass
class SecurityGroupRule(Record):
    security_group_id: str = ""
    direction: str = "ingress"  # ingress | egress
    ethertype: str = "IPv4"  # IPv4 | IPv6
    protocol: Optional[str] = None  # lower-case name or number as a string; None means any
    port_min: Optional[int] = None
    port_max: Optional[int] = None
    remote_ip_prefix: Optional[str] = None
    remote_group_id: Optional[str] = None
    remote_address_group_id: Optional[str] = None


@dataclass
class SecurityGroup(Record):
    project_id: Optional[str] = None
    stateful: bool = True
    rules: List[SecurityGroupRule] = field(default_factory=list)


@dataclass
class AddressGroup(Record):
    addresses: List[str] = field(default_factory=list)


@dataclass
class PortForwarding:
    protocol: str
    internal_port_id: Optional[str]
    internal_ip: Optional[str]
    internal_port: int
    external_port: int


@dataclass
class FloatingIP(Record):
    address: str = ""
    forwardings_known: bool = True  # False when read from `floating ip list`, which does not print them
    port_id: Optional[str] = None
    fixed_ip: Optional[str] = None
    project_id: Optional[str] = None
    port_forwardings: List[PortForwarding] = field(default_factory=list)


@dataclass
class KeyPair(Record):
    public_key: str = ""
    key_type: str = "ssh"
    user_id: Optional[str] = None


@dataclass
class ServerGroup(Record):
    policy: str = ""  # affinity | anti-affinity | soft-affinity | soft-anti-affinity
    rules: Dict[str, int] = field(default_factory=dict)
    members: List[str] = field(default_factory=list)
    project_id: Optional[str] = None


@dataclass
class AddressEntry:
    """One entry of a server's `addresses` map: what Nova knows of an interface without a port listing."""

    network_name: str
    address: str
    mac: Optional[str]
    kind: str  # fixed | floating
    version: int = 4


@dataclass
class Server(Record):
    status: str = ""
    project_id: Optional[str] = None
    flavor_id: Optional[str] = None
    flavor: Optional[Flavor] = None  # embedded (>= 2.47) or resolved by id during normalisation
    image_id: Optional[str] = None  # None for boot-from-volume
    image_properties: Dict[str, str] = field(default_factory=dict)  # embedded image properties (>= 2.100)
    key_name: Optional[str] = None
    user_data_b64: Optional[str] = field(default=None, repr=False)
    config_drive: bool = False
    metadata: Dict[str, str] = field(default_factory=dict)
    tags: List[str] = field(default_factory=list)
    security_group_names: List[str] = field(default_factory=list)
    addresses: List[AddressEntry] = field(default_factory=list)
    volume_ids: List[str] = field(default_factory=list)
    availability_zone: Optional[str] = None
    server_group_ids: List[str] = field(default_factory=list)
    root_device_name: Optional[str] = None
    description: Optional[str] = None
    skip_reason: Optional[str] = None  # why the record is in Estate.skipped


@dataclass
class Estate:
    """Everything read, indexed by id. Lists keep a stable order (sorted by id) so output is deterministic."""

    servers: Dict[str, Server] = field(default_factory=dict)
    flavors: Dict[str, Flavor] = field(default_factory=dict)
    images: Dict[str, Image] = field(default_factory=dict)
    volumes: Dict[str, Volume] = field(default_factory=dict)
    volume_types: Dict[str, VolumeType] = field(default_factory=dict)
    networks: Dict[str, Network] = field(default_factory=dict)
    subnets: Dict[str, Subnet] = field(default_factory=dict)
    ports: Dict[str, Port] = field(default_factory=dict)
    security_groups: Dict[str, SecurityGroup] = field(default_factory=dict)
    address_groups: Dict[str, AddressGroup] = field(default_factory=dict)
    floating_ips: Dict[str, FloatingIP] = field(default_factory=dict)
    keypairs: Dict[str, KeyPair] = field(default_factory=dict)  # by name: servers refer to key pairs by name
    server_groups: Dict[str, ServerGroup] = field(default_factory=dict)
    projects: Dict[str, Project] = field(default_factory=dict)
    domains: Dict[str, Domain] = field(default_factory=dict)
    users: Dict[str, User] = field(default_factory=dict)
    groups: Dict[str, Group] = field(default_factory=dict)
    roles: Dict[str, Role] = field(default_factory=dict)
    role_assignments: List[RoleAssignment] = field(default_factory=list)
    quotas: Dict[str, Quota] = field(default_factory=dict)  # by project id
    warnings: List[str] = field(default_factory=list)
    skipped: List[Record] = field(default_factory=list)  # records that could not be converted (down-cell servers)

    def network_by_name(self, name: str) -> Optional[Network]:
        for net in self.networks.values():
            if net.name == name:
                return net
        return None

"""The conversion: one normalised estate and the options in, manifests and the loss report out. No I/O.

Order: tenancy (namespaces first, every other name lives in one) -> VM names -> network mapping check (fails
before anything is built) -> one VirtualMachine per server with its disks, interfaces, cloud-init, credentials and
placement -> shared and unattached volumes -> NetworkPolicies -> Services -> RBAC and quotas -> instancetypes ->
the report accounts for every field nobody claimed.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

from .mapping import disks, instancetypes, names, netpol, networks, placement, services, tenancy, vms
from .mapping import guest_secrets as credentials
from .packed import PackedObjects
from .report import APPROXIMATED, DROPPED, IGNORED, MAPPED, Report

COMMON_LABELS = {"vmmove.io/converted-from": "openstack"}

KIND_ORDER = ["Namespace", "ResourceQuota", "RoleBinding", "Secret", "VirtualMachineInstancetype",
              "VirtualMachinePreference", "DataVolume", "NetworkPolicy", "VirtualMachine", "Service"]


@dataclass
class Options:
    namespace_template: str = "{domain}-{project}"
    namespace: Optional[str] = None  # -n: everything into one namespace
    quotas: bool = False
    role_map: Dict[str, List[str]] = field(default_factory=lambda: tenancy.parse_role_map([]))
    subject_prefix: str = ""
    subject_template: str = tenancy.SUBJECT_TEMPLATE
    run_strategy: Optional[str] = None
    instancetypes: bool = False
    disk_source: str = "pvc"
    disk_url_template: Optional[str] = None
    registry_template: Optional[str] = None
    s3_template: Optional[str] = None
    pvc_template: str = "{source_kind}-{source_id}"
    pvc_namespace: Optional[str] = None
    disk_secret: Optional[str] = None
    disk_cert_configmap: Optional[str] = None
    storage_class_map: Dict[str, str] = field(default_factory=dict)
    network_map: Dict[str, Tuple[str, Optional[str]]] = field(default_factory=dict)
    static_ips: bool = False
    calico: bool = False
    translate_tenant_cidrs: bool = False
    lb_ip_annotation: Optional[str] = None
    zones: bool = False
    zone_map: Dict[str, str] = field(default_factory=dict)
    pci_alias_map: Dict[str, str] = field(default_factory=dict)
    omit_secret_values: bool = False


@dataclass
class Result:
    objects: Sequence[dict]
    report: Report
    servers: int
    warnings: List[str]


class Context:
    """What the mapping modules share while converting one estate: lookups, name allocation, report-once flags."""

    def __init__(self, estate, options: Options, report: Report):
        self.estate, self.options, self.report = estate, options, report
        self.network_map = options.network_map
        self.project_ns: Dict[str, str] = {}
        self.server_namespace: Dict[str, str] = {}
        self.vm_names: Dict[str, str] = {}
        self.sg_labels: Dict[str, str] = {}
        self.secrets: List[dict] = []
        self.shared: Dict[str, Tuple[str, str]] = {}  # volume id -> (DataVolume name, namespace)
        self.unmapped_volume_types: Set[str] = set()
        self.deny_all_namespaces: set = set()  # namespaces with a VM whose pod NIC OpenStack closed entirely
        self._allocators: Dict[Tuple[str, str], names.NameAllocator] = {}
        self._keypair_secrets: Dict[Tuple[str, str], str] = {}
        self._reported: Set[tuple] = set()

    def namespace_of(self, project_id: Optional[str]) -> str:
        if project_id in self.project_ns:
            return self.project_ns[project_id]
        return self.options.namespace or next(iter(sorted(self.project_ns.values())), "openstack")

    def project_name(self, project_id: Optional[str]) -> str:
        p = self.estate.projects.get(project_id or "")
        return p.name if p else (project_id or "")

    def allocate(self, ns: str, kind: str, wanted: str, key: str) -> str:
        alloc = self._allocators.setdefault((ns, kind), names.NameAllocator())
        return alloc.allocate(wanted, key)

    def _once(self, key) -> bool:
        if key in self._reported:
            return True
        self._reported.add(key)
        return False

    def volume_reported(self, vol) -> bool:
        return self._once(("volume", vol.id))

    def group_reported(self, group) -> bool:
        return self._once(("group", group.id))

    def shared_volume(self, vol) -> Optional[Tuple[str, str]]:
        return self.shared.get(vol.id)

    def keypair_secret(self, kp, ns: str) -> str:
        key = (ns, kp.name)
        if key not in self._keypair_secrets:
            name = self.allocate(ns, "Secret", names.dns_label("keypair-" + kp.name, "keypair", 253), "kp:" + kp.name)
            self._keypair_secrets[key] = name
            self.secrets.append(credentials.keypair_secret_object(kp, name, ns, self.options, COMMON_LABELS))
            if not self._once(("keypair", kp.name)):
                self.report.mapped(kp, "public_key", f"Secret {ns}/{name} key ssh-publickey", "content not shown")
                self.report.claim(kp, "name", "type", "fingerprint")
        return self._keypair_secrets[key]

    def port_used(self, port, target: str) -> None:
        if self._once(("port", port.id)):
            return
        r = self.report
        r.mapped(port, "mac_address", f"{target}.macAddress")
        r.mapped(port, "network_id", target)
        r.claim(port, "fixed_ips", "device_id", "device_owner", "security_groups", "port_security_enabled",
                "binding:vnic_type", "mac_addr", "net_id", "port_id", "port_state")
        if port.fixed_ips:
            r.mapped(port, "fixed_ips", target, "see the server's addresses")
        if port.security_group_ids:
            r.mapped(port, "security_groups", "VM template labels", "see the server's security_groups entry: only "
                                                                    "the pod NIC's groups select the VM")
        if not port.port_security_enabled:
            r.mapped(port, "port_security_enabled", "", "off: this port was not filtered in OpenStack")
        if port.raw.get("allowed_address_pairs"):
            r.dropped(port, "allowed_address_pairs", "extra addresses on the NIC (VRRP, VIPs) need a CNI that "
                                                     "allows them (e.g. no MAC/IP spoof check on the NAD)")


def split_map(values: Optional[List[str]], flag: str) -> Dict[str, str]:
    from ..errors import UsageError

    out = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UsageError(f"{flag} {item!r}: expected KEY=VALUE")
        out[key] = value
    return out


def convert(estate, options: Options, packed: bool = False) -> Result:
    """With `packed`, each manifest is packed as soon as it is complete (see packed.py): what the CLI uses."""
    report = Report()
    for w in estate.warnings:
        report.warn(w)
    ctx = Context(estate, options, report)
    objects: Union[List[dict], PackedObjects] = PackedObjects(sort_key) if packed else []

    ctx.project_ns, facts = tenancy.plan_namespaces(estate, options, report)
    objects.extend(tenancy.namespace_objects(facts, COMMON_LABELS, estate, report))

    servers = sorted(estate.servers.values(), key=lambda s: (ctx.namespace_of(s.project_id), s.name, s.id))
    for s in servers:
        ns = ctx.namespace_of(s.project_id)
        ctx.server_namespace[s.id] = ns
        ctx.vm_names[s.id] = ctx.allocate(ns, "VirtualMachine", names.dns_label(s.name, "vm"), s.id)

    ports_by_device: Dict[str, list] = {}
    for port in sorted(estate.ports.values(), key=lambda p: p.id):
        if port.device_id:
            ports_by_device.setdefault(port.device_id, []).append(port)
    ifaces = [(s, networks.server_interfaces(s, estate, ports_by_device)) for s in servers]
    networks.check_mapped(ifaces, options.network_map)

    ctx.sg_labels = netpol.sg_label_keys(estate.security_groups.values())
    _plan_shared_volumes(ctx, servers, objects)

    catalogue = instancetypes.Catalogue()
    vm_groups: Dict[str, List[str]] = {}
    for server, server_ifaces in ifaces:
        objects.append(_vm(ctx, server, server_ifaces, vm_groups, catalogue))
        objects.extend(ctx.secrets)  # complete once made; added (packed) as they come, order is the sort's
        ctx.secrets.clear()
    del ifaces  # a big estate's interfaces are worth freeing before the report's accounting
    objects.extend(catalogue.all())

    _plan_unattached_volumes(ctx, objects)
    objects.extend(netpol.plan_policies(ctx, vm_groups, COMMON_LABELS))
    objects.extend(netpol.deny_all_policies(ctx, ctx.deny_all_namespaces, COMMON_LABELS))
    objects.extend(services.plan_services(ctx, vm_groups, COMMON_LABELS))
    objects.extend(tenancy.role_bindings(estate, options, ctx.project_ns, COMMON_LABELS, report))
    objects.extend(tenancy.quota_objects(estate, options, ctx.project_ns, COMMON_LABELS, report))

    for vt in sorted(ctx.unmapped_volume_types):
        report.warn(f"volume type {vt!r} has no --storage-class-map entry; its disks use the default storage class")
    _account_everything(ctx, vm_groups)
    if isinstance(objects, PackedObjects):
        objects.sort()
    else:
        objects.sort(key=sort_key)
    return Result(objects, report, len(servers), list(report.warnings))


def sort_key(obj: dict):
    kind = obj.get("kind", "")
    order = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    meta = obj.get("metadata", {})
    return (order, obj.get("apiVersion", ""), meta.get("namespace", ""), meta.get("name", ""))


def _plan_shared_volumes(ctx, servers, objects):
    e = ctx.estate
    users: Dict[str, List] = {}
    for s in servers:
        for vid in s.volume_ids:
            if vid in e.volumes:
                users.setdefault(vid, []).append(s)
    for vid in sorted(users):
        if len(users[vid]) < 2:
            continue
        vol = e.volumes[vid]
        ns = ctx.server_namespace[users[vid][0].id]
        name = ctx.allocate(ns, "DataVolume", names.dns_label(vol.name, "volume", 253), vid)
        ctx.shared[vid] = (name, ns)
        objects.append(disks.standalone_volume(ctx, vol, ns, name))
        spaces = sorted({ctx.server_namespace[s.id] for s in users[vid]})
        if len(spaces) > 1:
            ctx.report.approximated(vol, "attachments", f"DataVolume {ns}/{name}",
                                    f"attached in {', '.join(spaces)}: a claim lives in one namespace, so only VMs "
                                    f"in {ns} get it")


def _plan_unattached_volumes(ctx, objects):
    e = ctx.estate
    used = set(ctx.shared)
    for s in e.servers.values():
        used.update(s.volume_ids)
    for vol in sorted(e.volumes.values(), key=lambda v: v.id):
        if vol.id in used:
            continue
        if vol.project_id not in ctx.project_ns and not ctx.options.namespace:
            ctx.report.dropped(vol, "id", "attached to no server and its project is unknown: no namespace for it")
            continue
        ns = ctx.namespace_of(vol.project_id)
        name = ctx.allocate(ns, "DataVolume", names.dns_label(vol.name, "volume", 253), vol.id)
        objects.append(disks.standalone_volume(ctx, vol, ns, name))
        ctx.report.mapped(vol, "attachments", f"DataVolume {ns}/{name}", "attached to no server: a standalone "
                                                                          "DataVolume keeps its data")


def _server_settings(ctx, server):
    """Image properties for the server: the image record, the embedded properties (2.100), or the boot volume's."""
    e = ctx.estate
    props, field = {}, "image"
    hidden = None
    if server.image_id:
        image = e.images.get(server.image_id)
        if image is not None:
            props.update(image.properties)
            hidden = image.unknown.get("properties")
        props.update(server.image_properties)
    else:
        attached = disks.attached_volumes(server, e)
        root = disks.root_volume(server, attached)
        if root is not None:
            props.update({k: v for k, v in root.image_metadata.items()})
            field = "boot_volume.volume_image_metadata"
            hidden = root.unknown.get("volume_image_metadata")
    if hidden and not server.image_properties:
        ctx.report.unknown(server, f"{field}.properties", f"the {field.split('.')[0].replace('_', ' ')} was read from "
                                                          "a listing, which does not print image properties (disk "
                                                          f"bus, firmware, OS type): defaults used; '{hidden}' tells")
    return vms.Settings(server, props, server.flavor.extra_specs, ctx.report, image_field=field)


def _vm(ctx, server, ifaces, vm_groups, catalogue) -> dict:
    """The VirtualMachine of one server; each step files its fields in the report in this order."""
    options, report = ctx.options, ctx.report
    ns, vm = ctx.server_namespace[server.id], ctx.vm_names[server.id]
    target = f"VirtualMachine {ns}/{vm}"
    report.add(server, "name", MAPPED if vm == server.name else APPROXIMATED, f"{target} metadata.name",
               "" if vm == server.name else "made a DNS-1123 label (unique in the namespace); the original is in "
                                            "annotation vmmove.io/openstack-name")
    report.mapped(server, "tenant_id" if "tenant_id" in server.raw else "project_id", f"Namespace {ns}")
    settings = _server_settings(ctx, server)
    parts = vms.compute(server, server.flavor, settings, options, report, target)
    spec_t, templates = _template_spec(ctx, server, ifaces, parts, settings, target)
    template_labels = _template_labels(ctx, server, ifaces, vm_groups)
    place_labels, affinity, node_selector = placement.plan_placement(ctx, server, target)
    template_labels.update(place_labels)
    if affinity:
        spec_t["affinity"] = affinity
    if node_selector:
        spec_t["nodeSelector"] = node_selector
    _hostname(server, vm, spec_t, report, target)

    metadata = _vm_metadata(ctx, server, settings, target)
    spec: dict = {"runStrategy": vms.run_strategy(server, options.run_strategy, report, target)}
    if templates:
        spec["dataVolumeTemplates"] = templates
    spec["template"] = {"metadata": {"labels": template_labels}, "spec": spec_t}
    if options.instancetypes:
        _use_instancetypes(ctx, server, ns, spec, catalogue, settings, target)
    settings.finish(target)
    report.claim(server, "flavor", "image")
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": metadata, "spec": spec}


def _template_spec(ctx, server, ifaces, parts: dict, settings, target: str) -> Tuple[dict, list]:
    """The template's spec (domain with host devices, disks, interfaces, cloud-init; networks, volumes,
    architecture, access credentials) and the DataVolume templates."""
    report = ctx.report
    ns, vm = ctx.server_namespace[server.id], ctx.vm_names[server.id]
    domain = parts["domain"]
    host_devices = vms.host_devices(settings, ctx.options.pci_alias_map, target)
    if host_devices:
        domain["devices"]["hostDevices"] = host_devices

    plan = disks.plan_disks(ctx, server, vm, ns, parts["disk_bus"], target)
    interfaces, nets, network_data = networks.plan_interfaces(ctx, server, ifaces, vm, parts["nic_model"], target)
    ci_disk, ci_volume, access, secrets = credentials.plan_cloud_init(ctx, server, vm, ns, network_data, target,
                                                                      COMMON_LABELS, parts["disk_bus"])
    ctx.secrets.extend(secrets)
    devices = domain["devices"]
    devices["disks"] = plan.disks + ([ci_disk] if ci_disk else [])
    devices["interfaces"] = interfaces
    volumes = plan.volumes + ([ci_volume] if ci_volume else [])
    if not interfaces:
        devices["autoattachPodInterface"] = False
        report.mapped(server, "addresses", "", "no NIC: KubeVirt is told not to add the pod network")
    spec_t: dict = {"domain": domain, "networks": nets, "volumes": volumes}
    if parts["architecture"]:
        spec_t["architecture"] = parts["architecture"]
    if access:
        spec_t["accessCredentials"] = access
    return spec_t, plan.templates


def _template_labels(ctx, server, ifaces, vm_groups) -> dict:
    """The VM label and the labels its security groups' NetworkPolicies select (or deny-all's)."""
    ns, vm = ctx.server_namespace[server.id], ctx.vm_names[server.id]
    template_labels = {"vmmove.io/vm": vm}
    pod_filter = netpol.pod_filter(server, ifaces, ctx.network_map, ctx.estate)
    vm_groups[server.id] = pod_filter.groups
    for sg_id in pod_filter.groups:
        template_labels[ctx.sg_labels[sg_id]] = "true"
    if pod_filter.deny_all:
        template_labels[netpol.DENY_ALL_LABEL] = "true"
        ctx.deny_all_namespaces.add(ns)
    ctx.report.add(server, "security_groups", pod_filter.status,
                   f"VirtualMachine {ns}/{vm} spec.template.metadata.labels"
                   if pod_filter.groups or pod_filter.deny_all else "",
                   "; ".join([pod_filter.reason] + pod_filter.notes))
    return template_labels


def _hostname(server, vm: str, spec_t: dict, report, target: str) -> None:
    hostname = server.raw.get("OS-EXT-SRV-ATTR:hostname")
    if hostname:
        host = names.dns_label(hostname, vm)
        if host != vm:
            spec_t["hostname"] = host
        report.add(server, "OS-EXT-SRV-ATTR:hostname", MAPPED if host == hostname else APPROXIMATED,
                   f"{target} spec.template.spec.hostname", "" if host == hostname else f"{hostname} -> {host}")


def _vm_metadata(ctx, server, settings, target: str) -> dict:
    """Name, namespace, labels (converted-from, metadata and tags) and the annotations naming the origin."""
    e = ctx.estate
    ns, vm = ctx.server_namespace[server.id], ctx.vm_names[server.id]
    labels, annotations = vms.metadata_labels(server, ctx.report, target)
    annotations.update({"vmmove.io/openstack-name": server.name, "vmmove.io/openstack-id": server.id,
                        "vmmove.io/openstack-project": ctx.project_name(server.project_id),
                        "vmmove.io/openstack-flavor": server.flavor.name})
    if server.image_id:
        image = e.images.get(server.image_id)
        annotations["vmmove.io/openstack-image"] = image.name if image else server.image_id
    for key in ("os_distro", "os_version"):
        value = settings.image(key)
        if value:
            annotations[f"vmmove.io/openstack-{key.replace('_', '-')}"] = value
    return {"name": vm, "namespace": ns, "labels": {**COMMON_LABELS, **labels, "vmmove.io/vm": vm},
            "annotations": annotations}


def _use_instancetypes(ctx, server, ns, spec, catalogue, settings, target):
    domain = spec["template"]["spec"]["domain"]
    it_spec, pref_spec, rest, exact = instancetypes.split(domain)
    spec["template"]["spec"]["domain"] = rest
    flavor = server.flavor
    it_name = catalogue.add("VirtualMachineInstancetype", ns, flavor.name, it_spec, f"flavor {flavor.label}",
                            COMMON_LABELS)
    image_label = settings.image_field
    if server.image_id:
        image = ctx.estate.images.get(server.image_id)
        pref_wanted = image.name if image else server.image_id
    else:
        pref_wanted = settings.image("image_name") or f"{ctx.vm_names[server.id]}-boot-volume"
    pref_name = catalogue.add("VirtualMachinePreference", ns, pref_wanted, pref_spec, f"{image_label} of {server.name}",
                              COMMON_LABELS)
    spec["instancetype"] = {"kind": "VirtualMachineInstancetype", "name": it_name}
    spec["preference"] = {"kind": "VirtualMachinePreference", "name": pref_name}
    ctx.report.mapped(server, "flavor.name", f"{target} spec.instancetype", f"VirtualMachineInstancetype {ns}/{it_name}")
    ctx.report.add(server, "image.settings", MAPPED if exact else APPROXIMATED, f"{target} spec.preference",
                   f"VirtualMachinePreference {ns}/{pref_name}" + (
                       "" if exact else "; a mixed sockets/cores/threads topology becomes preferredCPUTopology spread"))


SERVER_NOTES = {
    "accessIPv4": (DROPPED, "informational address for users; nothing routes to it"),
    "accessIPv6": (DROPPED, "informational address for users; nothing routes to it"),
    "OS-DCF:diskConfig": (APPROXIMATED, "AUTO partition resize is done by cloud-init growpart in most guests"),
    "OS-EXT-SRV-ATTR:kernel_id": (IGNORED, "image kernel, empty for whole-disk images"),
    "OS-EXT-SRV-ATTR:ramdisk_id": (IGNORED, "image ramdisk, empty for whole-disk images"),
    "OS-EXT-SRV-ATTR:user_data": (IGNORED, "empty"),
    "config_drive": (MAPPED, "NoCloud data source"),
    "key_name": (IGNORED, "no key pair"),
    "fault": (IGNORED, "the last error of the OpenStack server"),
}
_SEGMENT = (APPROXIMATED, "segmentation (VLAN, flat, VXLAN) is the NAD's CNI configuration")
NETWORK_NOTES = {
    "subnets": (IGNORED, "the pod network has its own addressing"),
    "mtu": (IGNORED, "the pod network's MTU is the cluster's"),
    "provider:network_type": _SEGMENT, "provider:physical_network": _SEGMENT, "provider:segmentation_id": _SEGMENT,
    "segments": _SEGMENT,
    "port_security_enabled": (MAPPED, "per port: ports without port security are selected by no NetworkPolicy"),
    "admin_state_up": (IGNORED, "administrative state"),
    "dns_domain": (DROPPED, "no DNS integration for secondary networks"),
    "qos_policy_id": (DROPPED, "no network QoS"),
    "vlan_transparent": (DROPPED, "the NAD's CNI decides"),
    "qinq": (DROPPED, "the NAD's CNI decides"),
}
SUBNET_NOTES = {k: (IGNORED, "addressing of the OpenStack subnet; the pod network or the NAD's IPAM assigns addresses")
                for k in ("network_id", "gateway_ip", "dns_nameservers", "allocation_pools", "enable_dhcp",
                          "ip_version", "host_routes", "ipv6_address_mode", "ipv6_ra_mode", "segment_id",
                          "subnetpool_id", "service_types", "dns_publish_fixed_ip")}
PORT_NOTES = {
    "mac_address": (IGNORED, "port of no converted server"), "fixed_ips": (IGNORED, "port of no converted server"),
    "network_id": (IGNORED, "port of no converted server"), "device_id": (IGNORED, "port of no converted server"),
    "security_groups": (IGNORED, "port of no converted server"),
    "port_security_enabled": (IGNORED, "port of no converted server"),
    "binding:vnic_type": (MAPPED, "normal: bridge or masquerade binding"),
    "binding:host_id": (IGNORED, "host binding of the OpenStack port"),
    "binding:profile": (IGNORED, "host binding of the OpenStack port"),
    "binding:vif_details": (IGNORED, "host binding of the OpenStack port"),
    "binding:vif_type": (IGNORED, "host binding of the OpenStack port"),
    "dns_assignment": (IGNORED, "derived from dns_name"), "ip_allocation": (IGNORED, "allocation timing"),
    "resource_request": (IGNORED, "placement request derived from QoS"), "hints": (IGNORED, "OVS tuning hint"),
    "admin_state_up": (IGNORED, "administrative state"), "propagate_uplink_status": (DROPPED, "SR-IOV setting"),
    "data_plane_status": (IGNORED, "runtime state"),
    "extra_dhcp_opts": (DROPPED, "DHCP options (PXE) have no KubeVirt equivalent"),
    "qos_policy_id": (DROPPED, "no per-interface QoS"), "qos_network_policy_id": (DROPPED, "no per-interface QoS"),
    "trusted": (DROPPED, "VF trust is the SR-IOV NAD's setting"),
    "hardware_offload_type": (DROPPED, "hardware offload is the CNI's setting"),
    "dns_name": (DROPPED, "use a Service or the VM's hostname"),
    "allowed_address_pairs": (IGNORED, "port of no converted server"),
    "mac_addr": (IGNORED, "see mac_address"), "net_id": (IGNORED, "see network_id"), "port_id": (IGNORED, "see id"),
    "port_state": (IGNORED, "runtime state"),
}
FLAVOR_NOTES = {k: (MAPPED, "read for each server using this flavor; see the servers") for k in (
    "vcpus", "ram", "disk", "swap", "OS-FLV-EXT-DATA:ephemeral", "ephemeral", "extra_specs", "original_name")}
IMAGE_NOTES = {k: (MAPPED, "read for each server booting from it; see the servers") for k in (
    "disk_format", "container_format", "size", "virtual_size", "min_disk", "min_ram", "minDisk", "minRam",
    "OS-EXT-IMG-SIZE:size", "metadata")}


def _account_everything(ctx, vm_groups):
    """The report's last word on every source record: what nobody claimed is filed by account_rest."""
    used = _used(ctx.estate)
    _account_compute(ctx, used)
    _account_networking(ctx, used)
    _account_the_rest(ctx, used)


def _used(e) -> dict:
    """Ids and names of what the converted servers use: flavors, images, networks, key pairs, server groups."""
    used_flavors = {s.flavor.id for s in e.servers.values() if s.flavor is not None and not s.flavor.embedded}
    used_flavor_names = {s.flavor.name for s in e.servers.values() if s.flavor is not None}
    used_images = {s.image_id for s in e.servers.values() if s.image_id}
    used_networks = {p.network_id for p in e.ports.values() if p.device_id in e.servers}
    by_name = {}
    for net in sorted(e.networks.values(), key=lambda n: n.id, reverse=True):
        by_name[net.name] = net.id
    for s in e.servers.values():
        for a in s.addresses:
            if a.network_name in by_name:
                used_networks.add(by_name[a.network_name])
    used_keys = {s.key_name for s in e.servers.values() if s.key_name}
    used_groups = {g.id for s in e.servers.values() for g in [placement.group_of(s, e)] if g is not None}
    return {"flavors": used_flavors, "flavor_names": used_flavor_names, "images": used_images,
            "networks": used_networks, "keys": used_keys, "groups": used_groups}


def _account_compute(ctx, used: dict) -> None:
    e, report = ctx.estate, ctx.report
    used_flavors, used_flavor_names, used_images = used["flavors"], used["flavor_names"], used["images"]
    for server in e.servers.values():
        report.account_rest(server, SERVER_NOTES)
    for rec in e.skipped:
        report.dropped(rec, "id", getattr(rec, "skip_reason", None) or "not converted")
        report.account_rest(rec)
    for f in e.flavors.values():
        if f.id in used_flavors or f.name in used_flavor_names:
            report.account_rest(f, FLAVOR_NOTES)
        else:
            report.dropped(f, "name", "no converted server uses this flavor")
            report.claim(f, *FLAVOR_NOTES)
            report.account_rest(f)
    for img in e.images.values():
        if img.id in used_images:
            report.account_rest(img, {**IMAGE_NOTES, **{k: (MAPPED, "see the servers booting from it")
                                                         for k in img.properties}})
        else:
            report.dropped(img, "name", "no converted server boots from it (import it as a DataVolume or DataSource "
                                        "by hand if it is a golden image)")
            report.claim(img, *img.properties, *IMAGE_NOTES)
            report.account_rest(img)


def _account_networking(ctx, used: dict) -> None:
    e, report = ctx.estate, ctx.report
    used_networks = used["networks"]
    for net in e.networks.values():
        mapping = networks.lookup(ctx.network_map, networks.Interface(net.id, net.name, None))
        notes = dict(NETWORK_NOTES)
        if net.id in used_networks and mapping:
            kind, nad = mapping
            desc = {"pod": "pod network", "ignore": "ignored (--network-map)", "multus": f"Multus network {nad}"}[kind]
            report.add(net, "name", DROPPED if kind == "ignore" else MAPPED, desc)
            if kind == "multus":
                notes["subnets"] = (APPROXIMATED, f"create NetworkAttachmentDefinition {nad} with an IPAM that "
                                                  "serves these subnets (not generated)")
                notes["mtu"] = (APPROXIMATED, f"set the MTU ({net.mtu}) in the NAD's CNI configuration")
        else:
            report.dropped(net, "name", "no converted server uses this network")
        report.account_rest(net, notes)
    for sub in e.subnets.values():
        in_use = sub.network_id in used_networks
        report.add(sub, "cidr", APPROXIMATED if in_use else DROPPED, "",
                   "addresses come from the pod network or the NAD's IPAM; used for --static-ips prefixes" if in_use
                   else "no converted server uses its network")
        report.account_rest(sub, SUBNET_NOTES)
    for port in e.ports.values():
        if ("port", port.id) not in ctx._reported:
            owner = port.device_owner or ""
            if owner.startswith("network:"):
                report.ignored(port, "device_owner", f"{owner}: network infrastructure port")
            else:
                report.dropped(port, "device_id", "belongs to no converted server")
        report.account_rest(port, PORT_NOTES)
    for sg in e.security_groups.values():
        report.claim(sg, "security_group_rules", "rules")
        report.account_rest(sg)
        for rule in sg.rules:
            report.account_rest(rule, {"description": (IGNORED, "free text")})
    for ag in e.address_groups.values():
        report.account_rest(ag, {"addresses": (MAPPED, "ipBlocks of the rules that name this group")})
    for fip in e.floating_ips.values():
        report.account_rest(fip, {"qos_policy_id": (DROPPED, "no QoS on Services"),
                                  "qos_network_policy_id": (DROPPED, "no QoS on Services"),
                                  "tags": (DROPPED, "no labels carried over")})


def _account_the_rest(ctx, used: dict) -> None:
    """Key pairs, server groups, volume types, volumes and the identity records."""
    e, report = ctx.estate, ctx.report
    used_keys, used_groups = used["keys"], used["groups"]
    for kp in e.keypairs.values():
        if kp.name not in used_keys:
            report.dropped(kp, "public_key", "no converted server uses this key pair")
            report.claim(kp, "name", "type", "fingerprint")
        report.account_rest(kp)
    for g in e.server_groups.values():
        if g.id not in used_groups:
            report.dropped(g, "policy", "no converted server is in this group")
            report.claim(g, "policies", "rules", "members", "name")
        report.account_rest(g)
    for vt in e.volume_types.values():
        report.account_rest(vt, {"extra_specs": (DROPPED, "backend capabilities: pick a storage class that has them "
                                                          "with --storage-class-map"),
                                 "qos_specs_id": (DROPPED, "storage QoS belongs to the storage class")})
    for vol in e.volumes.values():
        report.account_rest(vol)
    for rec in list(e.projects.values()) + list(e.domains.values()) + list(e.users.values()) + \
            list(e.groups.values()) + list(e.roles.values()) + list(e.role_assignments) + list(e.quotas.values()):
        report.account_rest(rec)

"""Server disks -> VM disks, volumes and CDI DataVolumes.

Disks a single server owns (its image-booted root, its Cinder volumes, the flavor's ephemeral disk) become
`dataVolumeTemplates`: KubeVirt creates them with the VM, owns them, and a GitOps tree keeps one file per VM. A
multi-attach volume used by several servers cannot belong to one VM, so it becomes a standalone DataVolume that each
VM references (`shareable: true`); so does a volume attached to no server, so its data is not lost.

Attachment order follows the device names (`/dev/vdb` before `/dev/vdc`, `/dev/vdz` before `/dev/vdaa`), never list
order: Nova lists attachments in creation order, and the guest's fstab depends on device order.
"""

import math
import re
from typing import Dict, List, Optional, Tuple

from ...errors import UsageError
from ..model import Volume
from . import names

GIB = 1024 ** 3
MIN_DISK_GIB = 1
DEFAULT_ROOT_GIB = 10
CDI_FORMATS = {"qcow2", "raw", "vmdk", "vdi", "vhd", "vhdx", "iso", None}
TEMPLATE_FIELDS = ("source_kind", "source_id", "source_name", "image_id", "image_name", "volume_id", "volume_name",
                   "server_id", "server_name", "vm", "namespace", "project", "disk")


def device_key(device: Optional[str]) -> Tuple:
    """`/dev/vdb` < `/dev/vdc` < `/dev/vdz` < `/dev/vdaa`; no device sorts last."""
    if not device:
        return (1, 0, 0, "")
    m = re.match(r"^(?:/dev/)?(xvd|vd|sd|hd)([a-z]+)(\d*)$", device)
    if not m:
        return (0, 9, 0, device)
    letters = m.group(2)
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - ord("a") + 1)
    return (0, 0, index, device)


def attached_volumes(server, estate) -> List[Tuple[Volume, Optional[str]]]:
    """(volume, device) for each known volume of the server, root first, then by device name."""
    out = []
    for vid in server.volume_ids:
        vol = estate.volumes.get(vid)
        if vol is None:
            continue
        device = next((a.device for a in vol.attachments if a.server_id == server.id and a.device), None)
        out.append((vol, device))
    out.sort(key=lambda vd: (device_key(vd[1]), vd[0].id))
    return out


def root_volume(server, attached) -> Optional[Volume]:
    """The boot volume of a boot-from-volume server: the root device, else the first bootable volume."""
    if server.image_id:
        return None
    root_dev = server.root_device_name or "/dev/vda"
    for vol, device in attached:
        if device and device_key(device) == device_key(root_dev):
            return vol
    for vol, _ in attached:
        if vol.bootable:
            return vol
    return attached[0][0] if attached else None


def storage_class(kind_key: Optional[str], keys: List[str], class_map: Dict[str, str]) -> Tuple[Optional[str], bool]:
    """(class, mapped?) for a volume type (by name or id) or `glance` for image-based disks; `*` is a fallback."""
    for k in keys:
        if k and k in class_map:
            return class_map[k], True
    if "*" in class_map:
        return class_map["*"], True
    return None, False


def render_template(template: str, values: dict, flag: str) -> str:
    try:
        return template.format_map(values)
    except KeyError as err:
        raise UsageError(f"{flag}: unknown field {{{err.args[0]}}}; use any of "
                         + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)) from err
    except (ValueError, IndexError) as err:
        raise UsageError(f"{flag}: {err}; put field names in braces, e.g. {{image_id}}") from err


def source(values: dict, options, ns: str) -> Tuple[dict, str]:
    """The DataVolume `source` for one disk, and a description for the report."""
    kind = options.disk_source
    if kind == "http":
        url = render_template(options.disk_url_template, values, "--disk-url-template")
        src = {"url": url}
        if options.disk_secret:
            src["secretRef"] = options.disk_secret
        if options.disk_cert_configmap:
            src["certConfigMap"] = options.disk_cert_configmap
        return {"http": src}, f"imported over HTTP from {url}"
    if kind == "registry":
        url = render_template(options.registry_template, values, "--registry-template")
        if "://" not in url:
            url = "docker://" + url
        src = {"url": url}
        if options.disk_secret:
            src["secretRef"] = options.disk_secret
        return {"registry": src}, f"imported from the container image {url}"
    if kind == "s3":
        url = render_template(options.s3_template, values, "--s3-template")
        src = {"url": url}
        if options.disk_secret:
            src["secretRef"] = options.disk_secret
        return {"s3": src}, f"imported from {url}"
    name = names.dns_label(render_template(options.pvc_template, values, "--pvc-template"), "disk", 253)
    namespace = options.pvc_namespace or ns
    return {"pvc": {"name": name, "namespace": namespace}}, f"cloned from the pre-staged claim {namespace}/{name}"


def data_volume(name: str, src: dict, size: str, sc: Optional[str], annotations: dict, labels: dict) -> dict:
    storage: dict = {"resources": {"requests": {"storage": size}}}
    if sc:
        storage["storageClassName"] = sc
    meta: dict = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": meta,
            "spec": {"source": src, "storage": storage}}


def image_root_size(flavor, image) -> Tuple[int, str]:
    if flavor.disk_gib > 0:
        return max(flavor.disk_gib, MIN_DISK_GIB), "flavor root disk"
    if image is not None:
        size = image.virtual_size_bytes or image.size_bytes
        gib = max(image.min_disk_gib, math.ceil(size / GIB) if size else 0)
        if gib:
            return max(gib, MIN_DISK_GIB), "image size (the flavor has no root disk size)"
    return DEFAULT_ROOT_GIB, f"neither flavor nor image gives a size; {DEFAULT_ROOT_GIB}Gi assumed"


class DiskPlan:
    """What one VM gets: template disks and volumes, owned DataVolume templates, references to shared ones."""

    def __init__(self):
        self.disks: List[dict] = []
        self.volumes: List[dict] = []
        self.templates: List[dict] = []

    def add(self, disk: dict, volume: dict, template: Optional[dict] = None):
        self.disks.append(disk)
        self.volumes.append(volume)
        if template is not None:
            self.templates.append(template)


def plan_disks(ctx, server, vm: str, ns: str, disk_bus: str, target: str) -> DiskPlan:
    """Disks, volumes and DataVolume templates of one VM: the image root disk, the attached volumes, then the
    flavor's ephemeral and swap disks (the report's entries in that order)."""
    plan = DiskPlan()
    flavor = server.flavor
    base = {"server_id": server.id, "server_name": server.name, "vm": vm, "namespace": ns,
            "project": ctx.project_name(server.project_id)}
    if server.image_id:
        _image_root_disk(ctx, server, vm, ns, disk_bus, target, plan, base)
    else:
        ctx.report.mapped(server, "image", "", "boot from volume: the root disk is the boot volume")
        if flavor.disk_gib:
            ctx.report.approximated(server, "flavor.disk", "", "boot from volume: the volume's own size is used")
    _volume_disks(ctx, server, vm, ns, disk_bus, target, plan, base)
    _scratch_disks(ctx, server, vm, disk_bus, target, plan)
    return plan


def _image_root_disk(ctx, server, vm: str, ns: str, disk_bus: str, target: str, plan: DiskPlan, base: dict) -> None:
    e, options, report = ctx.estate, ctx.options, ctx.report
    flavor = server.flavor
    vt = f"{target} spec.dataVolumeTemplates"
    image = e.images.get(server.image_id)
    size, why = image_root_size(flavor, image)
    values = {**base, "source_kind": "image", "source_id": server.image_id,
              "source_name": image.name if image else server.image_id, "image_id": server.image_id,
              "image_name": image.name if image else server.image_id, "volume_id": "", "volume_name": "",
              "disk": "root"}
    src, how = source(values, options, ns)
    sc, sc_ok = storage_class("glance", ["glance"], options.storage_class_map)
    dv_name = names.dns_label(f"{vm}-root", "root", 253)
    fmt = image.disk_format if image else None
    is_iso = fmt == "iso"
    disk = {"name": "root", "bootOrder": 1}
    disk["cdrom" if is_iso else "disk"] = {"bus": "sata" if is_iso else disk_bus}
    plan.add(disk, {"name": "root", "dataVolume": {"name": dv_name}},
             data_volume(dv_name, src, f"{size}Gi", sc, {"vmmove.io/openstack-image-id": server.image_id}, {}))
    report.mapped(server, "image", f"{vt}[{dv_name}]", f"root disk {how}; {size}Gi from the {why}")
    if flavor.disk_gib:
        report.mapped(server, "flavor.disk", f"{vt}[{dv_name}].spec.storage", f"{flavor.disk_gib}Gi")
    if image is not None and fmt not in CDI_FORMATS:
        report.approximated(server, "image.disk_format", f"{vt}[{dv_name}]",
                            f"{fmt}: CDI imports qcow2, raw, vmdk, vdi, vhd(x) and iso; convert the image first")
    if not sc_ok:
        report.approximated(server, "image", f"{vt}[{dv_name}].spec.storage",
                            "no --storage-class-map glance=CLASS: the cluster's default storage class is used")


def _volume_disks(ctx, server, vm: str, ns: str, disk_bus: str, target: str, plan: DiskPlan, base: dict) -> None:
    """The attached volumes: the boot volume first, then data-1, data-2, ...; multi-attach ones shared."""
    e, report = ctx.estate, ctx.report
    attached = attached_volumes(server, e)
    root_vol = root_volume(server, attached)
    vt = f"{target} spec.dataVolumeTemplates"
    vkey = "volumes_attached" if "volumes_attached" in server.raw else "os-extended-volumes:volumes_attached"
    data_index = 0
    for vol, device in attached:
        is_root = vol is root_vol
        shared = ctx.shared_volume(vol)
        if shared and shared[1] != ns:
            report.dropped(server, f"{vkey}.{vol.id}", f"multi-attach volume {vol.label} lives in namespace "
                                                                 f"{shared[1]}; a VM cannot use a claim of another "
                                                                 "namespace")
            continue
        disk_name = "root" if is_root else f"data-{data_index + 1}"
        if not is_root:
            data_index += 1
        disk: dict = {"name": disk_name, "disk": {"bus": disk_bus}}
        if is_root:
            disk["bootOrder"] = 1
        src_desc = f"volume {vol.label} ({device or 'no device name'})"
        if shared:
            disk["shareable"] = True
            plan.add(disk, {"name": disk_name, "dataVolume": {"name": shared[0]}})
            report.approximated(server, f"{vkey}.{vol.id}", f"{target} spec.template.spec.volumes[{disk_name}]",
                                f"multi-attach {src_desc} -> shared DataVolume {shared[0]} (shareable: true); the "
                                "guests must coordinate writes as they did in OpenStack")
            continue
        dv_name = names.dns_label(f"{vm}-{disk_name}", "disk", 253)
        plan.add(disk, {"name": disk_name, "dataVolume": {"name": dv_name}}, volume_data_volume(ctx, vol, dv_name, ns, {
            **base, "disk": disk_name}))
        report.mapped(server, f"{vkey}.{vol.id}", f"{vt}[{dv_name}]",
                      f"{src_desc} -> disk {disk_name}" + (" (boot disk)" if is_root else ""))
    for vid in server.volume_ids:
        if vid not in e.volumes:
            report.dropped(server, f"{vkey}.{vid}", "the volume is not in the input: no disk for it")
    if server.root_device_name:
        report.ignored(server, "OS-EXT-SRV-ATTR:root_device_name",
                       "the guest's name for its root disk; the boot disk gets boot order 1")


def _scratch_disks(ctx, server, vm: str, disk_bus: str, target: str, plan: DiskPlan) -> None:
    """The flavor's ephemeral disk (a blank DataVolume) and swap (an emptyDisk)."""
    options, report = ctx.options, ctx.report
    flavor = server.flavor
    vt = f"{target} spec.dataVolumeTemplates"
    if flavor.ephemeral_gib > 0:
        dv_name = names.dns_label(f"{vm}-ephemeral", "ephemeral", 253)
        sc, _ = storage_class("glance", ["ephemeral", "glance"], options.storage_class_map)
        plan.add({"name": "ephemeral", "disk": {"bus": disk_bus}}, {"name": "ephemeral", "dataVolume": {"name": dv_name}},
                 data_volume(dv_name, {"blank": {}}, f"{flavor.ephemeral_gib}Gi", sc, {}, {}))
        report.approximated(server, "flavor.ephemeral", f"{vt}[{dv_name}]",
                            f"blank {flavor.ephemeral_gib}Gi DataVolume: Nova formatted the ephemeral disk on the host; "
                            "this one is unformatted (cloud-init disk_setup/fs_setup can format it) and its old "
                            "content is not copied")
    if flavor.swap_mib > 0:
        plan.add({"name": "swap", "disk": {"bus": disk_bus}},
                 {"name": "swap", "emptyDisk": {"capacity": f"{flavor.swap_mib}Mi"}})
        report.approximated(server, "flavor.swap", f"{target} spec.template.spec.volumes[swap].emptyDisk",
                            f"{flavor.swap_mib}Mi blank disk, recreated empty at each start; Nova formatted it as "
                            "swap: run mkswap in the guest (cloud-init `mounts`/`swap`), the fstab entry may name it")


def volume_data_volume(ctx, vol, dv_name: str, ns: str, base: dict) -> dict:
    e, options, report = ctx.estate, ctx.options, ctx.report
    type_keys = [vol.volume_type]
    vt = e.volume_types.get(vol.volume_type or "")
    if vt is not None:
        type_keys.append(vt.name)
    else:
        type_keys.extend(t.id for t in e.volume_types.values() if t.name == vol.volume_type)
    sc, sc_ok = storage_class(vol.volume_type, type_keys, options.storage_class_map)
    values = {**base, "source_kind": "volume", "source_id": vol.id, "source_name": vol.name, "volume_id": vol.id,
              "volume_name": vol.name, "image_id": vol.image_metadata.get("image_id", ""),
              "image_name": vol.image_metadata.get("image_name", "")}
    src, how = source(values, options, ns)
    annotations = {"vmmove.io/openstack-volume-id": vol.id, "vmmove.io/openstack-name": vol.name}
    dv = data_volume(dv_name, src, f"{vol.size_gib}Gi", sc, annotations, {})
    target = f"DataVolume {ns}/{dv_name}"
    if not ctx.volume_reported(vol):
        report.mapped(vol, "size", f"{target} spec.storage.resources.requests.storage", f"{vol.size_gib}Gi")
        report.mapped(vol, "id", target, f"data {how}")
        report.mapped(vol, "name", f"{target} metadata.annotations[vmmove.io/openstack-name]")
        if vol.volume_type:
            if sc_ok:
                report.mapped(vol, "volume_type", f"{target} spec.storage.storageClassName", f"{vol.volume_type} -> {sc}")
            else:
                report.approximated(vol, "volume_type", f"{target} spec.storage",
                                    f"no --storage-class-map {vol.volume_type}=CLASS: the default storage class is used")
                ctx.unmapped_volume_types.add(vol.volume_type)
        report.mapped(vol, "attachments", "", "disk order taken from the device names")
        report.mapped(vol, "bootable", "", "boot order 1 on the boot disk" if vol.bootable else "data disk")
        report.mapped(vol, "multiattach", "", "shared DataVolume" if vol.multiattach else "owned by one VM")
        if vol.status not in (None, "available", "in-use"):
            report.approximated(vol, "status", "", f"volume is {vol.status}; its data may be incomplete")
        for key in sorted(vol.image_metadata):
            report.ignored(vol, f"volume_image_metadata.{key}", "read as the properties of the boot image")
        report.claim(vol, "volume_image_metadata", "volume_type_id", "metadata", "availability_zone", "encrypted")
        if vol.raw.get("encrypted") in (True, "true", "True"):
            report.approximated(vol, "encrypted", "", "Cinder encryption is not carried over; use an encrypted "
                                                      "storage class")
        if vol.raw.get("metadata"):
            report.dropped(vol, "metadata", "volume metadata has no DataVolume equivalent")
        if vol.raw.get("availability_zone"):
            report.ignored(vol, "availability_zone", "storage zone; the storage class decides placement")
    return dv


def standalone_volume(ctx, vol, ns: str, name: str) -> dict:
    dv = volume_data_volume(ctx, vol, name, ns, {"server_id": "", "server_name": "", "vm": "", "namespace": ns,
                                                  "project": ctx.project_name(vol.project_id), "disk": name})
    dv["metadata"]["namespace"] = ns
    return dv

"""Server + flavor + image properties -> the compute part of a KubeVirt VirtualMachine.

Image properties (`hw_*`, `os_*`) and flavor extra specs (`hw:*`) name the same settings with different prefixes
(see glance's metadef catalogues); where both are set, the image wins for CPU topology (as Nova does) and the
stricter of the two wins elsewhere. Every key read is reported on the server, under `image.properties.<key>` or
`flavor.extra_specs.<key>`, and keys nobody reads are reported as dropped by `Settings.finish`.
"""

import json
import re
from typing import Dict, Optional, Set, Tuple

from ..report import APPROXIMATED, DROPPED, IGNORED, MAPPED
from . import names

# Image properties that only describe how the image was made or stored.
IMAGE_BOOKKEEPING = re.compile(
    r"^(image_type|base_image_ref|image_location|image_state|instance_uuid|instance_type_.*|owner_.*|user_id|"
    r"boot_roles|clean_attempts|bdm_v2|block_device_mapping|root_device_name|stores|os_glance_.*|"
    r"image_id|image_name|container_format|disk_format|checksum|size|min_disk|min_ram|signature_verified|"
    r"kernel_id|ramdisk_id|cache_in_nova|flavor_classes|description|com\..*|org\.openstack__1__.*)$")

DISK_BUSES = {"virtio": "virtio", "scsi": "scsi", "sata": "sata", "usb": "usb"}
NIC_MODELS = {"virtio", "e1000", "e1000e", "igb", "ne2k_pci", "pcnet", "rtl8139"}
VIDEO_TYPES = {"virtio", "vga", "bochs", "ramfb", "cirrus"}
WINDOWS_HYPERV = {
    "relaxed": {}, "vapic": {}, "spinlocks": {"spinlocks": 8191}, "vpindex": {}, "runtime": {}, "synic": {},
    "synictimer": {"enabled": True}, "reset": {}, "frequencies": {}, "reenlightenment": {}, "tlbflush": {},
    "ipi": {},
}
ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "x64": "amd64", "aarch64": "arm64", "arm64": "arm64",
                 "s390x": "s390x"}


class Settings:
    """Image properties and flavor extra specs of one server, with a record of which were reported."""

    def __init__(self, server, image_props: Dict[str, str], extra_specs: Dict[str, str], report, image_field="image"):
        self.server = server
        self.image_props = image_props
        self.extra_specs = extra_specs
        self.report = report
        self.image_field = image_field
        self.done: Set[str] = set()

    def image(self, key: str) -> Optional[str]:
        v = self.image_props.get(key)
        return None if v in (None, "") else str(v)

    def flavor(self, key: str) -> Optional[str]:
        v = self.extra_specs.get(key)
        return None if v in (None, "") else str(v)

    def hw(self, name: str, image_first: bool = True) -> Tuple[Optional[str], Optional[str]]:
        """(value, source field) of a setting that exists as image `hw_<name>` and flavor `hw:<name>`."""
        img, flv = self.image("hw_" + name), self.flavor("hw:" + name)
        if img is not None and (image_first or flv is None):
            return img, self.field_of("hw_" + name, image=True)
        if flv is not None:
            return flv, self.field_of("hw:" + name, image=False)
        return None, None

    def field_of(self, key: str, image: bool) -> str:
        return f"{self.image_field}.properties.{key}" if image else f"flavor.extra_specs.{key}"

    def note(self, field: Optional[str], status: str, target: str = "", reason: str = "") -> None:
        if field is None or field in self.done:
            return
        self.done.add(field)
        self.report.add(self.server, field, status, target, reason)

    def note_key(self, key: str, status: str, target: str = "", reason: str = "", image: Optional[bool] = None):
        """Report a setting wherever it is set: image `hw_x` and/or flavor `hw:x` (other keys are the same)."""
        flavor_key = "hw:" + key[3:] if key.startswith("hw_") else key
        if image in (None, True) and key in self.image_props:
            self.note(self.field_of(key, True), status, target, reason)
        if image in (None, False) and flavor_key in self.extra_specs:
            self.note(self.field_of(flavor_key, False), status, target, reason)

    def finish(self, target: str) -> None:
        for key in sorted(self.image_props):
            field = self.field_of(key, True)
            if field in self.done:
                continue
            if IMAGE_BOOKKEEPING.match(key):
                self.note(field, IGNORED, "", "image bookkeeping")
            else:
                self.note(field, DROPPED, "", "no KubeVirt equivalent in this converter")
        for key in sorted(self.extra_specs):
            field = self.field_of(key, False)
            if field in self.done:
                continue
            if key.startswith("quota:"):
                reason = "KubeVirt has no per-VM CPU, disk or network QoS; use a LimitRange or storage QoS"
            elif key.startswith(("capabilities:", "aggregate_instance_extra_specs:", "trait:")):
                reason = "host scheduling hint; express it with nodeSelector or affinity by hand"
            elif key.startswith("hw:numa_") or key == "hw:numa_nodes":
                reason = "guest NUMA layout: KubeVirt only passes the host layout through (dedicated CPUs + hugepages)"
            elif key.startswith("resources:"):
                reason = "placement resource request; map the device with --pci-alias-map NAME=RESOURCE"
            else:
                reason = "no KubeVirt equivalent in this converter"
            self.note(field, DROPPED, "", reason)


def run_strategy(server, override: Optional[str], report, target: str) -> str:
    path = f"{target} spec.runStrategy"
    if override:
        report.mapped(server, "status", path, f"--run-strategy {override} (server was {server.status or 'unknown'})")
        return override
    status = server.status or ""
    if status == "ACTIVE":
        report.mapped(server, "status", path, "ACTIVE -> Always")
        return "Always"
    if status in ("SHUTOFF", "STOPPED"):
        report.mapped(server, "status", path, f"{status} -> Halted")
        return "Halted"
    report.approximated(server, "status", path, f"{status or 'no status'} has no run strategy; created Halted "
                                                 "(use --run-strategy to choose)")
    return "Halted"


def cpu_topology(vcpus: int, s: Settings, report, target: str) -> Dict[str, int]:
    """sockets/cores/threads: image hw_cpu_* over flavor hw:cpu_*; the product must equal the vCPU count."""
    got = {}
    for part in ("sockets", "cores", "threads"):
        value, field = s.hw("cpu_" + part, image_first=True)
        if value is not None:
            other_field = s.field_of("hw:cpu_" + part, False) if (field or "").startswith(s.image_field) else None
            if other_field and s.flavor("hw:cpu_" + part) is not None:
                s.note(other_field, APPROXIMATED, f"{target} spec.template.spec.domain.cpu.{part}",
                       "the image property of the same name wins, as in Nova")
            got[part] = (int(value) if str(value).isdigit() else 0, field)
    sockets = got.get("sockets", (0, None))[0]
    cores = got.get("cores", (0, None))[0]
    threads = got.get("threads", (0, None))[0] or 1
    if sockets and not cores:
        cores = max(1, vcpus // (sockets * threads))
    elif cores and not sockets:
        sockets = max(1, vcpus // (cores * threads))
    elif not sockets and not cores:
        sockets, cores = vcpus // threads or 1, 1
    exact = sockets * cores * threads == vcpus
    fields = [f for _, f in got.values()]
    path = f"{target} spec.template.spec.domain.cpu"
    if not exact:
        for f in fields:
            s.note(f, APPROXIMATED, path, f"topology {sockets}x{cores}x{threads} does not give {vcpus} vCPUs; "
                                          f"used {vcpus} sockets")
        sockets, cores, threads = vcpus, 1, 1
    else:
        for f in fields:
            s.note(f, MAPPED, path)
    for part in ("max_sockets", "max_cores", "max_threads"):
        s.note_key("hw_cpu_" + part, DROPPED, "", "a bound on the topology Nova may pick; the topology is fixed here")
    return {"sockets": sockets, "cores": cores, "threads": threads}


def hugepage_size(value: str) -> Tuple[Optional[str], str]:
    v = value.strip().lower()
    if v in ("small", "4", "4k", "4kb", "any"):
        return None, APPROXIMATED if v == "any" else MAPPED
    if v in ("large", "2048", "2m", "2mb", "2mib"):
        return "2Mi", MAPPED if v != "large" else APPROXIMATED
    if v in ("1048576", "1g", "1gb", "1gib"):
        return "1Gi", MAPPED
    return None, DROPPED


def compute(server, flavor, s: Settings, options, report, target: str) -> dict:
    """The domain (minus disks and interfaces) and template-level settings. Returns a dict of parts:
    {"domain": {...}, "architecture": str|None, "disk_bus": str, "nic_model": str|None, "windows": bool}.
    Each step files its fields in the report in this order."""
    t = f"{target} spec.template.spec.domain"
    domain: dict = {"devices": {}}
    devices = domain["devices"]
    cpu: dict = {}
    memory: dict = {}
    features: dict = {}

    report.mapped(server, "flavor.vcpus", f"{t}.cpu", f"{flavor.vcpus} vCPUs")
    cpu.update(cpu_topology(flavor.vcpus, s, report, target))
    report.mapped(server, "flavor.ram", f"{t}.memory.guest", f"{flavor.ram_mib} MiB")
    memory["guest"] = f"{max(flavor.ram_mib, 1)}Mi"
    _cpu_pinning(s, t, cpu)
    _memory_pages(s, t, cpu, memory)
    domain["firmware"] = _firmware(server, s, report, t, features)
    _machine(s, t, domain)
    disk_bus = _disk_bus(s, t)
    nic_model = _nic_model(s, t)
    _video_and_pointer(s, t, devices)
    _rng(s, t, devices)
    _multiqueue_and_agent(s, t, devices)
    _tpm(s, t, devices)
    _watchdog(s, t, devices)
    windows = _guest_os(s, t, target, domain, features)
    architecture = _architecture(s, target)
    if s.image("auto_disk_config") is not None:
        s.note(s.field_of("auto_disk_config", True), APPROXIMATED, "",
               "KubeVirt does not resize partitions; cloud-init growpart does it on boot for most Linux images")

    if cpu:
        domain["cpu"] = cpu
    domain["memory"] = memory
    if features:
        domain["features"] = features
    return {"domain": domain, "architecture": architecture, "disk_bus": disk_bus, "nic_model": nic_model,
            "windows": windows}


def _cpu_pinning(s: Settings, t: str, cpu: dict) -> None:
    """hw:cpu_policy, hw:cpu_thread_policy, hw:emulator_threads_policy."""
    policy, field = s.hw("cpu_policy", image_first=False)
    if policy is not None:
        if policy == "dedicated":
            cpu["dedicatedCpuPlacement"] = True
            s.note(field, MAPPED, f"{t}.cpu.dedicatedCpuPlacement")
        else:
            s.note(field, MAPPED, "", f"{policy}: KubeVirt shares CPUs by default")
        s.note_key("hw_cpu_policy", MAPPED, f"{t}.cpu", "flavor and image agree or the flavor wins")
    thread_policy, field = s.hw("cpu_thread_policy", image_first=False)
    if thread_policy is not None:
        s.note(field, APPROXIMATED if thread_policy == "prefer" else DROPPED, "",
               "KubeVirt cannot ask for or avoid SMT siblings; the CPU manager decides")
        s.note_key("hw_cpu_thread_policy", DROPPED, "", "as above")
    emulator = s.flavor("hw:emulator_threads_policy")
    if emulator is not None:
        if cpu.get("dedicatedCpuPlacement"):
            cpu["isolateEmulatorThread"] = True
            s.note(s.field_of("hw:emulator_threads_policy", False), MAPPED if emulator == "isolate" else APPROXIMATED,
                   f"{t}.cpu.isolateEmulatorThread", "" if emulator == "isolate" else f"{emulator} -> isolate")
        else:
            s.note(s.field_of("hw:emulator_threads_policy", False), DROPPED, "",
                   "needs dedicated CPUs (hw:cpu_policy=dedicated)")


def _memory_pages(s: Settings, t: str, cpu: dict, memory: dict) -> None:
    """hw:mem_page_size, and hw:numa_nodes where CPUs are dedicated and pages huge."""
    page, field = s.hw("mem_page_size", image_first=False)
    if page is not None:
        size, status = hugepage_size(page)
        if size:
            memory["hugepages"] = {"pageSize": size}
        s.note(field, status, f"{t}.memory.hugepages" if size else "",
               {"mapped": "", "approximated": f"{page}: KubeVirt needs an explicit size; "
                                              + ("used 2Mi" if size else "used normal pages"),
                "dropped": f"unknown page size {page!r}"}[status])
        s.note_key("hw_mem_page_size", status, f"{t}.memory.hugepages", "flavor wins over image")

    numa, field = s.hw("numa_nodes", image_first=False)
    if numa is not None and cpu.get("dedicatedCpuPlacement") and memory.get("hugepages"):
        cpu["numa"] = {"guestMappingPassthrough": {}}
        s.note(field, APPROXIMATED, f"{t}.cpu.numa.guestMappingPassthrough",
               f"{numa} guest NUMA nodes: KubeVirt gives the guest the host NUMA layout of its pinned CPUs instead")
        s.note_key("hw_numa_nodes", APPROXIMATED, f"{t}.cpu.numa.guestMappingPassthrough", "flavor wins over image")


def _firmware(server, s: Settings, report, t: str, features: dict) -> dict:
    """EFI or BIOS, secure boot (SMM feature), and the server id as the firmware UUID."""
    firmware: dict = {}
    fw_type = s.image("hw_firmware_type")
    secure = s.image("os_secure_boot") or s.flavor("os:secure_boot")
    if fw_type == "uefi":
        efi: dict = {"secureBoot": secure == "required"}
        firmware["bootloader"] = {"efi": efi}
        s.note(s.field_of("hw_firmware_type", True), MAPPED, f"{t}.firmware.bootloader.efi")
        if s.image("hw_firmware_stateless") is not None:
            stateless = (s.image("hw_firmware_stateless") or "").lower() == "true"
            efi["persistent"] = not stateless
            s.note(s.field_of("hw_firmware_stateless", True), MAPPED, f"{t}.firmware.bootloader.efi.persistent",
                   "persistent EFI needs the VMPersistentState feature gate and a backend storage class"
                   if not stateless else "")
    elif fw_type is not None:
        s.note(s.field_of("hw_firmware_type", True), MAPPED, "", "bios is KubeVirt's default")
    if secure is not None:
        on = secure == "required" and fw_type == "uefi"
        if on:
            features["smm"] = {"enabled": True}
        status = MAPPED if on or secure == "disabled" else (APPROXIMATED if secure == "optional" else DROPPED)
        reason = {MAPPED: "secure boot with SMM" if on else "secure boot off",
                  APPROXIMATED: "optional -> off", DROPPED: "secure boot needs hw_firmware_type=uefi"}[status]
        s.note_key("os_secure_boot", status, f"{t}.firmware.bootloader.efi.secureBoot", reason, image=True)
        s.note(s.field_of("os:secure_boot", False), status, f"{t}.firmware.bootloader.efi.secureBoot", reason)
    uuid = server.id
    if re.match(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", uuid):
        firmware["uuid"] = uuid.lower()
        report.mapped(server, "id", f"{t}.firmware.uuid", "keeps cloud-init's instance-id and the SMBIOS UUID")
    else:
        report.dropped(server, "id", f"{uuid!r} is not a UUID, so it cannot be the firmware UUID")
    return firmware


def _machine(s: Settings, t: str, domain: dict) -> None:
    machine = s.image("hw_machine_type")
    if machine is not None:
        if "q35" in machine:
            domain["machine"] = {"type": machine}
            s.note(s.field_of("hw_machine_type", True), MAPPED, f"{t}.machine.type")
        else:
            s.note(s.field_of("hw_machine_type", True), APPROXIMATED, "",
                   f"{machine}: KubeVirt runs q35 machines only; the cluster default q35 type is used")


def _disk_bus(s: Settings, t: str) -> str:
    """hw_disk_bus (virtio unless the image says), hw_scsi_model, hw_cdrom_bus."""
    bus_value = s.image("hw_disk_bus")
    disk_bus = "virtio"
    if bus_value is not None:
        f = s.field_of("hw_disk_bus", True)
        if bus_value in DISK_BUSES:
            disk_bus = DISK_BUSES[bus_value]
            s.note(f, MAPPED, f"{t}.devices.disks[].disk.bus")
        elif bus_value == "ide":
            disk_bus = "sata"
            s.note(f, APPROXIMATED, f"{t}.devices.disks[].disk.bus", "ide -> sata (q35 has no IDE controller)")
        else:
            s.note(f, APPROXIMATED, f"{t}.devices.disks[].disk.bus", f"{bus_value} -> virtio: KubeVirt has no such bus")
    scsi = s.image("hw_scsi_model")
    if scsi is not None:
        s.note(s.field_of("hw_scsi_model", True), MAPPED if scsi == "virtio-scsi" else APPROXIMATED, "",
               "KubeVirt's scsi bus is virtio-scsi" if scsi != "virtio-scsi" else "")
    if s.image("hw_cdrom_bus") is not None:
        s.note(s.field_of("hw_cdrom_bus", True), DROPPED, "", "no CD-ROM is created for a disk image")
    return disk_bus


def _nic_model(s: Settings, t: str) -> Optional[str]:
    nic_model = None
    vif = s.image("hw_vif_model")
    if vif is not None:
        f = s.field_of("hw_vif_model", True)
        if vif in NIC_MODELS:
            nic_model = vif
            s.note(f, MAPPED, f"{t}.devices.interfaces[].model")
        else:
            nic_model = "virtio"
            s.note(f, APPROXIMATED, f"{t}.devices.interfaces[].model", f"{vif} -> virtio: KubeVirt has no such model")
    return nic_model


def _video_and_pointer(s: Settings, t: str, devices: dict) -> None:
    video = s.image("hw_video_model")
    if video is not None:
        f = s.field_of("hw_video_model", True)
        if video == "none":
            devices["autoattachGraphicsDevice"] = False
            s.note(f, MAPPED, f"{t}.devices.autoattachGraphicsDevice")
        elif video == "vga":
            s.note(f, MAPPED, "", "VGA is KubeVirt's default for BIOS guests")
        elif video in VIDEO_TYPES:
            devices["video"] = {"type": video}
            s.note(f, MAPPED, f"{t}.devices.video.type", "needs the VideoConfig feature gate")
        else:
            s.note(f, APPROXIMATED, "", f"{video}: not offered by KubeVirt; the default adapter is used")
    if s.image("hw_video_ram") is not None:
        s.note(s.field_of("hw_video_ram", True), DROPPED, "", "KubeVirt sizes video memory itself")

    pointer = s.image("hw_pointer_model")
    if pointer is not None:
        if pointer == "usbtablet":
            devices["inputs"] = [{"bus": "usb", "name": "tablet", "type": "tablet"}]
            s.note(s.field_of("hw_pointer_model", True), MAPPED, f"{t}.devices.inputs")
        else:
            s.note(s.field_of("hw_pointer_model", True), DROPPED, "", f"unknown pointer model {pointer!r}")


def _rng(s: Settings, t: str, devices: dict) -> None:
    rng_model = s.image("hw_rng_model")
    allowed = s.flavor("hw_rng:allowed")
    if rng_model is not None:
        if allowed is not None and allowed.lower() == "false":
            s.note(s.field_of("hw_rng_model", True), DROPPED, "", "the flavor forbids an RNG (hw_rng:allowed=False)")
        else:
            devices["rng"] = {}
            s.note(s.field_of("hw_rng_model", True), MAPPED, f"{t}.devices.rng",
                   "" if rng_model == "virtio" else f"{rng_model} -> virtio-rng")
    if allowed is not None:
        s.note(s.field_of("hw_rng:allowed", False), MAPPED, f"{t}.devices.rng", "permission only; the image asks")
    for key in ("hw_rng:rate_bytes", "hw_rng:rate_period"):
        if s.flavor(key) is not None:
            s.note(s.field_of(key, False), DROPPED, "", "KubeVirt does not rate-limit the RNG")


def _multiqueue_and_agent(s: Settings, t: str, devices: dict) -> None:
    mq, field = s.hw("vif_multiqueue_enabled", image_first=True)
    if mq is not None:
        if mq.lower() == "true":
            devices["networkInterfaceMultiqueue"] = True
        s.note(field, MAPPED, f"{t}.devices.networkInterfaceMultiqueue")
        s.note_key("hw_vif_multiqueue_enabled", MAPPED, f"{t}.devices.networkInterfaceMultiqueue")

    agent = s.image("hw_qemu_guest_agent")
    if agent is not None:
        s.note(s.field_of("hw_qemu_guest_agent", True), MAPPED, "",
               "KubeVirt always adds the guest agent channel")


def _tpm(s: Settings, t: str, devices: dict) -> None:
    tpm, field = s.hw("tpm_version", image_first=False)
    if tpm is not None:
        devices["tpm"] = {"persistent": True}
        s.note(field, MAPPED if tpm == "2.0" else APPROXIMATED, f"{t}.devices.tpm",
               "persistent TPM 2.0 (needs the VMPersistentState feature gate); BitLocker and measured boot keep "
               "their keys across reboots, but the TPM state from OpenStack is not carried over"
               + ("" if tpm == "2.0" else f"; version {tpm} -> 2.0"))
        s.note_key("hw_tpm_version", MAPPED, f"{t}.devices.tpm")
    tpm_model, field = s.hw("tpm_model", image_first=False)
    if tpm_model is not None:
        s.note(field, APPROXIMATED, f"{t}.devices.tpm", f"{tpm_model}: KubeVirt picks the TPM model itself")
        s.note_key("hw_tpm_model", APPROXIMATED, f"{t}.devices.tpm", "as above")


def _watchdog(s: Settings, t: str, devices: dict) -> None:
    watchdog, field = s.hw("watchdog_action", image_first=True)
    if watchdog is not None:
        action = {"reset": "reset", "poweroff": "poweroff", "shutdown": "shutdown"}.get(watchdog)
        if action:
            devices["watchdog"] = {"name": "watchdog", "i6300esb": {"action": action}}
            s.note(field, MAPPED, f"{t}.devices.watchdog")
        else:
            s.note(field, DROPPED, "", f"watchdog action {watchdog!r} has no KubeVirt equivalent")
        s.note_key("hw_watchdog_action", MAPPED if action else DROPPED, f"{t}.devices.watchdog", "")


def _guest_os(s: Settings, t: str, target: str, domain: dict, features: dict) -> bool:
    """Hidden hypervisor id, os_type (Windows enlightenments and clock), OS annotations; True for Windows."""
    hide = s.image("img_hide_hypervisor_id") or s.flavor("hw:hide_hypervisor_id")
    if hide is not None:
        if hide.lower() in ("yes", "true"):
            features["kvm"] = {"hidden": True}
        s.note_key("img_hide_hypervisor_id", MAPPED, f"{t}.features.kvm.hidden", image=True)
        s.note(s.field_of("hw:hide_hypervisor_id", False), MAPPED, f"{t}.features.kvm.hidden")

    os_type = (s.image("os_type") or "").lower()
    windows = os_type == "windows"
    if os_type:
        f = s.field_of("os_type", True)
        if windows:
            features["hyperv"] = json.loads(json.dumps(WINDOWS_HYPERV))
            features.setdefault("acpi", {})
            features.setdefault("apic", {})
            domain["clock"] = {"utc": {}, "timer": {"hpet": {"present": False}, "hyperv": {}, "pit": {
                "tickPolicy": "delay"}, "rtc": {"tickPolicy": "catchup"}}}
            s.note(f, APPROXIMATED, f"{t}.features.hyperv, {t}.clock",
                   "Hyper-V enlightenments added; Nova gave Windows a localtime RTC, KubeVirt's clock is UTC here: "
                   "set spec.template.spec.domain.clock.timezone to the guest's zone or RealTimeIsUniversal=1")
        else:
            s.note(f, MAPPED, "", f"{os_type}: no settings needed")
    for key in ("os_distro", "os_version", "os_admin_user"):
        if s.image(key) is not None:
            s.note(s.field_of(key, True), MAPPED, f"{target} metadata.annotations",
                   "kept as an annotation" if key != "os_admin_user" else "informational")
    return windows


def _architecture(s: Settings, target: str) -> Optional[str]:
    arch = s.image("architecture") or s.image("hw_architecture")
    architecture = None
    if arch is not None:
        architecture = ARCHITECTURES.get(arch.lower())
        for key in ("architecture", "hw_architecture"):
            if s.image(key) is not None:
                s.note(s.field_of(key, True), MAPPED if architecture else DROPPED,
                       f"{target} spec.template.spec.architecture" if architecture else "",
                       "" if architecture else f"{arch}: KubeVirt runs amd64, arm64 and s390x guests")
    return architecture


def host_devices(s: Settings, alias_map: Dict[str, str], target: str) -> list:
    """`pci_passthrough:alias = GPU:1,NIC:2` and `resources:VGPU=1` to hostDevices/gpus through --pci-alias-map."""
    out = []
    spec = s.flavor("pci_passthrough:alias")
    field = s.field_of("pci_passthrough:alias", False)
    if spec is not None:
        missing = []
        for item in spec.split(","):
            alias, _, count = item.strip().partition(":")
            resource = alias_map.get(alias)
            if resource is None:
                missing.append(alias)
                continue
            for i in range(max(1, int(count) if count.isdigit() else 1)):
                out.append({"deviceName": resource, "name": names.dns_label(f"{alias}-{i}")})
        if missing:
            s.note(field, DROPPED, "", f"PCI alias {', '.join(missing)}: give its KubeVirt permittedHostDevices "
                                       f"resource with --pci-alias-map {missing[0]}=vendor.com/DEVICE")
        else:
            s.note(field, MAPPED, f"{target} spec.template.spec.domain.devices.hostDevices")
    for key in sorted(s.extra_specs):
        if key.startswith("resources:") and key[len("resources:"):] in alias_map:
            name = key[len("resources:"):]
            for i in range(max(1, int(s.extra_specs[key]) if str(s.extra_specs[key]).isdigit() else 1)):
                out.append({"deviceName": alias_map[name], "name": names.dns_label(f"{name}-{i}")})
            s.note(s.field_of(key, False), MAPPED, f"{target} spec.template.spec.domain.devices.hostDevices")
    return out


def metadata_labels(server, report, target: str) -> Tuple[dict, dict]:
    """Server metadata and tags -> labels (sanitised) and annotations (originals)."""
    labels, annotations = {}, {}
    for key in sorted(server.metadata):
        value = server.metadata[key]
        lkey = "metadata.openstack.vmmove.io/" + names.label_name(key)
        lvalue = names.label_value(value)
        labels[lkey] = lvalue
        exact = names.label_name(key) == key and lvalue == value
        report.add(server, f"metadata.{key}", MAPPED if exact else APPROXIMATED, f"{target} metadata.labels[{lkey}]",
                   "" if exact else "sanitised to label syntax; the original is in annotation "
                                    "vmmove.io/openstack-metadata")
    if server.metadata:
        annotations["vmmove.io/openstack-metadata"] = json.dumps(server.metadata, sort_keys=True)
    for tag in server.tags:
        lkey = "tag.openstack.vmmove.io/" + names.label_name(tag)
        labels[lkey] = "true"
        exact = names.label_name(tag) == tag
        report.add(server, f"tags.{tag}", MAPPED if exact else APPROXIMATED, f"{target} metadata.labels[{lkey}]",
                   "" if exact else "sanitised to label syntax; the original is in annotation vmmove.io/openstack-tags")
    if server.tags:
        annotations["vmmove.io/openstack-tags"] = json.dumps(server.tags)
    if server.description:
        annotations["vmmove.io/openstack-description"] = server.description
        report.mapped(server, "description", f"{target} metadata.annotations[vmmove.io/openstack-description]")
    return labels, annotations

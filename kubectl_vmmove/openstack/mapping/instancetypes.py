"""`--instancetypes`: flavors -> VirtualMachineInstancetype, image settings -> VirtualMachinePreference.

The VM is first built with inline values (so both modes share one mapping), then split: CPU count, dedicated CPUs,
memory and hugepages move into an instancetype named after the flavor; disk bus, NIC model, firmware, features,
clock, machine type and devices move into a preference named after the image. The VM keeps only what is its own
(disks, interfaces, MACs, firmware UUID, volumes). KubeVirt rejects a VM that sets what its instancetype sets, and
preferences only fill what the VM leaves empty, so the split removes the inline copies.

Both kinds are namespaced (instancetype.kubevirt.io/v1beta1). Names are the flavor or image name; when two
different specs want the same name in one namespace, the later gets a hash of its content.
"""

import copy
import json
from typing import Dict, Tuple

from . import names

API = "instancetype.kubevirt.io/v1beta1"


def topology_preference(cpu: dict) -> Tuple[str, bool]:
    s, c, t = cpu.get("sockets", 1), cpu.get("cores", 1), cpu.get("threads", 1)
    if c == 1 and t == 1:
        return "sockets", True
    if s == 1 and t == 1:
        return "cores", True
    if s == 1 and c == 1:
        return "threads", True
    return "spread", False


def split(domain: dict) -> Tuple[dict, dict, dict, bool]:
    """(instancetype spec, preference spec, VM domain left, exact topology?) from an inline domain."""
    domain = copy.deepcopy(domain)
    cpu = domain.pop("cpu", {})
    memory = domain.pop("memory", {})
    instancetype = _instancetype_spec(cpu, memory)

    pref: dict = {}
    topo, exact = topology_preference(cpu)
    pref["cpu"] = {"preferredCPUTopology": topo}
    pdev = _device_preferences(domain.get("devices", {}))
    if pdev:
        pref["devices"] = pdev
    features = domain.pop("features", None)
    if features:
        pref["features"] = {"preferred" + k[0].upper() + k[1:]: v for k, v in features.items()}
    firmware = domain.get("firmware", {})
    efi = firmware.get("bootloader", {}).get("efi")
    if efi is not None:
        pref["firmware"] = {"preferredEfi": efi}
        firmware.pop("bootloader")
    clock = domain.pop("clock", None)
    if clock:
        pc = {}
        if "utc" in clock:
            pc["preferredClockOffset"] = {"utc": clock["utc"]}
        if "timer" in clock:
            pc["preferredTimer"] = clock["timer"]
        pref["clock"] = pc
    machine = domain.pop("machine", None)
    if machine:
        pref["machine"] = {"preferredMachineType": machine["type"]}
    return instancetype, pref, domain, exact


def _instancetype_spec(cpu: dict, memory: dict) -> dict:
    """Guest CPUs (sockets x cores x threads), pinning, NUMA, memory and hugepages."""
    it_cpu = {"guest": cpu.get("sockets", 1) * cpu.get("cores", 1) * cpu.get("threads", 1)}
    if cpu.get("dedicatedCpuPlacement"):
        it_cpu["dedicatedCPUPlacement"] = True
    if cpu.get("isolateEmulatorThread"):
        it_cpu["isolateEmulatorThread"] = True
    if cpu.get("numa"):
        it_cpu["numa"] = cpu["numa"]
    it_memory = {"guest": memory.get("guest", "1Gi")}
    if memory.get("hugepages"):
        it_memory["hugepages"] = memory["hugepages"]
    return {"cpu": it_cpu, "memory": it_memory}


def _device_preferences(devices: dict) -> dict:
    """Preferred disk bus, NIC model, TPM, RNG, graphics, multiqueue and input, taken out of `devices`."""
    pdev: dict = {}
    buses = {d["disk"]["bus"] for d in devices.get("disks", []) if "disk" in d and d["disk"].get("bus")}
    buses.discard(None)
    data_buses = {d["disk"]["bus"] for d in devices.get("disks", []) if "disk" in d and d["name"] != "cloudinit"}
    if len(data_buses) == 1:
        pdev["preferredDiskBus"] = data_buses.pop()
        for d in devices.get("disks", []):
            if "disk" in d and d["name"] != "cloudinit":
                d["disk"] = {}
    models = {i.get("model") for i in devices.get("interfaces", [])}
    if len(models) == 1 and None not in models:
        pdev["preferredInterfaceModel"] = models.pop()
        for i in devices.get("interfaces", []):
            i.pop("model", None)
    if "tpm" in devices:
        pdev["preferredTPM"] = devices.pop("tpm")
    if "rng" in devices:
        pdev["preferredRng"] = devices.pop("rng")
    if devices.get("autoattachGraphicsDevice") is False:
        pdev["preferredAutoattachGraphicsDevice"] = devices.pop("autoattachGraphicsDevice")
    if devices.get("networkInterfaceMultiqueue"):
        pdev["preferredNetworkInterfaceMultiQueue"] = devices.pop("networkInterfaceMultiqueue")
    inputs = devices.get("inputs")
    if inputs and len(inputs) == 1:
        pdev["preferredInputBus"] = inputs[0]["bus"]
        pdev["preferredInputType"] = inputs[0]["type"]
    return pdev


class Catalogue:
    """Instancetypes and preferences per namespace, named by source, deduplicated by content."""

    def __init__(self):
        self.objects: Dict[Tuple[str, str, str], dict] = {}  # (kind, ns, name) -> object
        self.by_content: Dict[Tuple[str, str, str], str] = {}  # (kind, ns, spec json) -> name

    def add(self, kind: str, ns: str, wanted: str, spec: dict, source: str, labels: dict) -> str:
        content = json.dumps(spec, sort_keys=True)
        key = (kind, ns, content)
        if key in self.by_content:
            return self.by_content[key]
        name = names.dns_label(wanted, kind.lower(), 253)
        if (kind, ns, name) in self.objects:
            name = names.dns_label(f"{name}-{names.short_hash(content)}", kind.lower(), 253)
        self.by_content[key] = name
        self.objects[(kind, ns, name)] = {
            "apiVersion": API, "kind": kind,
            "metadata": {"name": name, "namespace": ns, "labels": dict(labels),
                         "annotations": {"vmmove.io/openstack-source": source}},
            "spec": spec}
        return name

    def all(self):
        return [self.objects[k] for k in sorted(self.objects)]

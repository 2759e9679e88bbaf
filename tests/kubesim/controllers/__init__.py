"""The domain controllers kubesim plays: storage (PV binder + CSI provisioner), KubeVirt (virt-api webhooks, VM
and VMI controllers, start/stop/restart), CDI (webhooks, StorageProfiles, DataVolumes, clones, ObjectTransfer)
and KubeMacPool.

    install_controllers(sim)           # done by KubeSim() itself
    ctrls = controllers_of(sim)        # to tune them: ctrls.cdi.rates.host_copy_bytes_per_second = 2 ** 30
"""

import dataclasses
import random

from . import vm_lifecycle
from .cdi import CDIController, CloneRates, cdi_objects, cdi_status
from .cdi_admission import CDIAdmission
from .kubemacpool import KubeMacPool
from .kubevirt import VirtualMachineController, kubevirt_objects, kubevirt_status
from .migration import MigrationController, MigrationRates
from .storage import StorageController, default_storage_objects, node_objects
from .transfer import ObjectTransferController
from .vmi import VMIController

__all__ = ["install_controllers", "controllers_of", "Controllers", "CloneRates", "MigrationRates"]


@dataclasses.dataclass
class Controllers:
    storage: StorageController
    kubevirt: VirtualMachineController = None
    vmi: VMIController = None
    cdi: CDIController = None
    cdi_admission: CDIAdmission = None
    transfer: ObjectTransferController = None
    kubemacpool: KubeMacPool = None
    migration: MigrationController = None


def _rng(sim, name):
    return random.Random(f"{getattr(sim, 'seed', 0)}:{name}")


def _seed(sim, objs):
    """Create what an installed cluster already has, skipping kinds this sim does not serve."""
    created = []
    for obj in objs:
        t = sim.registry.by_api_version_kind(obj["apiVersion"], obj["kind"])
        if t is None:
            continue
        meta = obj["metadata"]
        if sim.store.peek(t.key, meta.get("namespace"), meta["name"]) is None:
            if t.key == "namespaces":   # through the API server's defaulting: status.phase Active, the name label
                created.append(sim.pipeline.create(t, None, obj)[0])
            else:
                created.append(sim.internal.create(obj))
    return created


def _set_status(sim, resource, namespace, name, status):
    obj = sim.store.get(resource, namespace, name)
    if obj is not None and obj.get("status") != status:
        sim.internal.update({**obj, "status": status}, subresource="status")


def install_controllers(sim):
    """Seed the cluster-level objects and register every controller and subresource with ``sim``."""
    served = {t.group for t in sim.registry.types}
    storage = StorageController(sim)
    ctrls = Controllers(storage=storage)
    _seed(sim, default_storage_objects())
    _seed(sim, node_objects())
    sim.add_controller(storage)

    if "kubevirt.io" in served:
        _seed(sim, kubevirt_objects())
        _set_status(sim, "kubevirts.kubevirt.io", "kubevirt", "kubevirt", kubevirt_status())
        ctrls.kubevirt = VirtualMachineController(sim, _rng(sim, "kubevirt"))
        ctrls.kubevirt.storage = storage
        ctrls.vmi = VMIController(sim, _rng(sim, "vmi"), storage)
        ctrls.migration = MigrationController(sim, storage)
        sim.add_controller(ctrls.kubevirt)
        sim.add_controller(ctrls.vmi)
        sim.add_controller(ctrls.migration)
        if "subresources.kubevirt.io" in served:
            vm_lifecycle.register(sim)

    if "cdi.kubevirt.io" in served:
        _seed(sim, cdi_objects())
        _set_status(sim, "cdis.cdi.kubevirt.io", None, "cdi", cdi_status())
        ctrls.cdi_admission = CDIAdmission(sim, _rng(sim, "cdi-webhook"))
        ctrls.cdi = CDIController(sim, _rng(sim, "cdi"), storage)
        sim.add_controller(ctrls.cdi_admission)
        sim.add_controller(ctrls.cdi)
        if any(t.key == "objecttransfers.cdi.kubevirt.io" for t in sim.registry.types):
            ctrls.transfer = ObjectTransferController(sim, storage)
            sim.add_controller(ctrls.transfer)
        ctrls.cdi.sync_profiles()

    mode = getattr(sim, "kubemacpool", None)
    if mode and "kubevirt.io" in served:
        ctrls.kubemacpool = KubeMacPool(sim, mode=mode)
        sim.add_controller(ctrls.kubemacpool)

    active = [c for c in (storage, ctrls.kubevirt, ctrls.vmi, ctrls.migration, ctrls.cdi, ctrls.transfer, ctrls.kubemacpool) if c]

    def fan_out(etype, rkey, obj):
        # One subscription for all: the store hands each subscriber its own copy, and ours only read it.
        for ctrl in active:
            ctrl._observe(etype, rkey, obj)
    sim.store.subscribe(fan_out)
    for ctrl in active:
        ctrl.start(subscribe=False)
    sim.domain_controllers = ctrls
    return ctrls


def controllers_of(sim):
    """The Controllers installed in ``sim`` (rates and timings are attributes tests and benchmarks may change)."""
    return sim.domain_controllers

"""Which copy method CDI will choose for each disk, and how long a move will take.

CDI's choice (kubevirt-move-mechanics.md §1.3–1.4): the CDI CR's `cloneStrategyOverride`, else the target
StorageProfile's `status.cloneStrategy`, else `snapshot`; then it silently falls back to a host-assisted `copy`
when the target class has no CSI driver (no populator), the source and target use different CSI drivers, a
snapshot clone has no VolumeSnapshotClass for the driver, or the volume modes differ. The estimate states its
assumptions: a host-assisted copy streams the whole disk through a pod, the efficient methods do not.
"""

from dataclasses import dataclass
from typing import Optional

from ...kube import kinds

# Assumed throughput of a host-assisted copy (one reader pod, one writer pod, the pod network between them).
COPY_BYTES_PER_SECOND = 100 * 2 ** 20
# Assumed wall time of a CSI clone or a snapshot restore, independent of size (copy-on-write on most backends).
EFFICIENT_CLONE_SECONDS = 30
# Assumed time to rebind one PersistentVolume (Retain, delete claim, claimRef, new claim, bound, restore policy).
TRANSFER_SECONDS = 15
STOP_SECONDS = 30        # KubeVirt's default termination grace period
START_SECONDS = 60       # scheduling, launcher pod, boot to Ready

DEFAULT_CLASS_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class",
                             "storageclass.beta.kubernetes.io/is-default-class")


@dataclass
class CloneEstimate:
    method: str                  # csi-clone | snapshot | copy | transfer | unknown
    reason: str                  # why this method (the fallback event CDI would emit, when it falls back)
    seconds: Optional[int]       # None when the method is unknown: no time can honestly be claimed
    storage_class: Optional[str] = None   # the class the target claim will get (after mapping / default)

    @property
    def slow(self) -> bool:
        return self.method == "copy"


def default_storage_class(inv) -> Optional[str]:
    for sc in inv.of(kinds.STORAGECLASS, "cluster"):
        annotations = sc["metadata"].get("annotations") or {}
        if any(annotations.get(a) == "true" for a in DEFAULT_CLASS_ANNOTATIONS):
            return sc["metadata"]["name"]
    return None


def _cdi(inv) -> dict:
    items = inv.of(kinds.CDI, "cluster")
    return items[0] if items else {}


def copy_seconds(size: int) -> int:
    return max(1, -(-size // COPY_BYTES_PER_SECOND))


def clone_estimate(inv, source_class: Optional[str], target_class: Optional[str], size: int,
                   source_mode: str = "Filesystem", target_mode: Optional[str] = None) -> CloneEstimate:
    """What CDI will do to clone a `size`-byte claim of `source_class` into `target_class` (None = default)."""
    classes = inv.by_name(kinds.STORAGECLASS, "cluster")
    resolved = target_class if target_class is not None else default_storage_class(inv)
    if not inv.listed(kinds.STORAGECLASS, "cluster"):
        return CloneEstimate("unknown", "StorageClasses cannot be read with these credentials", None, resolved)
    if not resolved:
        return CloneEstimate("unknown", "no storage class and no default StorageClass: CDI waits forever", None,
                             None)
    target_sc = classes.get(resolved)
    if target_sc is None:
        return CloneEstimate("unknown", f'StorageClass "{resolved}" does not exist', None, resolved)
    provisioner = target_sc.get("provisioner", "")
    source_sc = classes.get(source_class or default_storage_class(inv) or "")
    drivers = {d["metadata"]["name"] for d in inv.of(kinds.CSIDRIVER, "cluster")}
    if inv.listed(kinds.CSIDRIVER, "cluster") and provisioner not in drivers:
        return CloneEstimate("copy", f'NoPopulator: "{provisioner}" has no CSIDriver, so CDI uses a host-assisted '
                                     "copy", copy_seconds(size), resolved)
    override = (_cdi(inv).get("spec") or {}).get("cloneStrategyOverride")
    profile = inv.by_name(kinds.STORAGEPROFILE, "cluster").get(resolved) or {}
    strategy = override or (profile.get("status") or {}).get("cloneStrategy") or "snapshot"
    why = "CDI cloneStrategyOverride" if override else (
        f'StorageProfile "{resolved}"' if (profile.get("status") or {}).get("cloneStrategy") else "CDI default")
    if strategy == "copy":
        return CloneEstimate("copy", f"{why} says copy (host-assisted)", copy_seconds(size), resolved)
    if source_sc is not None and source_sc.get("provisioner") != provisioner:
        return CloneEstimate("copy", f'IncompatibleProvisioners: source class uses "{source_sc.get("provisioner")}", '
                                     f'target "{provisioner}"', copy_seconds(size), resolved)
    if target_mode and target_mode != source_mode:
        return CloneEstimate("copy", f"IncompatibleVolumeModes: {source_mode} to {target_mode}",
                             copy_seconds(size), resolved)
    if strategy == "snapshot":
        snapshot_drivers = {c.get("driver") for c in inv.of(kinds.VOLUMESNAPSHOTCLASS, "cluster")}
        if provisioner not in snapshot_drivers:
            return CloneEstimate("copy", f'NoVolumeSnapshotClass: no VolumeSnapshotClass for "{provisioner}"',
                                 copy_seconds(size), resolved)
    return CloneEstimate(strategy, f"{why} says {strategy}", EFFICIENT_CLONE_SECONDS, resolved)


def transfer_estimate(storage_class: Optional[str]) -> CloneEstimate:
    return CloneEstimate("transfer", "PersistentVolume rebind, no data copied", TRANSFER_SECONDS, storage_class)


# KubeVirt's migration bandwidth is unlimited by default (live-move.md §4.2); 100 MiB/s is our assumption for a
# shared network, said as such in the plan.
LIVE_BYTES_PER_SECOND = 100 * 2 ** 20


def live_estimate(storage_class: Optional[str], mapped: Optional[str], size: int) -> CloneEstimate:
    """A live move streams the disk while the guest runs: the time counts towards the move, not the downtime."""
    seconds = int(size / LIVE_BYTES_PER_SECOND) + 1 if size else None
    return CloneEstimate("live", "copied by the live migration while the VM runs (about 100 MiB/s assumed)",
                         seconds, mapped or storage_class)


def downtime_seconds(disk_seconds, running: bool, start: bool = True) -> Optional[int]:
    """Stop, copy all disks of the VM at once (the slowest decides), start; None when a disk's time is unknown."""
    if any(s is None for s in disk_seconds):
        return None
    slowest = max(disk_seconds or [0])
    if not (start or running):
        return slowest
    return (STOP_SECONDS if running else 0) + slowest + START_SECONDS


def total_seconds(seconds, combine=sum) -> Optional[int]:
    """`combine` of several estimates, None as soon as one of them is unknown."""
    if any(s is None for s in seconds):
        return None
    return combine(seconds) if seconds else 0


def human_seconds(seconds: Optional[int]) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 90:
        return f"{seconds}s"
    minutes = -(-seconds // 60)
    if minutes < 120:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m" if minutes else f"{hours}h"

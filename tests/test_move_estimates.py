"""Which copy method CDI will choose for a disk (kubevirt-move-mechanics.md §1.4), and the time estimates."""

import pytest

from kubectl_vmmove.move.planning import estimates, inventory
from tests import move_builders as b

GIB = 2 ** 30


def _inv(*objs):
    return inventory.Inventory.from_objects(list(objs), "src", "dst")


def test_profile_strategy_is_used_when_nothing_forces_a_fallback():
    inv = _inv(b.storageclass("ceph", "rbd.csi.ceph.com", default=True), b.csidriver("rbd.csi.ceph.com"),
               b.storageprofile("ceph", "csi-clone"), b.cdi())
    est = estimates.clone_estimate(inv, "ceph", "ceph", 100 * GIB)
    assert (est.method, est.seconds, est.storage_class) == ("csi-clone", estimates.EFFICIENT_CLONE_SECONDS, "ceph")


@pytest.mark.parametrize("objs,source,target,reason", [
    ([b.storageclass("old", "kubernetes.io/no-provisioner"), b.storageprofile("old", "csi-clone")], "old", "old",
     "NoPopulator"),
    ([b.storageclass("a", "csi.a"), b.storageclass("b", "csi.b"), b.csidriver("csi.a"), b.csidriver("csi.b"),
      b.storageprofile("b", "csi-clone")], "a", "b", "IncompatibleProvisioners"),
    ([b.storageclass("s", "csi.s"), b.csidriver("csi.s"), b.storageprofile("s", "snapshot")], "s", "s",
     "NoVolumeSnapshotClass"),
    ([b.storageclass("s", "csi.s"), b.csidriver("csi.s"), b.storageprofile("s", "copy")], "s", "s",
     'StorageProfile "s" says copy'),
])
def test_fallbacks_to_host_assisted_copy(objs, source, target, reason):
    est = estimates.clone_estimate(_inv(*objs), source, target, 10 * GIB)
    assert est.method == "copy" and reason in est.reason
    assert est.seconds == 103        # 10 GiB at the assumed 100 MiB/s, rounded up


def test_snapshot_with_a_class_for_the_driver_and_cdi_override():
    objs = [b.storageclass("s", "csi.s"), b.csidriver("csi.s"), b.storageprofile("s", "csi-clone"),
            b.snapshotclass("csi.s")]
    assert estimates.clone_estimate(_inv(*objs, b.cdi(override="snapshot")), "s", "s", GIB).method == "snapshot"
    assert estimates.clone_estimate(_inv(*objs, b.cdi(override="copy")), "s", "s", GIB).method == "copy"


def test_default_and_missing_classes():
    inv = _inv(b.storageclass("std", "csi.s", default=True), b.csidriver("csi.s"), b.storageprofile("std"))
    assert estimates.clone_estimate(inv, None, None, GIB).storage_class == "std"
    assert estimates.clone_estimate(inv, "std", "gone", GIB).method == "unknown"
    assert estimates.clone_estimate(_inv(), None, None, GIB).method == "unknown"


def test_downtime_and_human_durations():
    assert estimates.downtime_seconds([30, 600], running=True) == estimates.STOP_SECONDS + 600 + \
        estimates.START_SECONDS
    assert estimates.downtime_seconds([], running=False) == estimates.START_SECONDS
    assert [estimates.human_seconds(s) for s in (45, 150, 7200, 7260)] == ["45s", "3m", "2h", "2h1m"]

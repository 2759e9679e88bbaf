"""Which copy method CDI will choose for a disk (kubevirt-move-mechanics.md §1.4), and the time estimates."""

import pytest

from kubectl_vmmove.move.planning import estimates, inventory
from tests.kubesim import builders as b

GIB = 2 ** 30


def _inv(*objs):
    return inventory.Inventory.from_objects(list(objs), "src", "dst")


def test_profile_strategy_is_used_when_nothing_forces_a_fallback():
    inv = _inv(b.served_storageclass("ceph", "rbd.csi.ceph.com", default=True), b.served_csidriver("rbd.csi.ceph.com"),
               b.served_storageprofile("ceph", "csi-clone"), b.served_cdi())
    est = estimates.clone_estimate(inv, "ceph", "ceph", 100 * GIB)
    assert (est.method, est.seconds, est.storage_class) == ("csi-clone", estimates.EFFICIENT_CLONE_SECONDS, "ceph")


@pytest.mark.parametrize("objs,source,target,reason", [
    ([b.served_storageclass("old", "kubernetes.io/no-provisioner"), b.served_storageprofile("old", "csi-clone")], "old", "old",
     "NoPopulator"),
    ([b.served_storageclass("a", "csi.a"), b.served_storageclass("b", "csi.b"), b.served_csidriver("csi.a"), b.served_csidriver("csi.b"),
      b.served_storageprofile("b", "csi-clone")], "a", "b", "IncompatibleProvisioners"),
    ([b.served_storageclass("s", "csi.s"), b.served_csidriver("csi.s"), b.served_storageprofile("s", "snapshot")], "s", "s",
     "NoVolumeSnapshotClass"),
    ([b.served_storageclass("s", "csi.s"), b.served_csidriver("csi.s"), b.served_storageprofile("s", "copy")], "s", "s",
     'StorageProfile "s" says copy'),
])
def test_fallbacks_to_host_assisted_copy(objs, source, target, reason):
    est = estimates.clone_estimate(_inv(*objs), source, target, 10 * GIB)
    assert est.method == "copy" and reason in est.reason
    assert est.seconds == 103        # 10 GiB at the assumed 100 MiB/s, rounded up


def test_snapshot_with_a_class_for_the_driver_and_cdi_override():
    objs = [b.served_storageclass("s", "csi.s"), b.served_csidriver("csi.s"), b.served_storageprofile("s", "csi-clone"),
            b.served_snapshotclass("csi.s")]
    assert estimates.clone_estimate(_inv(*objs, b.served_cdi(override="snapshot")), "s", "s", GIB).method == "snapshot"
    assert estimates.clone_estimate(_inv(*objs, b.served_cdi(override="copy")), "s", "s", GIB).method == "copy"


def test_default_and_missing_classes():
    inv = _inv(b.served_storageclass("std", "csi.s", default=True), b.served_csidriver("csi.s"), b.served_storageprofile("std"))
    assert estimates.clone_estimate(inv, None, None, GIB).storage_class == "std"
    assert estimates.clone_estimate(inv, "std", "gone", GIB).method == "unknown"
    assert estimates.clone_estimate(_inv(), None, None, GIB).method == "unknown"


def test_downtime_and_human_durations():
    assert estimates.downtime_seconds([30, 600], running=True) == estimates.STOP_SECONDS + 600 + \
        estimates.START_SECONDS
    assert estimates.downtime_seconds([], running=False) == estimates.START_SECONDS
    assert [estimates.human_seconds(s) for s in (45, 150, 7200, 7260)] == ["45s", "3m", "2h", "2h1m"]

"""A source namespace whose ResourceQuota has no room for CDI's temporary claim: `plan` warns before anything is
done, and `run` fails the VM with a cause that names the quota (what CDI reports on the DataVolume), not a timeout.

CDI builds each clone as a claim `tmp-pvc-<uid>` of the full disk size in the SOURCE namespace; kubesim's CDI
creates it through quota admission, and reports the refusal as the clone populator does (clonePhase Error, the API
error in the Running condition, a Warning ErrExceededQuota event on the target claim)."""

from tests.kubesim import builders
from tests.move_run_support import PVC, move_id, run_move, vm_records

QUOTA = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "src-storage", "namespace": "src"},
         "spec": {"hard": {"requests.storage": "15Gi"}}}


def seed(sim):
    sim.apply(builders.namespace("src") + builders.namespace("dst")
              + builders.vm("db", "src", disks=(("rootdisk", "10Gi"),), disk_mode="pvc"))
    sim.apply(QUOTA)     # the source disk uses 10Gi of it: 5Gi left, the temporary claim needs 10Gi
    sim.settle()


def test_plan_warns_and_run_fails_the_vm_naming_the_source_quota(kubesim, capsys):
    seed(kubesim)
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all")
    assert code == 0, out + err
    assert "SourceQuotaForClone" in out + err
    assert 'ResourceQuota "src-storage" has 5Gi of storage left, the largest disk is 10Gi' in out

    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes",
                              "--timeout", "10m")
    assert code == 1
    record = vm_records(kubesim)["db"]
    assert record["phase"] == "Failed"
    message = record["message"]
    # The cause is CDI's: the temporary claim in the source namespace refused by that namespace's quota.
    assert message.startswith("clone of src/db-rootdisk into datavolume dst/db-rootdisk failed: "), message
    assert 'persistentvolumeclaims "tmp-pvc-' in message and \
        "is forbidden: exceeded quota: src-storage, requested: requests.storage=10Gi, " \
        "used: requests.storage=10Gi, limited: requests.storage=15Gi" in message, message
    assert "timed out" not in message
    assert "exceeded quota: src-storage" in out + err
    # Nothing was taken from the source: its disk and VM are as they were.
    assert kubesim.get(PVC, "db-rootdisk", "src")["status"]["phase"] == "Bound"
    assert kubesim.get("virtualmachines.kubevirt.io", "db", "src") is not None


def test_run_resumes_once_the_source_quota_has_room(kubesim, capsys):
    seed(kubesim)
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes",
                              "--timeout", "10m")
    assert code == 1 and vm_records(kubesim)["db"]["phase"] == "Failed"
    quota = kubesim.get("resourcequotas", "src-storage", "src")
    quota["spec"]["hard"]["requests.storage"] = "30Gi"
    kubesim.apply(quota)
    # CDI does not watch quotas: its next retry (on the work queue's backoff) creates the claim.
    kubesim.clock.advance(30)
    kubesim.settle()
    code, out, err = run_move(kubesim, capsys, "run", "--resume", move_id(kubesim), "--to", "dst")
    assert code == 0, out + err
    assert vm_records(kubesim)["db"]["phase"] == "Succeeded"
    assert kubesim.get(PVC, "db-rootdisk", "dst")["status"]["phase"] == "Bound"

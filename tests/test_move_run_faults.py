"""A move through an unreliable API server (errors, throttling, resets, dropped watches) and a clone that fails
half-way: the first completes as if nothing happened, the second fails its VM with CDI's cause and rolls back."""

from tests.kubesim.controllers.testing import run_until
from tests.move_run_support import (
    DV,
    PVC,
    VM,
    VMI,
    identity,
    move_id,
    names,
    run_move,
    seed_basic,
    vm_records,
    wait_vms,
)


def flaky(sim, rate=0.10):
    """About `rate` of all requests fail: 500, 503, 429 (with Retry-After), connection resets; watches drop."""
    sim.faults.inject(status=500, rate=rate * 0.4)
    sim.faults.inject(status=503, rate=rate * 0.3)
    sim.faults.inject(status="reset", rate=rate * 0.2)
    sim.faults.inject(status=429, rate=rate * 0.1)
    sim.faults.drop_watches(rate)


def test_move_completes_with_ten_percent_of_api_calls_failing(kubesim_factory, capsys, tmp_path):
    # Over TLS, as real clusters serve: a reset may land in the middle of a handshake.
    kubesim = kubesim_factory(tls=True)
    seed_basic(kubesim)
    source = {n: kubesim.get(VM, n, "src") for n in ("web", "db")}
    code, text, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "-o", "yaml",
                               "--move-id", "flaky1")
    assert code == 0, err
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    flaky(kubesim)
    code, out, err = run_move(kubesim, capsys, "run", "-f", str(plan), "--yes", "--parallel", "2")
    faults = [e for e in kubesim.requests.entries if e.fault]
    assert len(faults) >= 5            # the faults did happen
    assert code == 0, out + err
    assert {r["phase"] for r in vm_records(kubesim).values()} == {"Succeeded"}
    kubesim.faults.clear()
    assert run_move(kubesim, capsys, "verify", "flaky1")[0] == 0
    # No duplicates despite retried creates; the identity is kept.
    assert names(kubesim, VM, "dst") == ["db", "web"]
    assert len(names(kubesim, DV, "dst")) == 4
    for n in ("web", "db"):
        assert identity(kubesim.get(VM, n, "dst")) == identity(source[n])


def test_clone_failing_half_way_fails_that_vm_with_the_cause_and_rollback_restores_the_source(kubesim, capsys):
    seed_basic(kubesim, running=("web", "db"))
    source_specs = {n: kubesim.get(VM, n, "src")["spec"] for n in ("web", "db")}
    kubesim.faults.fail_clone("web-data", at_percent=50, message="read error on source volume: I/O error")
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes")
    assert code == 1
    records = vm_records(kubesim)
    assert records["db"]["phase"] == "Succeeded"
    assert records["web"]["phase"] == "Failed"
    message = records["web"]["message"]
    assert "clone of src/web-data into datavolume dst/web-data failed" in message
    assert "I/O error" in message
    assert "web" in out and "Failed" in out and "I/O error" in out
    assert kubesim.get(VM, "web", "dst") is None            # never created with a half-copied disk
    code, out, err = run_move(kubesim, capsys, "status", move_id(kubesim))
    assert "I/O error" in out

    code, out, err = run_move(kubesim, capsys, "rollback", move_id(kubesim), "--yes")
    assert code == 0, err
    assert names(kubesim, VM, "dst") == [] and names(kubesim, DV, "dst") == [] and names(kubesim, PVC, "dst") == []
    for n in ("web", "db"):
        assert kubesim.get(VM, n, "src")["spec"] == source_specs[n]
    wait_vms(kubesim, "src", ["web", "db"])
    run_until(kubesim, lambda: all(kubesim.get(VMI, n, "src") for n in ("web", "db")))


def test_resume_after_a_failed_clone_starts_that_disk_again(kubesim, capsys):
    # A clone that failed leaves a DataVolume whose error stays until CDI happens to retry. Resuming must start that
    # disk over (the half-copied target is ours and holds nothing the user owns), not fail on the old error.
    seed_basic(kubesim, running=())
    kubesim.faults.fail_clone("web-data", at_percent=50, message="read error on source volume: I/O error")
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes")
    assert code == 1 and vm_records(kubesim)["web"]["phase"] == "Failed"
    failed_uid = kubesim.get(DV, "web-data", "dst")["metadata"]["uid"]
    kubesim.faults.clear()
    code, out, err = run_move(kubesim, capsys, "run", "--resume", move_id(kubesim), "--to", "dst")
    assert code == 0, out + err
    assert {r["phase"] for r in vm_records(kubesim).values()} == {"Succeeded"}
    assert kubesim.get(DV, "web-data", "dst")["metadata"]["uid"] != failed_uid
    assert "I/O error" in out + err              # the user is told why the disk is copied again
    assert run_move(kubesim, capsys, "verify", move_id(kubesim))[0] == 0


def test_a_claim_refused_by_the_target_quota_is_a_failure_with_its_cause():
    from kubectl_vmmove.move.execution.disks import clone_failure

    refused = {"status": {"phase": "Pending", "conditions": [
        {"type": "Bound", "status": "False", "reason": "ErrExceededQuota",
         "message": 'persistentvolumeclaims "db-rootdisk" is forbidden: exceeded quota: dst-storage'}]}}
    assert "exceeded quota: dst-storage" in clone_failure(refused)
    waiting = {"status": {"phase": "Pending", "conditions": [
        {"type": "Bound", "status": "False", "reason": "Pending", "message": "PVC db-rootdisk Pending"}]}}
    assert clone_failure(waiting) is None


def test_a_start_that_meets_a_conflict_is_asked_again(kubesim, capsys):
    """virt-api answers a start with 409 "the object has been modified" when the VM changed between its read and its
    write (a controller updating status meanwhile): the start is asked again, not reported as a failed VM."""
    from tests.move_run_support import seed_basic as seed

    seed(kubesim, running=("web",))
    kubesim.faults.inject(verb="update", resource="virtualmachines.subresources.kubevirt.io", status=409, times=2,
                          name="web")
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--yes")
    assert code == 0, err
    assert vm_records(kubesim)["web"]["phase"] == "Succeeded"

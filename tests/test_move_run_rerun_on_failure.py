"""A stopped RerunOnFailure VM: KubeVirt starts a VM as soon as its run strategy becomes RerunOnFailure, so the
target does not stay stopped. Plan warns (TargetWillStart); verify expects what KubeVirt does instead of failing."""

from tests.kubesim import builders
from tests.kubesim.controllers.testing import run_until, vm_action
from tests.move_run_support import VM, VMI, run_move


def test_stopped_rerun_on_failure_vm_moves_and_verifies(kubesim, capsys):
    kubesim.apply(builders.namespace("src") + builders.namespace("dst")
                  + builders.vm("batch", "src", disks=(("rootdisk", "1Gi"),), run_strategy="RerunOnFailure"))
    run_until(kubesim, lambda: (kubesim.get(VMI, "batch", "src") or {}).get("status", {}).get("phase") == "Running")
    vm_action(kubesim, "src", "batch", "stop")
    run_until(kubesim, lambda: kubesim.get(VMI, "batch", "src") is None)

    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "batch", "--move-id", "rof1")
    assert "TargetWillStart" in out
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "batch", "--move-id", "rof1",
                              "--yes")
    assert code == 0, out + err
    assert kubesim.get(VM, "batch", "dst")["spec"]["runStrategy"] == "RerunOnFailure"
    run_until(kubesim, lambda: (kubesim.get(VMI, "batch", "dst") or {}).get("status", {}).get("phase") == "Running")
    code, out, err = run_move(kubesim, capsys, "verify", "rof1")
    assert code == 0, out + err
    assert "started by KubeVirt (RerunOnFailure)" in out

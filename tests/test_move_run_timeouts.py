"""--timeout per step: a stop or a disk copy that does not finish in time fails its VM with the step that timed out
and the last state seen, and a re-run continues where it stopped.

Simulated time stands still (clock speed 0), so the VM never stops and the clone never progresses; the tiny
--timeout is the only real time that passes."""

from tests.kubesim.fixtures import FAST
from tests.move_run_support import VM, move_id, run_move, seed_basic, vm_records


def test_a_stop_and_a_clone_that_never_finish_fail_their_vms_naming_the_step_and_last_state(kubesim, capsys):
    seed_basic(kubesim)
    kubesim.clock.speed = 0
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes", "--parallel", "2",
                              "--timeout", "1s")
    assert code == 1
    records = vm_records(kubesim)
    assert {n: r["phase"] for n, r in records.items()} == {"web": "Failed", "db": "Failed"}

    web = records["web"]["message"]
    assert web.startswith("step stop of src/web timed out: timed out after 1s waiting for virtualmachineinstance "
                          "web in namespace src to stop; last seen: phase Running"), web

    db = records["db"]["message"]
    assert db.startswith("step clone of the 1 disk(s) of dst/db timed out after 1s (--timeout covers all disks of "
                         "a VM together); last seen: datavolume dst/db-rootdisk: phase "), db
    assert db.endswith("Re-run to continue waiting, or raise --timeout")
    assert "Failed" in out and "step clone of the 1 disk(s)" in out
    assert kubesim.get(VM, "db", "dst") is None

    kubesim.clock.speed = FAST
    code, out, err = run_move(kubesim, capsys, "run", "--resume", move_id(kubesim), "--to", "dst")
    assert code == 0, out + err
    assert {r["phase"] for r in vm_records(kubesim).values()} == {"Succeeded"}

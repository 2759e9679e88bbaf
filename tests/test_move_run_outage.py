"""The API server going away during `run`, SIGTERM, and a run whose process died, as a user sees them.

An outage is kubesim answering every request with a connection reset from the moment the run's first clone is
created; the retry layer runs on simulated time (each backoff moves a clock on), so the 3 minute outage budget
passes at once. SIGTERM and SIGKILL go to a `run` subprocess whose cluster time is frozen mid-clone.
"""

import json
import os
import signal
import subprocess

from kubectl_vmmove.kube import client
from tests.kubesim.fixtures import FAST
from tests.move_run_support import DV, journal, run_move, vm_records
from tests.test_kube_api import OutageClock
from tests.test_move_crash import CLI, MOVE_ID, normalised, reference, seed, write_plan  # noqa: F401 (fixture)
from tests.test_move_run_interrupt import freeze_when

RESUME = f"kubectl vmmove run --resume {MOVE_ID} --to dst"


def outage_from_first_clone(sim):
    def hook(etype, rkey, obj):
        if rkey == DV and etype == "ADDED" and not sim.faults.rules:
            sim.faults.inject(status="reset")

    sim.store.subscribe(hook)


def test_api_server_gone_mid_run_waits_its_budget_then_says_how_to_resume_and_the_resume_finishes(
        kubesim, capsys, tmp_path, monkeypatch, reference):  # noqa: F811 (the fixture)
    seed(kubesim)
    plan = tmp_path / "plan.yaml"
    write_plan(kubesim, capsys, plan)
    clock = OutageClock()
    real_policy = client.RetryPolicy
    monkeypatch.setattr(client, "RetryPolicy", lambda: real_policy(sleep=clock.sleep, clock=clock))
    outage_from_first_clone(kubesim)

    code, out, err = run_move(kubesim, capsys, "run", "-f", str(plan), "--yes")

    assert code == 1, err
    assert "Traceback" not in err and "unexpected" not in err
    assert "is not answering" in err and "retrying in" in err and "gives up in" in err   # the wait, shown
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: lost the API server") and "has not answered for 3m" in last, err
    assert f"continue with '{RESUME}'" in last
    kubesim.faults.clear()
    record = vm_records(kubesim)["app"]
    assert record["phase"] != "Succeeded" and record["step"].startswith("clone"), record   # where it stopped

    # The run could not give its lease back. A real resume is a new process after this one exited, which takes a
    # dead holder's lease at once (test_move_run_lease); in-process the holder's pid is this live test, hence the flag.
    code, out, err = run_move(kubesim, capsys, *RESUME.split()[2:], "--force-takeover")
    assert code == 0, out + err
    kubesim.settle()
    assert normalised(kubesim) == reference


def test_sigterm_is_handled_like_ctrl_c_exit_143_with_the_resume_command(kubesim, capsys, tmp_path, reference):  # noqa: F811 (the fixture)
    seed(kubesim)
    plan = tmp_path / "plan.yaml"
    write_plan(kubesim, capsys, plan)
    cloning = freeze_when(kubesim, lambda etype, rkey, obj: rkey == DV and etype == "ADDED")
    proc = subprocess.Popen([CLI, "--kubeconfig", kubesim.kubeconfig_path, "run", "-f", str(plan), "--yes"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert cloning.wait(60), "the run never started cloning"
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    kubesim.clock.speed = FAST

    assert proc.returncode == 143, err
    assert f"Terminated. The VMs stay where they are; continue with:\n  {RESUME}\n" in err
    assert "Traceback" not in err
    move = json.loads(journal(kubesim)["data"]["move"])
    assert move["phase"] == "Interrupted"
    assert "lease" not in journal(kubesim)["data"]          # given back: the next run starts at once

    code, out, err = run_move(kubesim, capsys, *RESUME.split()[2:])
    assert code == 0, out + err
    kubesim.settle()
    assert normalised(kubesim) == reference


def test_a_move_whose_run_was_killed_shows_as_interrupted_in_status(kubesim, capsys, tmp_path):
    seed(kubesim)
    plan = tmp_path / "plan.yaml"
    write_plan(kubesim, capsys, plan)
    cloning = freeze_when(kubesim, lambda etype, rkey, obj: rkey == DV and etype == "ADDED")
    proc = subprocess.Popen([CLI, "--kubeconfig", kubesim.kubeconfig_path, "run", "-f", str(plan), "--yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert cloning.wait(60), "the run never started cloning"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    kubesim.clock.speed = FAST

    code, out, err = run_move(kubesim, capsys, "status", MOVE_ID)
    assert code == 0, err
    header = out.splitlines()[0]
    assert "phase Interrupted" in header, out
    assert "in progress" not in out
    assert f"(pid {proc.pid}) is gone" in out and RESUME in out
    row = next(line.split() for line in out.splitlines() if line.startswith("app "))
    assert row[1] == "Interrupted" and row[2] == "clone", out     # where it stopped: in its clone step
    code, out, err = run_move(kubesim, capsys, "status")
    row = next(line for line in out.splitlines() if line.startswith(MOVE_ID))
    assert "Interrupted" in row.split() and "Running" not in row.split(), out

"""Ctrl-C on a running move, and `status --watch` following a move another process runs.

`run` runs as a subprocess against the kubesim in this process. Simulated time is frozen from the cluster side (a
store subscription) at the moment under test, so the move waits there for as long as the test needs, with no sleeps.
"""

import os
import signal
import subprocess
import threading

from tests.kubesim.fixtures import FAST
from tests.move_run_support import run_move, seed_basic, vm_records
from tests.test_move_crash import CLI, MOVE_ID, normalised, reference, seed, write_plan  # noqa: F401 (fixture)


def freeze_when(sim, condition):
    """Stop simulated time (clones, VM stops and starts stand still) as soon as `condition(etype, rkey, obj)`."""
    frozen = threading.Event()

    def hook(etype, rkey, obj):
        if not frozen.is_set() and condition(etype, rkey, obj):
            sim.clock.speed = 0
            frozen.set()

    sim.store.subscribe(hook)
    return frozen


def test_ctrl_c_mid_clone_exits_130_with_the_resume_command_and_the_resumed_run_completes(kubesim, capsys, tmp_path,
                                                                                      reference):  # noqa: F811 (the fixture)
    seed(kubesim)
    plan = tmp_path / "plan.yaml"
    write_plan(kubesim, capsys, plan)
    cloning = freeze_when(kubesim, lambda etype, rkey, obj: rkey == "datavolumes.cdi.kubevirt.io" and etype == "ADDED")
    proc = subprocess.Popen([CLI, "--kubeconfig", kubesim.kubeconfig_path, "run", "-f", str(plan), "--yes"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert cloning.wait(60), "the run never started cloning"
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    kubesim.clock.speed = FAST

    assert proc.returncode == 130, err
    resume = f"kubectl vmmove run --resume {MOVE_ID} --to dst"
    assert f"Interrupted. The VMs stay where they are; continue with:\n  {resume}\n" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert vm_records(kubesim)["app"]["phase"] != "Succeeded"

    code, out, err = run_move(kubesim, capsys, *resume.split()[2:])
    assert code == 0, out + err
    assert "Continuing move crash1" in err
    kubesim.settle()
    assert normalised(kubesim) == reference


def test_status_watch_follows_a_move_run_by_another_process_until_it_ends(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    code, text, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--move-id", "watch1",
                               "-o", "yaml")
    assert code == 0, err
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    started = freeze_when(kubesim, lambda etype, rkey, obj: rkey == "configmaps" and etype == "ADDED"
                          and obj["metadata"]["name"] == "vmmove-watch1")
    run = subprocess.Popen([CLI, "--kubeconfig", kubesim.kubeconfig_path, "run", "-f", str(plan), "--yes"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert started.wait(60), "the run never wrote its journal"
    watch = subprocess.Popen([CLI, "--kubeconfig", kubesim.kubeconfig_path, "status", "watch1", "--watch"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [watch.stdout.readline()]          # status shows the move as it is, then follows it...
    kubesim.clock.speed = FAST                 # ...while the move goes on
    rest, err = watch.communicate(timeout=120)
    lines += rest.splitlines()
    assert watch.returncode == 0, err
    assert run.wait(timeout=120) == 0, run.stderr.read()

    by_vm = {}
    for line in lines:
        # "15:04:05 vm=web  phase=Running  step=clone 3 disk(s)  ...": fields apart by two spaces
        fields = dict(part.split("=", 1) for part in line.split(" ", 1)[1].split("  ") if "=" in part)
        by_vm.setdefault(fields["vm"], []).append((fields["phase"], fields.get("step", "")))
    for vm in ("web", "db"):
        phases = [p for p, _ in by_vm[vm]]
        steps = [s for _, s in by_vm[vm]]
        # Caught in the middle (time stood still until status showed the move), followed to the end.
        assert phases[0] in ("Pending", "Running") and phases[-1] == "Succeeded", by_vm[vm]
        assert "Running" in phases
        # The steps as the run went through them: stop first, the clone, the VM created, done last.
        assert steps[-1] == "done"
        order = [next((i for i, s in enumerate(steps) if s.startswith(prefix)), None)
                 for prefix in ("stop", "clone", "create virtualmachine/", "done")]
        seen = [i for i in order if i is not None]
        assert len(seen) >= 3 and seen == sorted(seen), by_vm[vm]


def test_ctrl_c_mid_live_migration_cancels_it_the_source_runs_on_and_resume_moves_it(kubesim, capsys, tmp_path):
    from tests.kubesim.controllers.testing import run_until
    from tests.test_move_crash import live_plan, seed_live

    vmim = "virtualmachineinstancemigrations.kubevirt.io"
    seed_live(kubesim)
    plan = tmp_path / "plan.yaml"
    live_plan(kubesim, capsys, plan)
    migrating = freeze_when(kubesim, lambda etype, rkey, obj: rkey == vmim and
                            (obj.get("status") or {}).get("phase") == "Running")
    proc = subprocess.Popen([CLI, "--kubeconfig", kubesim.kubeconfig_path, "run", "-f", str(plan), "--yes"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert migrating.wait(60), "the run never started migrating"
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    # The migrations are gone (which cancels KubeVirt's migration); the source never stopped.
    assert not kubesim.list(vmim, "src") and not kubesim.list(vmim, "dst")
    vmi = kubesim.get("virtualmachineinstances.kubevirt.io", "app", "src")
    assert vmi["status"]["phase"] == "Running"
    assert vmi["status"]["migrationState"]["abortStatus"] == "Succeeded"
    kubesim.clock.speed = FAST
    run_until(kubesim, lambda: kubesim.get("virtualmachines.kubevirt.io", "app", "dst") is None, max_seconds=600)

    code, out, err = run_move(kubesim, capsys, "run", "--resume", MOVE_ID, "--to", "dst")
    assert code == 0, out + err
    assert kubesim.get("virtualmachineinstances.kubevirt.io", "app", "dst")["status"]["phase"] == "Running"

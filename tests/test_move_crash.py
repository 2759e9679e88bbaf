"""Crash safety: `kubectl-vmmove run` killed with SIGKILL at each step boundary of one VM's move and at random
points, then run again: the end state equals that of an uninterrupted move, with nothing duplicated and the source
intact until cleanup.

The CLI runs as a subprocess against the kubesim in this process; the kill is triggered from the cluster side,
by a store subscription that sees the journal record a step as done (or the k-th write of the move)."""

import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import threading

import pytest

from tests.kubesim import KubeSim, builders
from tests.kubesim.fixtures import FAST
from tests.move_run_support import DV, PVC, VM, journal, run_move, wait_vms

CLI = str(pathlib.Path(sys.executable).with_name("kubectl-vmmove"))
MOVE_ID = "crash1"
JOURNAL = f"vmmove-{MOVE_ID}"
# The steps of "app": stop, record-source, clone, copy secret, create service, create VM, start.
BOUNDARIES = range(6)
RANDOM_POINTS = random.Random(20250101).sample(range(8, 70), 2)


def seed(sim):
    sim.apply(builders.namespace("src") + builders.namespace("dst")
              + builders.vm("app", "src", disks=(("rootdisk", "1Gi"),), disk_mode="pvc", running=True,
                            cloud_init_secret="app-ci", service=True, mac="02:00:00:00:aa:01"))
    wait_vms(sim, "src", ["app"])


def write_plan(sim, capsys, path):
    code, text, err = run_move(sim, capsys, "plan", "-n", "src", "--to", "dst", "app", "--move-id", MOVE_ID,
                               "-o", "yaml")
    assert code == 0, err
    path.write_text(text)


def normalised(sim) -> dict:
    """What a user sees of the move's outcome, without uids, timestamps or allocated addresses."""
    out = {}
    for ns in ("src", "dst"):
        for vm in sim.list(VM, ns):
            out[(ns, "vm", vm["metadata"]["name"])] = (vm["spec"], vm["metadata"].get("labels"),
                                                      (vm.get("status") or {}).get("printableStatus"))
        for dv in sim.list(DV, ns):
            out[(ns, "dv", dv["metadata"]["name"])] = (dv["spec"], dv["metadata"].get("labels"),
                                                      (dv.get("status") or {}).get("phase"))
        for pvc in sim.list(PVC, ns):
            out[(ns, "pvc", pvc["metadata"]["name"])] = (pvc["spec"].get("storageClassName"),
                                                        pvc["spec"].get("resources"), pvc["status"].get("phase"))
        for secret in sim.list("secrets", ns):
            out[(ns, "secret", secret["metadata"]["name"])] = secret.get("data")
        for svc in sim.list("services", ns):
            spec = {k: v for k, v in svc["spec"].items() if k not in ("clusterIP", "clusterIPs")}
            out[(ns, "svc", svc["metadata"]["name"])] = spec
        for cm in sim.list("configmaps", ns):
            if (cm["metadata"].get("labels") or {}).get("vmmove.io/journal") == "part":
                continue
            if cm["metadata"]["name"] == JOURNAL:
                records = {k: json.loads(v) for k, v in journal(sim, ns)["data"].items() if k.startswith("vm.")}
                out[(ns, "journal", "vms")] = {n: (r["phase"], [s["state"] for s in r["steps"]])
                                               for n, r in records.items()}
            elif cm["metadata"]["name"] != "kube-root-ca.crt":
                out[(ns, "cm", cm["metadata"]["name"])] = cm.get("data")
    out["objecttransfers"] = len(sim.list("objecttransfers.cdi.kubevirt.io"))
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The end state of the same move, uninterrupted."""
    sim = KubeSim(speed=FAST)
    sim.start()
    try:
        seed(sim)
        path = tmp_path_factory.mktemp("ref") / "plan.yaml"
        import contextlib
        import io

        from kubectl_vmmove import cli

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert cli.main(["--kubeconfig", sim.kubeconfig_path, "plan", "-n", "src", "--to", "dst", "app",
                             "--move-id", MOVE_ID, "-o", "yaml"]) == 0
        path.write_text(buf.getvalue())
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert cli.main(["--kubeconfig", sim.kubeconfig_path, "run", "-f", str(path), "--yes"]) == 0
        sim.settle()
        return normalised(sim)
    finally:
        sim.stop()


def kill_when(sim, proc, condition):
    """SIGKILL `proc` from the store's commit hook as soon as `condition(event, resource, obj)` holds."""
    fired = threading.Event()

    def hook(etype, rkey, obj):
        if not fired.is_set() and condition(etype, rkey, obj):
            fired.set()
            os.kill(proc.pid, signal.SIGKILL)

    sim.store.subscribe(hook)
    return fired


def step_done(index):
    def condition(etype, rkey, obj):
        # The VM records are in the journal's parts (vmmove-<id>.vms-<n>).
        if rkey != "configmaps" or not obj["metadata"]["name"].startswith(JOURNAL + "."):
            return False
        record = json.loads((obj.get("data") or {}).get("vm.app") or "{}")
        steps = record.get("steps") or []
        return len(steps) > index and steps[index].get("state") == "Done"
    return condition


def nth_write(n):
    count = [0]

    def condition(etype, rkey, obj):
        count[0] += 1
        return count[0] >= n
    return condition


@pytest.mark.parametrize("point", [("step", i) for i in BOUNDARIES] + [("write", n) for n in RANDOM_POINTS],
                         ids=lambda p: f"{p[0]}-{p[1]}")
def test_killed_run_continues_to_the_same_end_state(kubesim, capsys, tmp_path, reference, point):
    seed(kubesim)
    plan = tmp_path / "plan.yaml"
    write_plan(kubesim, capsys, plan)
    source_claim = kubesim.get(PVC, "app-rootdisk", "src")
    proc = subprocess.Popen([CLI, "--kubeconfig", kubesim.kubeconfig_path, "run", "-f", str(plan), "--yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kind, value = point
    fired = kill_when(kubesim, proc, step_done(value) if kind == "step" else nth_write(value))
    proc.wait(timeout=120)
    assert fired.is_set() and proc.returncode == -signal.SIGKILL, "the run ended before the kill point"

    # Until the re-run finishes, the source keeps its disk.
    assert kubesim.get(PVC, "app-rootdisk", "src")["metadata"]["uid"] == source_claim["metadata"]["uid"]
    code, out, err = run_move(kubesim, capsys, "run", "-f", str(plan), "--yes")
    assert code == 0, out + err
    if kind == "step":
        # The killed run still held the lease; its pid is gone, so the lease is taken over without waiting.
        assert f"Taking over the lease of move {MOVE_ID} from \"run\"" in err
    kubesim.settle()
    assert normalised(kubesim) == reference
    assert kubesim.get(PVC, "app-rootdisk", "src")["metadata"]["uid"] == source_claim["metadata"]["uid"]
    assert run_move(kubesim, capsys, "verify", MOVE_ID)[0] == 0


# ---------------------------------------------------------------------------------------------- live moves
# The steps of "app" with --strategy live: record-source, create the blank DataVolume, copy secret, create service,
# create the receiver VM, await-receiver, migrate-receive, migrate-send, await-migration. A kill after each of the
# first eight leaves a move that a re-run finishes to the same end state (live-move.md §4.5: every step looks at the
# cluster first; a migration that completed while no run watched it is found completed).
LIVE_BOUNDARIES = range(8)


def seed_live(sim):
    seed(sim)
    kv = sim.get("kubevirts.kubevirt.io", "kubevirt", "kubevirt")
    kv["spec"]["configuration"].setdefault("developerConfiguration", {})["featureGates"] = \
        ["DecentralizedLiveMigration"]
    sim.apply(kv)


def live_plan(sim, capsys, path):
    code, text, err = run_move(sim, capsys, "plan", "-n", "src", "--to", "dst", "app", "--move-id", MOVE_ID,
                               "--strategy", "live", "-o", "yaml")
    assert code == 0, err
    path.write_text(text)


@pytest.fixture(scope="module")
def live_reference(tmp_path_factory):
    import contextlib
    import io

    from kubectl_vmmove import cli

    sim = KubeSim(speed=FAST)
    sim.start()
    try:
        seed_live(sim)
        path = tmp_path_factory.mktemp("live") / "plan.yaml"
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert cli.main(["--kubeconfig", sim.kubeconfig_path, "plan", "-n", "src", "--to", "dst", "app",
                             "--move-id", MOVE_ID, "--strategy", "live", "-o", "yaml"]) == 0
        path.write_text(buf.getvalue())
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert cli.main(["--kubeconfig", sim.kubeconfig_path, "run", "-f", str(path), "--yes"]) == 0
        sim.settle()
        return normalised(sim)
    finally:
        sim.stop()


@pytest.mark.parametrize("index", list(LIVE_BOUNDARIES), ids=lambda i: f"live-step-{i}")
def test_killed_live_run_continues_to_the_same_end_state(kubesim, capsys, tmp_path, live_reference, index):
    seed_live(kubesim)
    plan = tmp_path / "plan.yaml"
    live_plan(kubesim, capsys, plan)
    source_claim = kubesim.get(PVC, "app-rootdisk", "src")
    proc = subprocess.Popen([CLI, "--kubeconfig", kubesim.kubeconfig_path, "run", "-f", str(plan), "--yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fired = kill_when(kubesim, proc, step_done(index))
    proc.wait(timeout=120)
    assert fired.is_set() and proc.returncode == -signal.SIGKILL, "the run ended before the kill point"
    assert kubesim.get(PVC, "app-rootdisk", "src")["metadata"]["uid"] == source_claim["metadata"]["uid"]
    code, out, err = run_move(kubesim, capsys, "run", "-f", str(plan), "--yes")
    assert code == 0, out + err
    kubesim.settle()
    assert normalised(kubesim) == live_reference
    assert kubesim.get(PVC, "app-rootdisk", "src")["metadata"]["uid"] == source_claim["metadata"]["uid"]
    assert run_move(kubesim, capsys, "verify", MOVE_ID)[0] == 0

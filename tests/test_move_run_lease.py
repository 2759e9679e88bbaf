"""The move's lease: one kubectl-vmmove process at a time works on a move; a dead holder is taken over, a live one
is named with what to do; a holder whose lease was taken over notices and stops."""

import json
import pathlib
import socket
import subprocess
import sys
import threading

import pytest

from kubectl_vmmove.kube import kinds
from kubectl_vmmove.move.cmd.run import execute
from kubectl_vmmove.move.state import journal as journalmod
from kubectl_vmmove.move.state import lease as leasemod
from tests.kubesim.fixtures import FAST
from tests.move_run_support import VM, api_for, names, run_move, seed_basic, vm_records

CLI = str(pathlib.Path(sys.executable).with_name("kubectl-vmmove"))
HOST = socket.gethostname()
NOW = 1_750_000_000.0


def record(host=HOST, pid=1, age=0.0, token="t0k3n", user="alice", command="run"):
    return {"host": host, "pid": pid, "token": token, "user": user, "command": command,
            "acquired": journalmod.now_text(leasemod._utc(NOW - 600)),
            "renewed": journalmod.now_text(leasemod._utc(NOW - age)), "durationSeconds": 60}


@pytest.mark.parametrize("rec, alive, expected", [
    (None, True, leasemod.FREE),
    (record(pid=4242, age=5), False, leasemod.STALE),          # same host, the holder process is gone
    (record(pid=4242, age=5), True, leasemod.LIVE),
    (record(pid=4242, age=300), True, leasemod.STALE),         # same clock: not renewed for 5 minutes
    (record(host="ws-12", age=5), False, leasemod.LIVE),        # another host: its pid says nothing here
    (record(host="ws-12", age=-30), False, leasemod.LIVE),      # its clock a little ahead of ours
    (record(host="ws-12", age=300), False, leasemod.UNCERTAIN),  # expired, or our clock runs ahead: watch first
    (record(host="ws-12", age=-3600), False, leasemod.UNCERTAIN),
], ids=["none", "dead-pid", "live-pid", "same-host-expired", "other-host", "other-skew", "other-old",
        "other-future"])
def test_lease_verdict(rec, alive, expected):
    assert leasemod.verdict(rec, NOW, HOST, alive=lambda pid: alive) == expected


def put_lease(sim, mid, rec):
    """Another process's lease, written as its Lease.acquire does: the lease, then the fence on the parts."""
    api = api_for(sim)
    api.patch(kinds.CONFIGMAP, journalmod.name_for(mid), {"data": {"lease": json.dumps(rec)}}, namespace="dst")
    if rec.get("token"):
        journalmod.find(api, mid, ["dst"]).fence(rec["token"])


def lease_of(sim, mid):
    text = (sim.get("configmaps", journalmod.name_for(mid), "dst").get("data") or {}).get("lease")
    return json.loads(text) if text else None


def test_second_run_is_refused_while_the_first_runs_then_the_first_finishes(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    code, text, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--move-id", "both1",
                               "-o", "yaml")
    assert code == 0, err
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    cloning = threading.Event()

    def hook(etype, rkey, obj):
        # Simulated time stands still once the first clone exists: the first run stays in the middle of its move.
        if rkey == "datavolumes.cdi.kubevirt.io" and etype == "ADDED" and not cloning.is_set():
            kubesim.clock.speed = 0
            cloning.set()

    kubesim.store.subscribe(hook)
    first = subprocess.Popen([CLI, "--kubeconfig", kubesim.kubeconfig_path, "run", "-f", str(plan), "--yes"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert cloning.wait(60), "the first run never started cloning"
        holder = lease_of(kubesim, "both1")
        assert holder["pid"] == first.pid and holder["command"] == "run" and holder["user"] == "admin"
        # The refused commands act as a second user, so the request log tells their writes from the first run's
        # (which legitimately goes on changing the source VMs while it stops them).
        second = kubesim.add_user("second-operator", groups=["system:masters"])
        first_entry = len(kubesim.requests.entries)
        for argv in (("run", "-f", str(plan), "--yes"), ("run", "--resume", "both1", "--to", "dst"),
                     ("rollback", "both1", "--yes"), ("cleanup", "both1", "--yes")):
            code, out, err = run_move(kubesim, capsys, *argv, "--token", second)
            assert code == 1, (argv, err)
            assert (f'error: move both1 is being worked on by "run" of admin on host {HOST} (pid {first.pid})'
                    in err), err
            assert "'kubectl vmmove status both1 --watch'" in err and "--force-takeover" in err
        writes = [(e.verb, e.resource, e.name) for e in kubesim.requests.entries[first_entry:]
                  if e.user == "second-operator" and e.verb in ("create", "update", "patch", "delete")
                  and e.status < 400 and not e.resource.endswith("reviews")]   # access reviews store nothing
        assert writes == []
        code, out, _ = run_move(kubesim, capsys, "status", "both1")
        assert f'in progress: "run" of admin on host {HOST} (pid {first.pid}), lease renewed' in out
    finally:
        kubesim.clock.speed = FAST
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert {r["phase"] for r in vm_records(kubesim).values()} == {"Succeeded"}
    assert lease_of(kubesim, "both1") is None          # released at the end
    assert names(kubesim, VM, "dst") == ["db", "web"]


def test_a_lease_that_looks_expired_is_watched_before_it_is_taken_over(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    code, text, _ = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "db", "--move-id", "old1",
                             "-o", "yaml")
    import yaml

    doc = yaml.safe_load(text)
    api = api_for(kubesim)
    journalmod.Journal.create(api, doc, "alice")
    stale = record(host="ws-12", pid=77, age=0)
    stale["renewed"] = "2020-01-01T00:00:00Z"
    put_lease(kubesim, "old1", stale)
    ticks = iter(range(0, 10_000, 45))    # each look at the clock: 45 s later, past the 30 s watch at once
    stream = _Stream()
    code = execute(api, doc, journalmod.find(api, "old1", ["dst"]), "admin", 1, 600, stream=stream,
                   lease_options={"monotonic": lambda: float(next(ticks))})
    capsys.readouterr()
    assert code == 0, stream.text
    assert ('The lease of move old1 held by "run" of alice on host ws-12 (pid 77) looks expired' in stream.text)
    assert "watching for 30s whether it is still renewed" in stream.text
    assert 'Taking over the lease of move old1 from "run" of alice on host ws-12 (pid 77)' in stream.text
    assert vm_records(kubesim)["db"]["phase"] == "Succeeded"


def test_force_takeover_takes_a_live_lease_and_the_old_holder_notices(kubesim, capsys):
    seed_basic(kubesim)
    assert run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "db", "--yes", "--move-id", "take1")[0] == 0
    api = api_for(kubesim)
    old = leasemod.Lease(journalmod.find(api, "take1", ["dst"]), "run", "alice", host="ws-12", pid=99)
    old.acquire()
    lost = []
    old._on_lost = lost.append

    code, out, err = run_move(kubesim, capsys, "rollback", "take1", "--yes")
    assert code == 1 and 'is being worked on by "run" of alice on host ws-12 (pid 99)' in err
    code, out, err = run_move(kubesim, capsys, "rollback", "take1", "--yes", "--force-takeover")
    assert code == 0, err
    assert 'Taking over the lease of move take1 from "run" of alice on host ws-12 (pid 99)' in err
    assert names(kubesim, VM, "dst") == []

    # The old holder's next renewal (or any journal write of it) finds the lease gone to someone else.
    assert old.renew() is False
    assert old.lost_to is not None and lost
    assert "was taken over by" in old.lost_message()


def test_a_run_whose_lease_is_taken_over_stops_with_an_error(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    code, text, _ = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--move-id", "lost1",
                             "-o", "yaml")
    import yaml

    doc = yaml.safe_load(text)
    usurp = threading.Event()

    def hook(etype, rkey, obj):
        if rkey == "datavolumes.cdi.kubevirt.io" and etype == "ADDED" and not usurp.is_set():
            kubesim.clock.speed = 0
            usurp.set()

    kubesim.store.subscribe(hook)

    def usurper():
        usurp.wait(60)
        put_lease(kubesim, "lost1", record(host="ws-12", pid=5, age=0, user="bob") | {
            "renewed": journalmod.now_text()})
        kubesim.clock.speed = FAST

    t = threading.Thread(target=usurper, daemon=True)
    t.start()
    from kubectl_vmmove.errors import UserError

    with pytest.raises(UserError) as info:
        execute(api_for(kubesim), doc, None, "admin", 2, 600, stream=_Stream())
    t.join(5)
    assert 'move lost1 was taken over by "run" of bob on host ws-12 (pid 5); this run stopped' in str(info.value)
    assert lease_of(kubesim, "lost1")["user"] == "bob"     # left to its new holder


class _Stream:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def isatty(self):
        return False

"""`rollback` never hangs: a conflicting journal write, a lost lease and a watch that never delivers all end the
command (done, or stopped with a message), never a process that prints nothing and does not exit."""

import json
import threading

from kubectl_vmmove.kube import kinds
from kubectl_vmmove.move.state import journal as journalmod
from kubectl_vmmove.move.state import lease as leasemod
from tests.move_run_support import VMI, api_for, kubectl_vmmove, names, run_move, seed_basic, vm_records

# Far more than any of these commands needs when it works; a command still running then is hung.
HUNG_AFTER = 120


def in_thread(sim, *argv):
    """Run the CLI in a thread; (thread, result) where result gets "code" when it returns."""
    result: dict = {}

    def call():
        result["code"] = kubectl_vmmove(sim, *argv)

    t = threading.Thread(target=call, daemon=True)
    t.start()
    return t, result


def test_rollback_finishes_when_a_journal_write_meets_a_conflict(kubesim, capsys):
    seed_basic(kubesim)
    assert run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "db", "--yes", "--move-id", "hang1")[0] == 0
    # The first patch of the journal's main object is the lease; the next one (rollback's start) meets a 409,
    # as when a lease renewal changed the object between the read and the write.
    kubesim.faults.inject(verb="patch", resource="configmaps", name=journalmod.name_for("hang1"), status=409,
                          skip=1, times=1)
    t, result = in_thread(kubesim, "rollback", "hang1", "--yes")
    t.join(HUNG_AFTER)
    assert not t.is_alive(), "rollback hung"
    out, err = capsys.readouterr()
    assert result["code"] == 0, err
    assert {r["phase"] for r in vm_records(kubesim).values()} == {"RolledBack"}
    from tests.kubesim.controllers.testing import run_until

    run_until(kubesim, lambda: names(kubesim, "virtualmachines.kubevirt.io", "dst") == [], step=1)


def test_rollback_whose_lease_is_taken_while_a_watch_never_delivers_stops_with_a_message(kubesim, capsys,
                                                                                           monkeypatch):
    seed_basic(kubesim)
    assert run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--yes", "--move-id", "hang2")[0] == 0
    monkeypatch.setattr(leasemod, "DURATION_SECONDS", 2.0)     # renewals every half second
    kubesim.faults.stall_watches(VMI)        # rollback waits for the target VMI to stop: nothing ever arrives
    t, result = in_thread(kubesim, "rollback", "hang2", "--yes", "--request-timeout", "1s")
    api = api_for(kubesim)
    name = journalmod.name_for("hang2")

    def holder():
        text = (api.get(kinds.CONFIGMAP, name, "dst").get("data") or {}).get("lease")
        return json.loads(text) if text else {}

    from tests.kubesim.controllers.testing import run_until

    run_until(kubesim, lambda: holder().get("command") == "rollback", step=1)
    other = {"host": "ws-12", "pid": 5, "token": "b0b", "user": "bob", "command": "run",
             "acquired": journalmod.now_text(), "renewed": journalmod.now_text(), "durationSeconds": 60}
    api.patch(kinds.CONFIGMAP, name, {"data": {"lease": json.dumps(other)}}, namespace="dst")
    journalmod.find(api, "hang2", ["dst"]).fence("b0b")

    t.join(HUNG_AFTER)
    assert not t.is_alive(), "rollback hung"
    out, err = capsys.readouterr()
    assert result["code"] != 0
    assert 'move hang2 was taken over by "run" of bob on host ws-12 (pid 5); this rollback stopped' in err
    assert "Traceback" not in err
    assert holder()["user"] == "bob"      # left to its new holder


def test_a_lease_that_cannot_be_renewed_before_it_expires_stops_its_holder(kubesim, capsys):
    """Renewals that keep failing must not go on silently past the lease's expiry (another process could take the
    move over meanwhile): the holder is told and says why."""
    seed_basic(kubesim)
    assert run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "db", "--yes", "--move-id", "hang3")[0] == 0
    jr = journalmod.find(api_for(kubesim), "hang3", ["dst"])
    now = [1000.0]
    lease = leasemod.Lease(jr, "rollback", "alice", duration=0.4, monotonic=lambda: now[0])
    lease.acquire()
    kubesim.faults.inject(verb="patch", resource="configmaps", name=jr.name, status=500)
    now[0] += 60.0           # no renewal got through for far longer than the lease lasts
    lost = threading.Event()
    lease.start_heartbeat(on_lost=lambda holder: lost.set())
    assert lost.wait(HUNG_AFTER), "the holder was never told"
    lease.release()
    assert "this rollback of move hang3 lost its lease (it could not be renewed for 60s" in lease.lost_message()

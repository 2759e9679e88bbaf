"""`status -w` without a terminal: one line per change, each stamped with the time of the change it reports (the
journal's own timestamps, not the moment the line is printed), and a VM never shown going back to an earlier step
when an older journal version arrives after a newer one (a part watched out of order, a relist)."""

import io
import json
import os
import socket
import time

from kubectl_vmmove.move.cmd import status
from kubectl_vmmove.move.state import journal as journalmod


def record(done, phase="Running", at=None, attempts=1):
    steps = [{"action": a, "kind": "VirtualMachine", "name": "web",
              "state": "Done" if i < done else "Pending",
              **({"finished": f"2025-01-01T00:0{i}:00Z"} if i < done else {})}
             for i, a in enumerate(("stop", "clone", "create", "start"))]
    nxt = ("stop virtualmachine/web", "clone 1 disk(s)", "create virtualmachine/web", "start virtualmachine/web",
           "done")[done]
    out = {"phase": phase, "steps": steps, "step": nxt, "attempts": attempts, "started": "2025-01-01T00:00:00Z"}
    if phase in ("Succeeded", "Failed"):
        out["finished"] = at
    return out


class FakeJournal:
    """The part of a Journal `status.watch` uses, fed by scripted watch events."""

    move_id, namespace, name = "w1", "dst", "vmmove-w1"

    def __init__(self, first, events):
        self.api = self
        self._events = events
        self.take(first)

    def take(self, obj):
        self.obj = obj

    def move(self):
        return json.loads(self.obj["data"]["move"])

    def vms(self):
        return {"web": json.loads(self.obj["data"]["vm.web"])}

    def refresh(self):
        return self

    def watch(self, *args, **kwargs):
        for obj in self._events:
            yield "MODIFIED", obj
        self._events = []


def journal_obj(rv, vm, phase="Running"):
    lease = {"token": "t", "host": socket.gethostname(), "pid": os.getpid(), "renewed": journalmod.now_text(),
             "durationSeconds": 60, "command": "run"}
    return {"metadata": {"name": "vmmove-w1", "resourceVersion": str(rv)},
            "data": {"move": json.dumps({"phase": phase}), "vm.web": json.dumps(vm), "lease": json.dumps(lease)}}


def shown(text):
    rows = []
    for line in text.splitlines():
        stamp, rest = line.split(" ", 1)
        rows.append((stamp, dict(p.split("=", 1) for p in rest.split("  ") if "=" in p)))
    return rows


def local(utc_text):
    return time.strftime("%H:%M:%S", time.localtime(journalmod_parse(utc_text)))


def journalmod_parse(text):
    import calendar

    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def test_watch_never_shows_a_step_going_back_and_stamps_lines_with_the_time_of_the_change():
    events = [journal_obj(2, record(2)),                 # stop and clone done
              journal_obj(3, record(1)),                 # an older version arriving late
              journal_obj(4, record(3)),
              journal_obj(5, record(4, "Succeeded", at="2025-01-01T00:04:30Z"), phase="Succeeded")]
    jr = FakeJournal(journal_obj(1, record(1)), events)
    out = io.StringIO()
    status.watch(jr, stream=out)
    rows = shown(out.getvalue())
    steps = [fields["step"] for _, fields in rows]
    assert steps == ["clone 1 disk(s)", "create virtualmachine/web", "start virtualmachine/web", "done"], rows
    stamps = [stamp for stamp, _ in rows]
    assert stamps == [local("2025-01-01T00:00:00Z"), local("2025-01-01T00:01:00Z"), local("2025-01-01T00:02:00Z"),
                      local("2025-01-01T00:04:30Z")], rows

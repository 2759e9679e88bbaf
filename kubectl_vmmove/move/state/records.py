"""What the journal records of a move, by name: the phases of a move and of each VM, the states of a step, and a VM
record that changes only through the transitions a run makes.

A record stays the plain dict the journal stores as JSON (`data["vm.<name>"]`); `VMRecord` is a view that reads it
and applies one transition at a time:

    begin → step_done … → succeed
                        ↘ fail | interrupt        (a later run begins again: attempts + 1)
    any → rolled_back                             (rollback)
"""

from typing import Any, Dict, Iterable, List, Optional

# Phases of a VM, and of the move as a whole (`move.phase` in the journal).
PENDING = "Pending"
RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
INTERRUPTED = "Interrupted"     # move only: Ctrl-C, or VMs left pending
ROLLED_BACK = "RolledBack"
CLEANED_UP = "CleanedUp"        # move only, as `status` shows it once cleanup has finished
# The move phases after which `run` has stopped (status stops watching).
FINAL_MOVE_PHASES = (SUCCEEDED, FAILED, INTERRUPTED)

# States of one step in a VM record.
STEP_PENDING = "Pending"
STEP_DONE = "Done"


def new_vm_record() -> dict:
    """The record of a VM no run has begun yet (as a new journal holds it)."""
    return {"phase": PENDING, "steps": []}


class VMRecord:
    """A typed view over one VM's journal record (a plain dict, changed in place)."""

    __slots__ = ("data",)

    def __init__(self, data: Dict[str, Any]) -> None:
        self.data = data

    @property
    def phase(self) -> str:
        return self.data.get("phase", PENDING)

    @property
    def step(self) -> Optional[str]:
        return self.data.get("step")

    @property
    def message(self) -> Optional[str]:
        return self.data.get("message")

    @property
    def attempts(self) -> int:
        return int(self.data.get("attempts") or 0)

    @property
    def steps(self) -> List[dict]:
        return self.data.get("steps") or []

    # ------------------------------------------------------------------------------------------ transitions

    def begin(self, steps: List[dict], user: str, now: str) -> None:
        """A run takes the VM up: Running, one more attempt; the plan's steps, keeping what an earlier attempt did."""
        record = self.data
        record["phase"] = RUNNING
        record.setdefault("started", now)
        record["attempts"] = self.attempts + 1
        record["user"] = user
        record.pop("message", None)
        record.pop("finished", None)
        earlier = (record.get("steps") or []) + [{}] * len(steps)
        record["steps"] = [{"action": s["action"], "kind": s["kind"], "name": s["name"],
                            "state": prev.get("state", STEP_PENDING),
                            **{k: prev[k] for k in ("finished", "result") if k in prev}}
                           for s, prev in zip(steps, earlier)]

    def step_done(self, indexes: Iterable[int], result: str, finished: str, next_step: str, *,
                  stopped: bool = False, running: bool = False) -> None:
        """The steps at `indexes` are done with `result`; `next_step` says what comes next ("done" after the last).
        `stopped`: the source VM was running and is stopped now (downtime starts); `running`: the target started."""
        for i in indexes:
            self.data["steps"][i].update(state=STEP_DONE, finished=finished, result=result)
        self.data["step"] = next_step
        if stopped:
            self.data["stoppedAt"] = finished
        if running:
            self.data["runningAt"] = finished

    def progress(self, percent: float, at: Optional[str] = None) -> None:
        """Copy progress; `at`: when it was seen (status -w stamps its line with it)."""
        self.data["progress"] = percent
        if at is not None:
            self.data["progressAt"] = at

    def interrupt(self) -> None:
        """Stopped by the user between steps: Pending again, for a re-run to continue."""
        self.data.update(phase=PENDING, message="interrupted; re-run to continue")

    def fail(self, message: str, finished: str) -> None:
        self.data.update(phase=FAILED, message=message, finished=finished)

    def succeed(self, finished: str, downtime: Optional[float]) -> None:
        self.data.update(phase=SUCCEEDED, finished=finished, step="done", progress=100.0,
                         **({"downtimeSeconds": downtime} if downtime is not None else {}))

    def rolled_back(self) -> None:
        self.data.update(phase=ROLLED_BACK, step="rolled back", message=None)

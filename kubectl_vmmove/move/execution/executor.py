"""The executor behind `run`: the plan's prepare steps once, then each VM's steps in order, `parallel` VMs at a time.

Every step looks at the cluster before it acts (see copies, disks, lifecycle), so a re-run after a crash, a Ctrl-C
or a failure simply runs the unfinished VMs' steps again: what is done is found done, nothing is duplicated. VMs
the journal records as Succeeded are not touched again. A step that fails marks its VM Failed with the cause and
the other VMs go on.
"""

import logging
import threading
import time
from typing import Dict, List, Optional

from ...errors import UserError
from ...kube import errors as kerr
from ...kube import kinds
from ...kube.wait import WaitStopped, WaitTimeout
from ..context import Interrupted, RunContext, StepFailed
from ..state import journal as journalmod
from ..state import records
from ..state.lease import LeaseLost
from ..state.records import VMRecord
from . import copies, disks, events, lifecycle, live
from . import transfer as transfermod

log = logging.getLogger(__name__)
JOURNAL_PROGRESS_SECONDS = 2.0


def describe(step: dict) -> str:
    return f"{step['action']} {step['kind'].lower()}/{step['name']}"


def groups(steps: List[dict]) -> List[List[int]]:
    """Step indexes, consecutive clone (or transfer) steps together: all disks of one VM move at once."""
    out: List[List[int]] = []
    for i, step in enumerate(steps):
        if out and step["action"] in ("clone", "transfer") and steps[out[-1][0]]["action"] == step["action"]:
            out[-1].append(i)
        else:
            out.append([i])
    return out


class Executor:
    def __init__(self, ctx: RunContext, parallel: int = 1, progress=None, clock=time.monotonic):
        self.ctx = ctx
        self.parallel = max(1, int(parallel))
        self.progress = progress
        self.clock = clock
        self._vm_started: Dict[str, float] = {}
        self._step_started: Dict[str, float] = {}
        self._last_journal_progress: Dict[str, float] = {}
        self._copy_started: Dict[str, tuple] = {}   # vm -> (clock, bytes) of the first progress of its copy
        self._lock = threading.Lock()
        self._object_transfer: Optional[tuple] = None
        self.server_gone: Optional[kerr.ServerGone] = None   # the outage that stopped this run (see run_vm)
        self._current: Dict[str, dict] = {}     # VM name -> the step it is in (a live step is cancelled on Ctrl-C)
        ctx.report = self.report

    # ------------------------------------------------------------------------------------------ progress

    def report(self, vm: str, step: Optional[str] = None, progress: Optional[float] = None,
               total_bytes: Optional[int] = None, **extra) -> None:
        """Show a VM's state; `progress` (percent) of a copy of `total_bytes` adds bytes, rate and ETA (copy_fields)."""
        now = self.clock()
        fields = dict(extra)
        if step is not None:
            fields["step"] = step
            if progress is None:
                fields.update(progress="", copied="", rate="", eta="")
                self._copy_started.pop(vm, None)
        started = self._vm_started.get(vm)
        if started is not None:
            from ...printers import human_duration

            fields["elapsed"] = human_duration(now - started)
        if progress is not None:
            fields.update(self.copy_fields(vm, now, progress, total_bytes))
            self._journal_progress(vm, now, progress)
        if self.progress is not None:
            self.progress.update(vm, vm=vm, **fields)

    def copy_fields(self, vm: str, now: float, progress: float, total_bytes: Optional[int]) -> Dict[str, str]:
        """Percent, bytes copied, and the rate and ETA observed since this copy first reported progress (the wait
        before a copy starts, and the plan's estimate, do not count)."""
        from ...printers import human_duration
        from ...progress import eta
        from ..quantities import human_bytes

        fields = {"progress": f"{progress:.0f}%"}
        if not total_bytes:
            fields["eta"] = eta(progress, 100.0, now - self._step_started.get(vm, now))
            return fields
        copied = total_bytes * min(progress, 100.0) / 100
        first_at, first_bytes = self._copy_started.setdefault(vm, (now, copied))
        fields["copied"] = f"{human_bytes(int(copied))}/{human_bytes(total_bytes)}"
        rate = (copied - first_bytes) / (now - first_at) if now > first_at else 0.0
        fields["rate"] = f"{human_bytes(int(rate))}/s" if rate > 0 else ""
        fields["eta"] = human_duration((total_bytes - copied) / rate) if rate > 0 and copied < total_bytes else "-"
        return fields

    def _journal_progress(self, vm: str, now: float, progress: float) -> None:
        if self.ctx.journal is None or now - self._last_journal_progress.get(vm, 0) < JOURNAL_PROGRESS_SECONDS:
            return
        self._last_journal_progress[vm] = now
        try:
            self.ctx.journal.vm_change(vm, VMRecord.progress, round(progress, 1), journalmod.now_text())
        except kerr.ApiError as err:
            log.info("could not record progress of %s: %s", vm, err)

    # ------------------------------------------------------------------------------------------ prepare

    def prepare_namespace(self) -> None:
        """Namespace steps come first: the journal lives in the target namespace."""
        for step in self.ctx.move_plan.prepare:
            if step["kind"] != "Namespace":
                continue
            try:
                if step["action"] == "create":
                    copies.create(self.ctx, step)
                elif step["action"] == "label":
                    copies.label_namespace(self.ctx, step)
            except StepFailed as err:
                raise UserError(f"cannot prepare namespace {step['name']}: {err}") from err

    def prepare_shared(self) -> None:
        for step in self.ctx.move_plan.prepare:
            if step["kind"] == "Namespace":
                continue
            try:
                self.run_step(None, step)
            except kerr.ServerGone:
                raise                   # the run stops and says how to continue (run.execute)
            except (StepFailed, kerr.ApiError) as err:
                raise UserError(f"cannot prepare {describe(step)} (used by several VMs): {err}") from err

    # ------------------------------------------------------------------------------------------ one VM

    def run_step(self, entry: Optional[dict], step: dict) -> str:
        ctx, action = self.ctx, step["action"]
        if action in ("stop", "record-source", "start"):
            if entry is None:
                raise StepFailed(f"the plan lists {describe(step)} among the shared prepare steps; it belongs to a VM")
            if action == "stop":
                return lifecycle.stop_source(ctx, entry, step)
            if action == "record-source":
                return self.record_sources(entry)
            return lifecycle.start_target(ctx, entry, step)
        if action in live.ACTIONS:
            if entry is None:
                raise StepFailed(f"the plan lists {describe(step)} among the shared prepare steps; it belongs to a VM")
            return live.run_step(ctx, entry, step)
        if action == "copy":
            return copies.copy_at_run_time(ctx, step)
        if action == "create":
            result = copies.create(ctx, step)
            if step["kind"] == "VirtualMachine":
                vm = ctx.api.get(kinds.VM, step["name"], ctx.target)
                events.record(ctx.api, vm, ctx.move_id, "MovedIn",
                              f"Created by kubectl-vmmove move {ctx.move_id} from {ctx.source}/{step['name']} "
                              f"(user {ctx.user or 'unknown'})")
            return result
        if action == "label":
            return copies.label(ctx, step)
        if action == "set-owner":
            return copies.set_owner(ctx, step)
        if action == "set-run-strategy":
            return lifecycle.set_run_strategy(ctx, step["name"], step["runStrategy"])
        raise StepFailed(f'the plan has a step "{action}" this version of kubectl-vmmove does not know; '
                         "make the plan with the same version")

    def object_transfer(self) -> tuple:
        """transfer.object_transfer_choice, decided once per run."""
        with self._lock:
            if self._object_transfer is None:
                self._object_transfer = transfermod.object_transfer_choice(self.ctx.api, self.ctx.plan)
            return self._object_transfer

    def run_group(self, entry: dict, steps: List[dict]) -> str:
        action = steps[0]["action"]
        if action == "clone":
            return disks.clone(self.ctx, entry, steps)
        if action == "transfer":
            use_ot = any(s.get("objectTransfer") for s in steps) and self.object_transfer()[0]
            return transfermod.transfer(self.ctx, entry, steps, use_ot)
        return self.run_step(entry, steps[0])

    def record_sources(self, entry: dict) -> str:
        """The source objects as they are before anything is copied (Secrets by name and type only)."""
        ctx = self.ctx
        if ctx.journal is None or ctx.journal.has_sources(entry["name"]):
            return "already recorded"
        wanted = [(kinds.VM, entry["name"])]
        for disk in entry.get("disks") or ():
            wanted.append((kinds.PVC, disk["claim"]))
            if disk.get("dataVolume"):
                wanted.append((kinds.DATAVOLUME, disk["dataVolume"]))
        for step in entry["steps"]:
            if step["action"] in ("copy", "create") and step.get("source") and step["kind"] != "VirtualMachine":
                wanted.append((kinds.by_kind(step["kind"]), step["name"]))
        objects = []
        for kind, name in dict.fromkeys(wanted):
            try:
                objects.append(ctx.api.get(kind, name, ctx.source))
            except kerr.NotFound:
                continue
        ctx.journal.record_sources(entry["name"], objects)
        return f"{len(objects)} object(s) recorded"

    def run_vm(self, entry: dict) -> dict:
        """Move one VM: begin its record, run its steps, and record how it ended; returns its journal record."""
        ctx, name = self.ctx, entry["name"]
        self._vm_started[name] = self.clock()
        ctx.journal.vm_change(name, VMRecord.begin, entry["steps"], ctx.user, journalmod.now_text())
        self.report(name, step="starting move")
        try:
            down_since = self._run_steps(entry)
        except (Interrupted, WaitStopped):
            return self._interrupted(name)
        except kerr.ServerGone as err:
            return self._lost_server(name, err)
        except (StepFailed, WaitTimeout, kerr.ApiError, UserError) as err:
            return self._failed(name, str(err))
        return self._succeeded(name, down_since)

    def _run_steps(self, entry: dict) -> Optional[float]:
        """The VM's steps, group by group, each recorded done; returns when the source VM went down (by this
        executor's clock), or None when it was not running."""
        ctx, name, steps = self.ctx, entry["name"], entry["steps"]
        down_since: Optional[float] = None
        for group in groups(steps):
            ctx.check_stop()
            first = steps[group[0]]
            label = describe(first) if len(group) == 1 else f"{first['action']} {len(group)} disk(s)"
            self._step_started[name] = self.clock()
            self.report(name, step=label)
            if first["action"] == "stop" and down_since is None:
                vmi = lifecycle.target_vmi(ctx.api, name, ctx.source)
                if lifecycle.vmi_active(vmi):
                    down_since = self.clock()
            self._current[name] = first
            result = self.run_group(entry, [steps[i] for i in group])
            self._current.pop(name, None)
            nxt = group[-1] + 1
            ctx.journal.vm_change(name, VMRecord.step_done, group, result, journalmod.now_text(),
                                  describe(steps[nxt]) if nxt < len(steps) else "done",
                                  stopped=first["action"] == "stop" and down_since is not None,
                                  running=first["action"] == "start")
        return down_since

    def _interrupted(self, name: str) -> dict:
        jr = self.ctx.journal
        if self.ctx.lease_lost or self.server_gone is not None:
            return jr.vm(name)   # the journal is the new holder's now, or cannot be written
        jr.vm_change(name, VMRecord.interrupt)
        self.report(name, step="interrupted")
        return jr.vm(name)

    def _lost_server(self, name: str, err: kerr.ServerGone) -> dict:
        """The API server stopped answering for longer than the retry layer's outage budget: every VM stops where
        it is. Nothing can be written now; the journal keeps each VM's last finished step, where a resume starts."""
        with self._lock:
            if self.server_gone is None:
                self.server_gone = err
        self.ctx.stop.set()
        self.report(name, step="stopped: API server gone", progress=None)
        return self.ctx.journal.vm(name)

    def _failed(self, name: str, message: str) -> dict:
        ctx = self.ctx
        ctx.journal.vm_change(name, VMRecord.fail, message, journalmod.now_text())
        self.report(name, step="failed", progress=None)
        vm = ctx.api.get_or_none(kinds.VM, name, ctx.target)
        if vm is not None and ctx.ours(vm):
            events.record(ctx.api, vm, ctx.move_id, "MoveFailed", message[:1000], "Warning")
        return ctx.journal.vm(name)

    def _succeeded(self, name: str, down_since: Optional[float]) -> dict:
        ctx = self.ctx
        downtime = None if down_since is None else round(self.clock() - down_since, 3)
        ctx.journal.vm_change(name, VMRecord.succeed, journalmod.now_text(), downtime)
        self.report(name, step="done", progress=100.0)
        vm = ctx.api.get_or_none(kinds.VM, name, ctx.target)
        if vm is not None:
            events.record(ctx.api, vm, ctx.move_id, "MoveSucceeded",
                          f"Move {ctx.move_id} from {ctx.source} finished")
        return ctx.journal.vm(name)

    def _cancel_live(self) -> None:
        """Ctrl-C: cancel the live moves in flight here, in the main thread, before the process exits (the workers
        are daemon threads): both migrations deleted, the source runs on, the receiver removed (execution/live.py)."""
        for name, step in list(self._current.items()):
            if step["action"] in live.ACTIONS:
                try:
                    live.cancel(self.ctx, self.ctx.move_plan.vm(name))
                except kerr.ApiError as err:
                    log.warning("could not cancel the live move of %s: %s", name, err)

    # ------------------------------------------------------------------------------------------ all VMs

    def run(self, only: Optional[List[str]] = None) -> Dict[str, dict]:
        """Run the VMs not yet Succeeded (or `only` these); returns each VM's journal record.

        KeyboardInterrupt propagates after the workers were told to stop."""
        jr = self.ctx.journal
        done = {n for n, r in jr.vms().items() if VMRecord(r).phase == records.SUCCEEDED}
        todo = [v for v in self.ctx.move_plan.vms if v["name"] not in done and (only is None or v["name"] in only)]
        for v in self.ctx.move_plan.vms:
            if v not in todo and self.progress is not None:
                self.progress.update(v["name"], vm=v["name"], step="done (earlier run)")
        jr.move_update(lambda m: (m.update(phase=records.RUNNING),
                                  m.setdefault("runs", []).append({"user": self.ctx.user,
                                                                   "started": journalmod.now_text()})))
        queue = list(todo)
        qlock = threading.Lock()
        results: Dict[str, dict] = {}

        def worker():
            while not self.ctx.stop.is_set():
                with qlock:
                    if not queue:
                        return
                    entry = queue.pop(0)
                try:
                    results[entry["name"]] = self.run_vm(entry)
                except kerr.ServerGone as err:   # while recording a failure or an interruption
                    results[entry["name"]] = self._lost_server(entry["name"], err)
                except Exception as err:   # a bug must not take the other VMs down with it
                    log.exception("moving %s failed", entry["name"])
                    results[entry["name"]] = {"phase": records.FAILED, "message": f"unexpected error: {err}"}

        threads = [threading.Thread(target=worker, name=f"vmmove-{i}", daemon=True)
                   for i in range(min(self.parallel, len(todo)) or 0)]
        for t in threads:
            t.start()
        self._join(threads)
        if self.server_gone is not None:
            raise self.server_gone
        final = jr.refresh().vms()
        failed = [n for n, r in final.items() if r.get("phase") == records.FAILED]
        pending = [n for n, r in final.items() if r.get("phase") != records.SUCCEEDED and n not in failed]
        phase = records.FAILED if failed else (records.SUCCEEDED if not pending else records.INTERRUPTED)
        jr.move_update(lambda m: (m.update(phase=phase), m["runs"][-1].update(finished=journalmod.now_text())
                                  if m.get("runs") else None))
        return final

    def _join(self, threads: List[threading.Thread]) -> None:
        """Wait for the workers; stop them on a lost lease, or on Ctrl-C/SIGTERM (recorded, then re-raised)."""
        jr = self.ctx.journal
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.5)
                    if self.progress is not None:
                        self.progress.tick()    # a line now and then during a long copy, without a terminal
                    if self.ctx.lease_lost:
                        self.ctx.stop.set()
                        raise LeaseLost(self.ctx.lease.lost_message())
        except KeyboardInterrupt:
            self.ctx.stop.set()
            self._cancel_live()
            try:
                jr.move_update(lambda m: m.update(phase=records.INTERRUPTED))
            except kerr.ApiError:
                pass
            raise

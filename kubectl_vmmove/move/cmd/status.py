"""`kubectl vmmove status`: Show the moves found in the namespaces you can read, or the per-VM steps of one move."""

import sys
from dataclasses import dataclass
from typing import Any, Dict, Optional

from ...errors import UsageError
from ...printers import OutputOptions
from ...verbs import Streams, VerbOptions, run_verb
from ..state import records

DESCRIPTION = """Show the moves found in the namespaces you can read, or the per-VM steps of one move.

Moves are read from their journals (configmaps vmmove-<move-id> in the target namespaces). With a MOVE_ID, each VM's
phase, current step, disk progress and downtime are shown; --watch follows a running move, also one started from
another terminal, until it ends."""

EXAMPLES = """Examples:
  # All moves you can see
  kubectl vmmove status

  # One move, per VM
  kubectl vmmove status 7f3c2a

  # Follow a running move
  kubectl vmmove status 7f3c2a --watch

  # The journal's state as YAML
  kubectl vmmove status 7f3c2a -o yaml"""

FINAL_PHASES = records.FINAL_MOVE_PHASES


def add_arguments(parser):
    from ...flags import add_output_flag

    parser.add_argument("move_id", nargs="?", metavar="MOVE_ID", help="The move to show")
    parser.add_argument("-w", "--watch", action="store_true", help="Follow the move until it ends")
    # Listing already covers every namespace the user can read; -A is accepted because kubectl users type it.
    parser.add_argument("-A", "--all-namespaces", action="store_true",
                        help="List the moves of every namespace you can read (the default without -n)")
    add_output_flag(parser, formats=("table", "wide", "yaml", "json"))


def move_document(jr) -> dict:
    """The journal's state as one document, for -o yaml/json (plan and source objects left out)."""
    return {"apiVersion": "vmmove.io/v1alpha1", "kind": "MoveStatus",
            "metadata": {"name": jr.move_id, "namespace": jr.namespace,
                         "creationTimestamp": jr.obj.get("metadata", {}).get("creationTimestamp")},
            "move": jr.move(), "vms": jr.vms()}


def counts(jr) -> dict:
    out = {records.SUCCEEDED: 0, records.FAILED: 0, records.RUNNING: 0, records.PENDING: 0}
    for record in jr.vms().values():
        phase = records.VMRecord(record).phase
        out[phase] = out.get(phase, 0) + 1
    return out


def started(jr) -> str:
    """When the move was planned, by the clock of the kubectl-vmmove that wrote it: AGE compares it with this
    machine's clock, which the API server's creationTimestamp may be ahead of (AGE would read <invalid>)."""
    return jr.move().get("created") or jr.obj.get("metadata", {}).get("creationTimestamp") or ""


def newest_first(journals):
    """Moves as `status` lists them: the latest planned first (then by namespace and id, for a stable order)."""
    return sorted(sorted(journals, key=lambda j: (j.namespace, j.move_id)), key=started, reverse=True)


def overview_table(journals):
    from ...printers import Column, Table, age

    table = Table([Column("Move-ID"), Column("Source"), Column("Target"), Column("Strategy"), Column("VMs"),
                   Column("Succeeded"), Column("Failed"), Column("Phase"), Column("Verified"), Column("Age"),
                   Column("User", wide_only=True)])
    for jr in newest_first(journals):
        move = jr.move()
        c = counts(jr)
        verified = move.get("verify", {}).get("passed")
        table.add(jr.move_id, move.get("source", ""), jr.namespace, move.get("strategy", ""), len(jr.vms()),
                  c[records.SUCCEEDED], c[records.FAILED], shown_phase(jr),
                  "-" if verified is None else ("yes" if verified else "no"),
                  age(started(jr) or None), move.get("createdBy", ""))
    return table


def move_phase(move: dict) -> str:
    """The phase a user reads: what run recorded, unless cleanup or rollback has finished since."""
    if (move.get("rollback") or {}).get("finished"):
        return records.ROLLED_BACK
    if (move.get("cleanup") or {}).get("finished"):
        return records.CLEANED_UP
    return move.get("phase", records.PENDING)


def holder_state(jr) -> str:
    """Whether a process works on the move now, as lease.verdict judges its lease from here: LIVE, or FREE when
    nobody holds it, or STALE/UNCERTAIN when its holder died (gone pid on this host, no renewal for a lease time)."""
    import socket
    import time

    from ..state import lease as leasemod

    return leasemod.verdict(leasemod.holder(jr), time.time(), socket.gethostname())


def shown_phase(jr) -> str:
    """move_phase, except that a move recorded Running that no live process holds was interrupted: its run was
    killed, lost its terminal or its API server, and 'run --resume' continues it."""
    from ..state import lease as leasemod

    phase = move_phase(jr.move())
    if phase == records.RUNNING and holder_state(jr) != leasemod.LIVE:
        return records.INTERRUPTED
    return phase


def lease_line(jr) -> str:
    """The line under the header about the process working on the move (empty when nobody holds it)."""
    import time

    from ..state import lease as leasemod

    held = leasemod.holder(jr)
    if not held:
        return ""
    state = holder_state(jr)
    if state == leasemod.LIVE:
        return f"  in progress: {leasemod.describe(held)}, lease {leasemod.ago(held, time.time())}\n"
    import socket

    gone = held.get("host") == socket.gethostname() and not leasemod.pid_alive(held.get("pid") or -1)
    why = "is gone" if gone else "stopped renewing its lease"
    command = held.get("command") or "run"
    again = f"run --resume {jr.move_id} --to {jr.namespace}" if command == "run" else f"{command} {jr.move_id}"
    return (f"  interrupted: {leasemod.describe(held)} {why} (lease {leasemod.ago(held, time.time())}); continue "
            f"with 'kubectl vmmove {again}'\n")


def vm_rows(jr, interrupted: bool = False):
    """One row per VM; `interrupted`: the move's process died, so a VM it had Running stopped at its step."""
    from ...printers import human_duration

    rows = []
    for name, record in sorted(jr.vms().items()):
        progress = record.get("progress")
        downtime = record.get("downtimeSeconds")
        phase = records.VMRecord(record).phase
        if interrupted and phase == records.RUNNING:
            phase = records.INTERRUPTED
        rows.append({"vm": name, "phase": phase, "step": record.get("step", "-"),
                     "progress": f"{progress:.0f}%" if isinstance(progress, (int, float)) else "-",
                     "downtime": human_duration(downtime) if downtime is not None else "-",
                     "attempts": str(record.get("attempts", 0)), "message": record.get("message") or "-"})
    return rows


def print_move(jr, output, stream=None) -> None:
    from ...printers import Column, Table, print_table

    stream = stream or sys.stdout
    move = jr.move()
    if not output.no_headers:
        stream.write(f"Move {jr.move_id}: {move.get('source')} -> {jr.namespace}, strategy {move.get('strategy')}, "
                     f"MAC policy {move.get('macPolicy')}, phase {shown_phase(jr)}, by {move.get('createdBy')} "
                     f"at {move.get('created')}\n")
        stream.write(lease_line(jr))
        moved = [n for n, r in jr.vms().items() if records.VMRecord(r).phase == records.SUCCEEDED]
        if move.get("strategy") == "transfer" and moved and not (move.get("cleanup") or {}).get("finished") and \
                not move.get("rollback"):
            from ..execution.transfer import sources_note

            stream.write(f"  source: {sources_note(jr.move_id, move.get('source', ''), jr.namespace, moved)}\n")
        for key in ("verify", "cleanup", "rollback"):
            if move.get(key):
                info = move[key]
                result = "passed" if info.get("passed") else ("failed" if "passed" in info else "done")
                stream.write(f"  {key}: {result} at {info.get('finished') or info.get('started')} by "
                             f"{info.get('user')}\n")
        stream.write("\n")
    table = Table([Column("VM"), Column("Phase"), Column("Step"), Column("Progress"), Column("Downtime"),
                   Column("Attempts", wide_only=True), Column("Message")])
    for row in vm_rows(jr, interrupted=shown_phase(jr) == records.INTERRUPTED):
        table.add(row["vm"], row["phase"], row["step"], row["progress"], row["downtime"], row["attempts"],
                  row["message"])
    print_table(table, output, stream=stream)


def record_order(record: dict) -> tuple:
    """How far a VM record is: its attempt, then the steps done; a later journal version never has less."""
    vm = records.VMRecord(record)
    return vm.attempts, sum(1 for s in vm.steps if s.get("state") == records.STEP_DONE)


def change_time(record: dict) -> Optional[float]:
    """When the record last changed, by the journal's own timestamps (begin, each step done, progress, end)."""
    from ..state.lease import parse_time

    stamps = [record.get(k) for k in ("started", "finished", "stoppedAt", "runningAt", "progressAt")]
    stamps += [s.get("finished") for s in record.get("steps") or ()]
    times = [t for t in (parse_time(s) for s in stamps if s) if t is not None]
    return max(times) if times else None


def watch(jr, stream=None) -> None:
    """Follow the journal by watch until the move ends; a live table on a terminal, lines otherwise."""
    from ...kube import errors as kerr
    from ...kube import kinds
    from ...progress import Progress
    from ..state import journal as journalmod

    progress = Progress(["VM", "PHASE", "STEP", "PROGRESS", "MESSAGE"], stream=stream or sys.stdout,
                        plain_keys=["VM", "PHASE", "STEP", "MESSAGE"])
    reached: Dict[str, tuple] = {}

    def show():
        for row, record in zip(vm_rows(jr), (r for _, r in sorted(jr.vms().items()))):
            # An older journal version seen after a newer one (parts are watched apart, a relist) is not shown:
            # a VM never goes back to an earlier step on screen.
            order = record_order(record)
            if order < reached.get(row["vm"], order):
                continue
            reached[row["vm"]] = order
            progress.update(row["vm"], at=change_time(record), vm=row["vm"], phase=row["phase"], step=row["step"],
                            progress=row["progress"], message=row["message"])

    show()
    version = jr.obj.get("metadata", {}).get("resourceVersion")
    while shown_phase(jr) not in FINAL_PHASES:
        try:
            # The main object and its parts (VM records live in the parts of a split journal).
            for etype, obj in jr.api.watch(kinds.CONFIGMAP, jr.namespace, resource_version=version,
                                           label_selector=f"{journalmod.JOURNAL_LABEL},"
                                                          f"{journalmod.MOVE_ID_LABEL}={jr.move_id}",
                                           timeout_seconds=60):
                version = obj.get("metadata", {}).get("resourceVersion") or version
                if etype in ("ADDED", "MODIFIED"):
                    jr.take(obj)
                    show()
                    if jr.move().get("phase") in FINAL_PHASES:
                        break
                elif etype == "DELETED" and obj.get("metadata", {}).get("name") == jr.name:
                    progress.finish()
                    raise UsageError(f"the journal of move {jr.move_id} was deleted")
        except kerr.Gone:
            jr.refresh()
            version = jr.obj.get("metadata", {}).get("resourceVersion")
            show()
    progress.finish()


@dataclass
class StatusOptions(VerbOptions):
    args: Any
    move_id: Optional[str]
    watch: bool
    all_namespaces: bool
    namespace_flag: Optional[str]
    output: OutputOptions
    streams: Streams

    @classmethod
    def complete(cls, args, streams):
        return cls(args=args, move_id=getattr(args, "move_id", None), watch=bool(getattr(args, "watch", False)),
                   all_namespaces=bool(getattr(args, "all_namespaces", False)),
                   namespace_flag=getattr(args, "namespace", None),
                   output=OutputOptions(args.output, getattr(args, "no_headers", False)), streams=streams)

    def validate(self):
        from .flags import check_move_id

        check_move_id(self.move_id)
        if self.watch and not self.move_id:
            raise UsageError("--watch follows one move: give its MOVE_ID")

    @property
    def only(self) -> Optional[str]:
        """The namespace -n names: the only one looked in (-A looks everywhere, and uses -n as a hint only)."""
        return None if self.all_namespaces else self.namespace_flag

    def run(self):
        from ...kube.session import Session
        from ..state import journal as journalmod

        session = Session.from_args(self.args)
        hint = [self.namespace_flag, session.namespace]
        if not self.move_id:
            journals, searched = journalmod.list_visible(session.api, hint, only=self.only)
            return self.print_list(journals, searched)
        jr = journalmod.find(session.api, self.move_id, hint, only=self.only)
        if self.output.structured:
            self.print_structured(move_document(jr))
        elif self.watch:
            watch(jr, stream=self.streams.out)
        else:
            print_move(jr, self.output, stream=self.streams.out)
        return 0

    def print_list(self, journals, searched) -> int:
        from ...printers import print_table
        from ..state import journal as journalmod

        if self.output.structured:
            items = [move_document(j) for j in newest_first(journals)]
            self.print_structured({"apiVersion": "v1", "kind": "List", "items": items})
            return 0
        hint_text = journalmod.scope_hint(searched)
        print_table(overview_table(journals), self.output, stream=self.streams.out,
                    empty_message="No moves found." + (f" ({hint_text})" if hint_text else ""))
        return 0

    def print_structured(self, doc) -> None:
        from ...printers import dump_json, dump_yaml

        self.streams.out.write(dump_yaml(doc) if self.output.format == "yaml" else dump_json(doc))


def run(args):
    return run_verb(StatusOptions, args)

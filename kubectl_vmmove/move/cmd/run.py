"""`kubectl vmmove run`: Execute a move plan: stop each VM, copy its disks and dependencies to the target namespace,
create it there and start it. The source stays until a verified cleanup."""

import sys
from dataclasses import dataclass
from typing import Any, Optional

from ...durations import parse_duration
from ...errors import UsageError, UserError
from ...printers import OutputOptions
from ...verbs import Streams, VerbOptions, run_verb

DESCRIPTION = """Execute a move plan: stop each VM, copy its disks and dependencies to the target namespace, create it there and start it. The source stays until a verified cleanup.

The plan comes from a file written by 'kubectl vmmove plan -o yaml' (-f), or is made now from the same selection
flags as 'plan'. A plan with errors, or one the source has changed since it was written, is refused.

Per VM: stop it, record its objects in the journal (configmap vmmove-<move-id> in the target namespace), copy its
disks (CDI clone, or volume transfer), copy what it depends on, create it Halted, start it when it should run and
wait until it is Running, Ready and has its IP addresses. --parallel VMs move at a time.

Interrupted or failed moves continue where the cluster is with 'kubectl vmmove run --resume MOVE_ID' (or by running
the same 'run -f plan.yaml' again): finished VMs are left alone, nothing is created twice.

One process works on a move at a time: run, rollback and cleanup hold a lease in the move's journal, renewed while
they work. Another one on the same move refuses and names the holder; a holder that died (killed, terminal closed)
is taken over by the next run on the same machine at once, from another machine once its lease expired (60s
without renewal) and 30s more of watching saw no renewal; --force-takeover takes a live one (that process stops at
its next journal write).

On a terminal, run asks for confirmation (anything but y leaves everything as it was, exit status 1) and shows a
live table; otherwise it needs --yes and prints one line per change. Ctrl-C stops the VMs where they are, prints the
command that continues the move, and exits with status 130 (SIGTERM alike, status 143). An API server that stops
answering is waited for up to 3 minutes, the wait shown; then every VM stops where it is and the error gives the
command that continues once the server is back.

Exit status 1 when any VM failed."""

EXAMPLES = """Examples:
  # Move the VMs of a reviewed plan, four at a time
  kubectl vmmove run -f plan.yaml --parallel 4

  # Plan and move two VMs in one go, without a confirmation prompt
  kubectl vmmove run -n legacy --to prod web-01 db-01 --yes

  # Show what would be done, change nothing
  kubectl vmmove run -f plan.yaml --dry-run

  # Continue an interrupted or partly failed move
  kubectl vmmove run --resume 7f3c2a --to prod"""

DEFAULT_TIMEOUT = "1h"


def add_arguments(parser):
    from .flags import add_move_options, add_selection_arguments, add_takeover_flag

    add_selection_arguments(parser, move_list_flag=False)
    parser.add_argument("--move-list", dest="move_list", metavar="FILE",
                        help="File with one VM name per line (# starts a comment; - reads stdin)")
    parser.add_argument("-f", "--filename", dest="plan_file", metavar="PLAN",
                        help="The plan to run, as written by 'kubectl vmmove plan -o yaml' (- reads stdin)")
    parser.add_argument("--resume", metavar="MOVE_ID", help="Continue the move with this id from where it is")
    add_move_options(parser, target_help="The target namespace (required when planning now; helps --resume find "
                                         "the journal)")
    parser.add_argument("--parallel", type=int, default=4, metavar="N",
                        help="How many VMs move at the same time (default 4); all disks of a VM copy at once")
    parser.add_argument("--timeout", default=DEFAULT_TIMEOUT, metavar="DURATION",
                        help="How long each step of a VM may take, e.g. 30m, 2h (default 1h): stopping, copying all its "
                             "disks together, starting; 0 waits forever")
    parser.add_argument("-y", "--yes", action="store_true", help="Do not ask for confirmation")
    add_takeover_flag(parser)
    parser.add_argument("--dry-run", action="store_true", help="Print what would be done; change nothing")
    from ...flags import add_output_flag

    # The result: a table, a MoveRunResult document, or the moved VMs as names (kubectl create -o name).
    add_output_flag(parser, formats=("table", "yaml", "json", "name"))


@dataclass
class RunOptions(VerbOptions):
    args: Any
    plan_file: Optional[str]
    resume: Optional[str]
    selecting: bool
    parallel: int
    dry_run: bool
    yes: bool
    force_takeover: bool
    output: OutputOptions
    streams: Streams
    timeout: Optional[float] = None

    @classmethod
    def complete(cls, args, streams):
        selecting = bool(args.vms or args.selector or args.all or args.move_list)
        return cls(args=args, plan_file=args.plan_file, resume=args.resume, selecting=selecting,
                   parallel=args.parallel, dry_run=bool(args.dry_run), yes=bool(args.yes),
                   force_takeover=bool(args.force_takeover), output=OutputOptions(args.output, args.no_headers),
                   streams=streams)

    def validate(self):
        from .flags import check_move_id, shaping_flags_given

        if self.plan_file:
            given = shaping_flags_given(self.args)
            if given:
                raise UsageError(f"{given[0]} cannot be used with -f PLAN: the plan already says which VMs move and "
                                 "how; leave it out, or make a new plan with it ('kubectl vmmove plan ... -o yaml')")
        if sum(bool(x) for x in (self.plan_file, self.resume, self.selecting)) > 1:
            raise UsageError("give the VMs one way: -f PLAN, --resume MOVE_ID, or the selection flags of 'plan'")
        if not (self.plan_file or self.resume or self.selecting):
            raise UsageError("nothing to run: give -f PLAN, --resume MOVE_ID, or VMs with --to (as for 'plan')")
        check_move_id(self.resume)
        check_move_id(self.args.move_id, "--move-id")
        if self.parallel < 1:
            raise UsageError("--parallel must be at least 1")
        self.timeout = parse_duration(self.args.timeout, "--timeout")
        if self.selecting and not self.args.target:
            raise UsageError("--to NAMESPACE is required: the namespace to move the VMs to (or run a plan with -f)")

    def run(self):
        from ...kube.session import Session

        session = Session.from_args(self.args)
        if self.resume:
            doc, existing = self.resumed(session)
        elif self.plan_file:
            doc, existing = self.from_file(session.api, session.user)
        else:
            doc, existing = self.planned_now(session)
        if self.dry_run:
            print_steps(doc, stream=self.streams.out)
            return 0
        self.confirm(doc, self.yes or existing is not None and bool(self.resume))
        return execute(session.api, doc, existing, session.user, self.parallel, self.timeout,
                       force_takeover=self.force_takeover, out=self.streams.out, stream=self.streams.err,
                       output=self.output)

    def resumed(self, session):
        from ..state import journal as journalmod

        existing = journalmod.find(session.api, self.resume, [self.args.target, session.namespace])
        doc = existing.plan()
        refuse_finished(existing, doc)
        if not self.dry_run:
            existing.repair()
        return doc, existing

    def from_file(self, api, user):
        """The plan of -f, only when its seal holds and (for a new move) it is what the cluster gives now."""
        from ..planning import moveplan as planmod
        from ..planning import planfile

        doc = planfile.read(_read(self.plan_file, self.streams), origin=self.plan_file)
        if planmod.errors_in(doc):
            raise UserError(f"the plan has {len(planmod.errors_in(doc))} error(s); fix them and make a new plan")
        existing = _existing_journal(api, doc)
        if existing is not None:
            refuse_finished(existing, doc)
            found = planfile.first_difference(existing.plan(), doc)
            if found:
                raise UserError(f'the plan file "{self.plan_file}" is not the plan move {existing.move_id} runs '
                                f"(journal configmap/{existing.name} in {existing.namespace}): {found}; continue "
                                f"that move with 'kubectl vmmove run --resume {existing.move_id}'")
        elif not self.dry_run:
            recheck(api, doc, user)
        return doc, existing

    def planned_now(self, session):
        """A plan made now; with --move-id of a move that exists, that move's own plan when this is the same move
        (same namespaces and VMs: run again, it continues), refused when it is another one."""
        from ..planning.moveplan import MovePlan
        from .common import refuse_taken_move_id

        doc = _plan_now(session, self.args, self.streams)
        existing = None
        if self.args.move_id:
            plan = MovePlan(doc)

            def same(jr):
                return (jr.namespace == plan.target and jr.move().get("source") == plan.source
                        and sorted(MovePlan(jr.plan()).vm_names) == sorted(plan.vm_names))

            existing = refuse_taken_move_id(session.api, plan.options(), same=same)
            if existing is not None:
                doc = existing.plan()
                refuse_finished(existing, doc)
        return doc, existing

    def confirm(self, doc, assume_yes: bool) -> None:
        """On a terminal: the VMs, their downtime estimates and the plan's warnings, then the question."""
        from .views import print_confirmation

        if assume_yes:
            return
        if not self.streams.input.isatty():
            raise UserError("no terminal to confirm the move; add --yes to run without confirmation")
        print_confirmation(doc, self.streams.err)
        self.streams.err.write("Continue? [y/N] ")
        self.streams.err.flush()
        answer = self.streams.input.readline().strip().lower()
        if answer not in ("y", "yes"):
            raise UserError("move cancelled; nothing was changed")


def run(args):
    return run_verb(RunOptions, args)


def refuse_finished(existing, doc) -> None:
    """A move that was rolled back or cleaned up is over: its plan never runs again (that would create VMs in a
    target a rollback emptied, or copy from a source a cleanup deleted)."""
    from ..planning.moveplan import MovePlan

    move, plan = existing.move(), MovePlan(doc)
    mid, vms = existing.move_id, " ".join(plan.vm_names)
    rollback, cleanup = move.get("rollback") or {}, move.get("cleanup") or {}
    if rollback.get("finished"):
        raise UserError(f"move {mid} was rolled back at {rollback['finished']} by {rollback.get('user') or 'someone'}:"
                        f' its VMs are back in namespace "{plan.source}" and what it created in "{plan.target}" is '
                        "deleted, so its plan does not run again; to move the VMs again, plan a new move: "
                        f"kubectl vmmove plan -n {plan.source} --to {plan.target} {vms}")
    if rollback.get("started"):
        raise UserError(f"a rollback of move {mid} started at {rollback['started']} and has not finished; finish it "
                        f"with 'kubectl vmmove rollback {mid}', then plan a new move")
    if cleanup.get("started"):
        when = cleanup.get("finished") or cleanup["started"]
        raise UserError(f"move {mid} was cleaned up at {when} by {cleanup.get('user') or 'someone'}: its source VMs "
                        f'were deleted and the VMs now live in namespace "{plan.target}", so its plan does not run '
                        f"again; to move them on, plan a new move from there: kubectl vmmove plan -n {plan.target} "
                        f"--to NAMESPACE {vms}")


def _read(path: str, streams: Optional[Streams] = None) -> str:
    if path == "-":
        return (streams.input if streams else sys.stdin).read()
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError as cause:
        raise UserError(f'the plan file "{path}" does not exist') from cause
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f'cannot read the plan file "{path}": {getattr(err, "strerror", None) or err}') from err


def recheck(api, doc, user):
    """Re-plan a saved plan's VMs as the cluster is now, from the plan's own inputs: refuse it when the source
    changed since, when its steps are not the ones derived now, or when the checks now find errors."""
    from ..planning import moveplan as planmod
    from ..planning import pipeline as planner
    from ..planning import planfile, selection

    plan = planmod.MovePlan(doc)
    opts = plan.options()
    sel = selection.Selection(names=plan.vm_names)
    try:
        _, _, fresh = planner.make_plan(api, opts, sel, user=user)
    except UserError as err:
        raise UserError(f"the plan no longer fits the cluster: {err}") from err
    changes = planmod.stale(doc, _inventory_of(fresh, api, doc))
    if changes:
        shown = ", ".join(f'{c["kind"].lower()}/{c["name"]} {c["change"]}' for c in changes[:5])
        more = f" and {len(changes) - 5} more" if len(changes) > 5 else ""
        raise UserError(f"the plan is stale: the source changed since it was made ({shown}{more}); make a new plan "
                        "with 'kubectl vmmove plan ... -o yaml'")
    found = planfile.first_difference(doc, fresh)
    if found:
        raise UserError(f"the plan's steps differ from what the cluster and the plan's inputs give now: {found}; "
                        f"plan again with 'kubectl vmmove plan -n {plan.source} --to {plan.target} ... -o yaml' "
                        "and review that plan")
    errors = planmod.errors_in(fresh)
    if errors:
        first = errors[0]
        raise UserError(f"the plan has {len(errors)} error(s) now, e.g. {first.get('code')}: {first.get('message')}; "
                        "see 'kubectl vmmove plan' for all of them")


def _inventory_of(fresh, api, doc):
    """An inventory of the source objects the saved plan read, for plan.stale (one list per kind)."""
    from ...kube import kinds
    from ..planning import moveplan as planmod
    from ..planning.inventory import SOURCE, Inventory

    inv = Inventory(source=planmod.MovePlan(doc).source)
    wanted = {}
    for kind_name, _ in planmod.source_refs(doc):
        wanted.setdefault(kind_name, None)
    for kind_name in wanted:
        kind = kinds.by_kind(kind_name)
        metadata_only = kind_name in ("Secret", "ConfigMap")
        inv.put(kind, SOURCE, api.list(kind, inv.source, metadata_only=metadata_only).items)
    return inv


def print_steps(doc, stream=None) -> None:
    from ...printers import Column, OutputOptions, Table, print_table
    from ..planning.moveplan import MovePlan

    stream = stream or sys.stdout
    plan = MovePlan(doc)
    stream.write(f'Move {plan.move_id}: {plan.source} -> {plan.target}, '
                 f'strategy {plan.strategy}, MAC policy {plan.mac_policy}; dry run, nothing is changed\n\n')
    table = Table([Column("VM"), Column("#"), Column("Action"), Column("Object"), Column("Namespace")])
    for step in plan.prepare:
        table.add("(all)", "", step["action"], f'{step["kind"].lower()}/{step["name"]}', step.get("namespace", ""))
    for vm in plan.vms:
        for i, step in enumerate(vm["steps"], 1):
            table.add(vm["name"], i, step["action"], f'{step["kind"].lower()}/{step["name"]}',
                      step.get("namespace", ""))
    print_table(table, OutputOptions("table", False), stream=stream)


def _plan_now(session, args, streams: Streams):
    from ..planning import moveplan as planmod
    from ..planning import pipeline as planner
    from ..planning import selection
    from .flags import plan_options

    sel = selection.from_args(args)
    opts = plan_options(args, session.namespace, sel.describe())
    _, _, doc = planner.make_plan(session.api, opts, sel, user=session.user)
    errors = planmod.errors_in(doc)
    if errors:
        from ...printers import OutputOptions
        from .views import print_plan

        print_plan(doc, OutputOptions("table", False), stream=streams.err)
        raise UserError(f"the plan has {len(errors)} error(s); nothing was changed")
    return doc


def _existing_journal(api, doc):
    from ...kube import errors as kerr
    from ...kube import kinds
    from ..planning.moveplan import MovePlan
    from ..state import journal as journalmod

    plan = MovePlan(doc)
    try:
        obj = api.get(kinds.CONFIGMAP, journalmod.name_for(plan.move_id), plan.target)
    except (kerr.NotFound, kerr.Forbidden):
        return None
    return journalmod.Journal(api, plan.target, plan.move_id, obj)


def execute(api, doc, existing, user, parallel, timeout, stream=None, force_takeover=False, lease_options=None,
            out=None, output=None) -> int:
    """Run `doc` (a plan) under the move's lease; returns the exit code. Messages and progress go to `stream`, the
    result to `out` as `output` says (views.print_run_result). `lease_options`: keyword arguments for lease.Lease
    (tests inject clocks and durations)."""
    from ...errors import Terminated
    from ...kube import errors as kerr
    from ...kube.wait import WaitStopped
    from ...progress import Progress
    from ..context import RunContext
    from ..execution.executor import Executor
    from ..planning.moveplan import MovePlan
    from ..state.lease import LeaseLost

    plan = MovePlan(doc)
    err = stream or sys.stderr
    _announce(plan, existing, err)
    progress = Progress(["VM", "STEP", "PROGRESS", "COPIED", "RATE", "ELAPSED", "ETA"], stream=err)
    api.retry.notice = lambda text: (err.write(text + "\n"), err.flush())
    ctx = RunContext(api=api, plan=doc, timeout=timeout, user=user)
    executor = Executor(ctx, parallel=parallel, progress=progress)
    resume_hint = f"kubectl vmmove run --resume {plan.move_id} --to {plan.target}"
    lease = None
    try:
        lease = _start(executor, ctx, existing, user, err, force_takeover, lease_options)
        _warn_object_transfer(executor, plan, err)
        executor.prepare_shared()
        records = executor.run()
    except KeyboardInterrupt as stop:
        progress.finish()
        how = "Terminated" if isinstance(stop, Terminated) else "Interrupted"
        err.write(f"\n{how}. The VMs stay where they are; continue with:\n  {resume_hint}\n")
        return Terminated.exit_code if isinstance(stop, Terminated) else 130
    except kerr.ServerGone as gone:
        progress.finish()
        raise _server_lost(gone, plan.move_id, ctx.journal is not None, resume_hint) from gone
    except (LeaseLost, WaitStopped) as stopped:
        progress.finish()
        if isinstance(stopped, WaitStopped) and lease is not None and lease.lost_to is not None:
            raise LeaseLost(lease.lost_message()) from stopped
        raise
    finally:
        if lease is not None:
            lease.release()
    progress.finish()
    return _summary(plan, records, output, out or sys.stdout, err, resume_hint)


def _announce(plan, existing, err) -> None:
    from ..state import journal as journalmod

    if existing is not None:
        err.write(f"Continuing move {plan.move_id} ({plan.source} -> {plan.target}): "
                  "finished VMs are skipped, the others continue from where the cluster is.\n")
    else:
        err.write(f"Move {plan.move_id}: {len(plan.vms)} VM(s) from {plan.source} to "
                  f"{plan.target}, strategy {plan.strategy}, MAC policy {plan.mac_policy}; "
                  f"journal configmap/{journalmod.name_for(plan.move_id)} in {plan.target}.\n")


def _start(executor, ctx, existing, user, err, force_takeover, lease_options):
    """The target namespace, the journal (new or continued) and the move's lease, held and renewed; the lease.
    A user who may not write the journal is told which right is missing."""
    from ...kube import errors as kerr
    from ..state import journal as journalmod
    from ..state.lease import Lease
    from .common import journal_refused

    executor.prepare_namespace()
    try:
        ctx.journal = existing or journalmod.Journal.create(ctx.api, ctx.plan, user)
        lease = Lease(ctx.journal, "run", user, notice=lambda text: print(text, file=err), **(lease_options or {}))
        lease.acquire(force=force_takeover)
    except kerr.Forbidden as refused:
        plan = ctx.move_plan
        raise journal_refused(refused, plan.move_id, plan.target, "run") from refused
    ctx.lease = lease
    ctx.api.stop_waiting = ctx.stop     # a lost lease ends every wait at once (executor.run raises LeaseLost)
    lease.start_heartbeat(on_lost=lambda _holder: ctx.stop.set())
    return lease


def _warn_object_transfer(executor, plan, err) -> None:
    if not any(plan.strategy_of(v) == "transfer" for v in plan.vms):
        return
    from ..execution.transfer import object_transfer_warning

    use_ot, cdi = executor.object_transfer()
    if use_ot:
        err.write(f"Warning: {object_transfer_warning(cdi)}\n")


def _server_lost(gone, move_id: str, recorded: bool, resume_hint: str) -> UserError:
    """The API server did not come back within the retry layer's outage budget: how to go on once it is back."""
    if not recorded:
        return UserError(f"lost the API server: {gone}. Nothing of move {move_id} was recorded yet; once the "
                         "server answers again, run the same command again")
    return UserError(f"lost the API server: {gone}. The move stopped; its journal keeps each VM's last finished "
                     f"step ('kubectl vmmove status {move_id}'). Once the server answers again, continue with "
                     f"'{resume_hint}'")


def _summary(plan, records, output, out, err, resume_hint: str) -> int:
    """The result (views.print_run_result) and what to do next; exit status 1 when a VM did not finish."""
    from ...printers import OutputOptions
    from ..state.records import SUCCEEDED, VMRecord
    from .views import print_run_result

    print_run_result(plan, records, output or OutputOptions("table", False), stream=out)
    failed = sum(VMRecord(records.get(vm["name"], {})).phase != SUCCEEDED for vm in plan.vms)
    move_id = plan.move_id
    if failed:
        err.write(f"{failed} VM(s) did not finish; see 'kubectl vmmove status {move_id}', fix the cause, then "
                  f"continue with '{resume_hint}', or undo with 'kubectl vmmove rollback {move_id}'\n")
        return 1
    err.write(f"Next: 'kubectl vmmove verify {move_id}', then 'kubectl vmmove cleanup {move_id}' to delete the "
              "source.\n")
    return 0

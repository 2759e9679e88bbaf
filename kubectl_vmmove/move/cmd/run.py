"""`kubectl vmmove run`: Execute a move plan: stop each VM, copy its disks and dependencies to the target namespace,
create it there and start it. The source stays until a verified cleanup."""

import sys

from ...durations import parse_duration
from ...errors import UsageError, UserError

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
command that continues the move, and exits with status 130.

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




def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError as cause:
        raise UserError(f'the plan file "{path}" does not exist') from cause
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f'cannot read the plan file "{path}": {getattr(err, "strerror", None) or err}') from err


def recheck(api, doc, user):
    """Re-plan a saved plan's VMs as the cluster is now: refuse it when the source changed since or when the
    checks now find errors."""
    from ..planning import moveplan as planmod
    from ..planning import pipeline as planner
    from ..planning import selection

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


def _confirm(doc, assume_yes: bool) -> None:
    from ..planning.moveplan import MovePlan

    if assume_yes:
        return
    plan = MovePlan(doc)
    if not sys.stdin.isatty():
        raise UserError("no terminal to confirm the move; add --yes to run without confirmation")
    offline = [v for v in plan.vms if plan.strategy_of(v) != "live"]
    how = "running VMs are stopped while their disks copy" if offline else \
        "the VMs keep running and move by live migration"
    sys.stderr.write(f'Move {len(plan.vms)} VM(s) from "{plan.source}" to '
                     f'"{plan.target}" (strategy {plan.strategy}); {how}. Continue? [y/N] ')
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise UserError("move cancelled; nothing was changed")


def _plan_now(session, args):
    from ..planning import moveplan as planmod
    from ..planning import pipeline as planner
    from ..planning import selection
    from .flags import check_move_id, live_options, parse_storage_class_map

    if not args.target:
        raise UsageError("--to NAMESPACE is required: the namespace to move the VMs to (or run a plan with -f)")
    check_move_id(args.move_id)
    sel = selection.from_args(args)
    source = session.namespace
    opts = planmod.PlanOptions(source=source, target=args.target, strategy=args.strategy,
                               storage_class_map=parse_storage_class_map(args.storage_class_map),
                               target_run_strategy=args.target_run_strategy, create_namespace=args.create_namespace,
                               services=args.services, mac_policy=args.mac_policy, move_id=args.move_id or "",
                               selection=sel.describe(), live=live_options(args))
    _, _, doc = planner.make_plan(session.api, opts, sel, user=session.user)
    errors = planmod.errors_in(doc)
    if errors:
        from ...printers import OutputOptions
        from .views import print_plan

        print_plan(doc, OutputOptions("table", False), stream=sys.stderr)
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


def run(args):
    from ...kube.session import Session
    from ..planning import moveplan as planmod
    from ..state import journal as journalmod

    selecting = bool(args.vms or args.selector or args.all or args.move_list)
    if sum(bool(x) for x in (args.plan_file, args.resume, selecting)) > 1:
        raise UsageError("give the VMs one way: -f PLAN, --resume MOVE_ID, or the selection flags of 'plan'")
    if not (args.plan_file or args.resume or selecting):
        raise UsageError("nothing to run: give -f PLAN, --resume MOVE_ID, or VMs with --to (as for 'plan')")
    if args.parallel < 1:
        raise UsageError("--parallel must be at least 1")
    timeout = parse_duration(args.timeout, "--timeout")
    session = Session.from_args(args)
    api = session.api

    existing = None
    if args.resume:
        existing = journalmod.find(api, args.resume, [args.target, session.namespace])
        doc = existing.plan()
        if not args.dry_run:
            existing.repair()
    elif args.plan_file:
        doc = planmod.load(_read(args.plan_file), origin=args.plan_file)
        if planmod.errors_in(doc):
            raise UserError(f"the plan has {len(planmod.errors_in(doc))} error(s); fix them and make a new plan")
        existing = _existing_journal(api, doc)
        if existing is None and not args.dry_run:
            recheck(api, doc, session.user)
    else:
        doc = _plan_now(session, args)
        if args.move_id:
            existing = _existing_journal(api, doc)
            if existing is not None:
                doc = existing.plan()

    if args.dry_run:
        print_steps(doc)
        return 0
    _confirm(doc, args.yes or existing is not None and args.resume)
    return execute(api, doc, existing, session.user, args.parallel, timeout, force_takeover=args.force_takeover)


def execute(api, doc, existing, user, parallel, timeout, stream=None, force_takeover=False, lease_options=None) -> int:
    """Run `doc` (a plan) under the move's lease; returns the exit code. `lease_options`: keyword arguments for
    lease.Lease (tests inject clocks and durations)."""
    from ...printers import Column, OutputOptions, Table, human_duration, print_table
    from ...progress import Progress
    from ..context import RunContext
    from ..execution.executor import Executor
    from ..planning.moveplan import MovePlan
    from ..state import journal as journalmod
    from ..state.lease import Lease, LeaseLost
    from ..state.records import SUCCEEDED, VMRecord

    plan = MovePlan(doc)
    err = stream or sys.stderr
    move_id = plan.move_id
    if existing is not None:
        err.write(f"Continuing move {move_id} ({plan.source} -> {plan.target}): "
                  "finished VMs are skipped, the others continue from where the cluster is.\n")
    else:
        err.write(f"Move {move_id}: {len(plan.vms)} VM(s) from {plan.source} to "
                  f"{plan.target}, strategy {plan.strategy}, MAC policy {plan.mac_policy}; "
                  f"journal configmap/{journalmod.name_for(move_id)} in {plan.target}.\n")
    progress = Progress(["VM", "STEP", "PROGRESS", "ELAPSED", "ETA"], stream=err)
    ctx = RunContext(api=api, plan=doc, timeout=timeout, user=user)
    executor = Executor(ctx, parallel=parallel, progress=progress)
    resume_hint = (f"kubectl vmmove run --resume {move_id} --to {plan.target}")
    lease = None
    try:
        executor.prepare_namespace()
        ctx.journal = existing or journalmod.Journal.create(api, doc, user)
        lease = Lease(ctx.journal, "run", user, notice=lambda text: print(text, file=err),
                      **(lease_options or {}))
        lease.acquire(force=force_takeover)
        ctx.lease = lease
        lease.start_heartbeat()
        if any(plan.strategy_of(v) == "transfer" for v in plan.vms):
            from ..execution.disks import object_transfer_warning

            use_ot, cdi = executor.object_transfer()
            if use_ot:
                err.write(f"Warning: {object_transfer_warning(cdi)}\n")
        executor.prepare_shared()
        records = executor.run()
    except KeyboardInterrupt:
        progress.finish()
        err.write(f"\nInterrupted. The VMs stay where they are; continue with:\n  {resume_hint}\n")
        return 130
    except LeaseLost:
        progress.finish()
        raise
    finally:
        if lease is not None:
            lease.release()
    progress.finish()
    table = Table([Column("VM"), Column("Result"), Column("Downtime"), Column("Message")])
    failed = 0
    for vm in plan.vms:
        record = records.get(vm["name"], {})
        phase = VMRecord(record).phase
        failed += phase != SUCCEEDED
        downtime = record.get("downtimeSeconds")
        table.add(vm["name"], phase, human_duration(downtime) if downtime is not None else "-",
                  record.get("message") or "-")
    print_table(table, OutputOptions("table", False))
    if failed:
        err.write(f"{failed} VM(s) did not finish; see 'kubectl vmmove status {move_id}', fix the cause, then "
                  f"continue with '{resume_hint}', or undo with 'kubectl vmmove rollback {move_id}'\n")
        return 1
    err.write(f"Next: 'kubectl vmmove verify {move_id}', then 'kubectl vmmove cleanup {move_id}' to delete the "
              "source.\n")
    return 0

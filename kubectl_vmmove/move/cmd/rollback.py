"""`kubectl vmmove rollback`: Remove what a move created in the target and restore the source VMs, before cleanup."""

DESCRIPTION = """Remove what a move created in the target and restore the source VMs, before cleanup.

Stops the moved VMs in the target (--parallel VMs at a time), hands transferred volumes back to their source
claims (all claims of a VM together), deletes everything the move created in the target namespace (objects
labelled with its move id; nothing else) and its ObjectTransfers, and gives each source VM its original run
strategy back, so VMs that ran before the move run again. Safe to run again. The journal stays, with the rollback
recorded. After 'cleanup' deleted the source, rollback refuses: the source VMs no longer exist."""

EXAMPLES = """Examples:
  kubectl vmmove rollback 7f3c2a --yes
  kubectl vmmove rollback 7f3c2a --yes --parallel 10"""


def add_arguments(parser):
    parser.add_argument("move_id", metavar="MOVE_ID", help="The move to undo")
    parser.add_argument("-y", "--yes", action="store_true", help="Do not ask for confirmation")
    parser.add_argument("--timeout", default="1h", metavar="DURATION",
                        help="How long stopping a VM or handing back its volumes may take (default 1h)")
    parser.add_argument("--parallel", type=int, default=4, metavar="N",
                        help="How many VMs to roll back at a time (default 4)")
    from .flags import add_takeover_flag

    add_takeover_flag(parser)




def run(args):
    import sys

    from ...durations import parse_duration
    from ...errors import UserError
    from ...printers import Column, OutputOptions, Table, print_table
    from ...progress import Progress
    from ..aftercare import rollback as rollbackmod
    from ..state import records
    from .common import hold_lease, open_move

    timeout = parse_duration(args.timeout, "--timeout")
    if args.parallel < 1:
        from ...errors import UsageError

        raise UsageError("--parallel must be at least 1")
    _, jr, ctx = open_move(args)
    ctx.timeout = timeout
    cleanup = jr.move().get("cleanup") or {}
    if cleanup.get("started"):
        raise UserError(f"move {args.move_id} was cleaned up at {cleanup.get('finished') or cleanup['started']} by "
                        f"{cleanup.get('user')}: its source VMs were deleted, so there is nothing to roll back to. "
                        f"Move the VMs back with a new move: 'kubectl vmmove plan -n {ctx.target} --to {ctx.source} "
                        "...'")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError("no terminal to confirm the rollback; add --yes to roll back without confirmation")
        sys.stderr.write(f"Delete what move {args.move_id} created in {ctx.target} and restore the source VMs in "
                         f"{ctx.source}? [y/N] ")
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            raise UserError("rollback cancelled; nothing was changed")
    progress = Progress(["VM", "STEP", "PROGRESS"], stream=sys.stderr)
    ctx.report = lambda vm, step=None, progress=None, **_: progress_row(vm, step, progress)

    def progress_row(vm, step, done):
        progress.update(vm, vm=vm, step=step or "", progress="" if done is None else f"{done:.0f}%")

    try:
        with hold_lease(ctx, "rollback", args.force_takeover):
            rows = rollbackmod.rollback(ctx, parallel=args.parallel)
    finally:
        progress.finish()
    table = Table([Column("VM"), Column("Result"), Column("Detail")])
    for row in rows:
        table.add(row["vm"], row["result"], row["detail"] or "-")
    print_table(table, OutputOptions("table", False))
    failed = [r["vm"] for r in rows if r["result"] == records.FAILED]
    if failed:
        raise UserError(f"{len(failed)} VM(s) could not be rolled back ({', '.join(failed)}); fix the cause shown "
                        f"and run 'kubectl vmmove rollback {args.move_id}' again")
    vms = ctx.move_plan.vm_names
    sys.stderr.write(f'Move {args.move_id} rolled back: its VMs are back in namespace "{ctx.source}" with their '
                     f"run strategies (kubectl get vm -n {ctx.source}). To move them again, plan a new move: "
                     f"kubectl vmmove plan -n {ctx.source} --to {ctx.target} {' '.join(vms)}\n")
    if rollbackmod.created_namespace(ctx):
        sys.stderr.write(f'Namespace "{ctx.target}" was created by this move and is kept: it holds the move\'s '
                         f"journal (configmap/{jr.name}), the record 'kubectl vmmove status {args.move_id}' reads. "
                         f"Delete it when you no longer need that record: kubectl delete namespace {ctx.target}\n")
    return 0

"""`kubectl vmmove rollback`: Remove what a move created in the target and restore the source VMs, before cleanup."""

from dataclasses import dataclass
from typing import Any, Optional

from ...errors import UsageError, UserError
from ...printers import OutputOptions
from ...verbs import Streams, VerbOptions, run_verb

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
    from ...flags import add_output_flag
    from .flags import add_takeover_flag

    add_takeover_flag(parser)
    # The result: a table, a MoveRollbackResult document, or the restored VMs as names (kubectl rollout undo -o name).
    add_output_flag(parser, formats=("table", "yaml", "json", "name"))


@dataclass
class RollbackOptions(VerbOptions):
    args: Any
    move_id: str
    yes: bool
    timeout: Optional[float]
    parallel: int
    force_takeover: bool
    output: OutputOptions
    streams: Streams

    @classmethod
    def complete(cls, args, streams):
        return cls(args=args, move_id=args.move_id, yes=bool(args.yes), timeout=None, parallel=args.parallel,
                   force_takeover=bool(args.force_takeover), output=OutputOptions(args.output, args.no_headers),
                   streams=streams)

    def validate(self):
        from ...durations import parse_duration
        from .flags import check_move_id

        check_move_id(self.move_id)
        self.timeout = parse_duration(self.args.timeout, "--timeout")
        if self.parallel < 1:
            raise UsageError("--parallel must be at least 1")

    def run(self):
        from ...progress import Progress
        from ..aftercare import rollback as rollbackmod
        from .common import hold_lease, open_move

        _, jr, ctx = open_move(self.args)
        ctx.timeout = self.timeout
        cleanup = jr.move().get("cleanup") or {}
        if cleanup.get("started"):
            raise UserError(f"move {self.move_id} was cleaned up at {cleanup.get('finished') or cleanup['started']} "
                            f"by {cleanup.get('user')}: its source VMs were deleted, so there is nothing to roll back "
                            f"to. Move the VMs back with a new move: 'kubectl vmmove plan -n {ctx.target} --to "
                            f"{ctx.source} ...'")
        self.confirm(ctx)
        progress = Progress(["VM", "STEP", "PROGRESS"], stream=self.streams.err)

        def progress_row(vm, step=None, progress_pct=None, **_):
            progress.update(vm, vm=vm, step=step or "", progress="" if progress_pct is None else f"{progress_pct:.0f}%")

        ctx.report = lambda vm, step=None, progress=None, **_: progress_row(vm, step, progress)
        try:
            with hold_lease(ctx, "rollback", self.force_takeover):
                rows = rollbackmod.rollback(ctx, parallel=self.parallel)
        finally:
            progress.finish()
        self.report(ctx, jr, rows, rollbackmod.created_namespace(ctx))
        return 0

    def confirm(self, ctx) -> None:
        if self.yes:
            return
        if not self.streams.input.isatty():
            raise UserError("no terminal to confirm the rollback; add --yes to roll back without confirmation")
        self.streams.err.write(f"Delete what move {self.move_id} created in {ctx.target} and restore the source VMs "
                               f"in {ctx.source}? [y/N] ")
        self.streams.err.flush()
        if self.streams.input.readline().strip().lower() not in ("y", "yes"):
            raise UserError("rollback cancelled; nothing was changed")

    def report(self, ctx, jr, rows, created_namespace: bool) -> None:
        from ..state import records
        from .views import print_rollback_result

        print_rollback_result(self.move_id, ctx.target, ctx.source, rows, self.output, stream=self.streams.out)
        failed = [r["vm"] for r in rows if r["result"] == records.FAILED]
        if failed:
            raise UserError(f"{len(failed)} VM(s) could not be rolled back ({', '.join(failed)}); fix the cause "
                            f"shown and run 'kubectl vmmove rollback {self.move_id}' again")
        vms = ctx.move_plan.vm_names
        err = self.streams.err
        err.write(f'Move {self.move_id} rolled back: its VMs are back in namespace "{ctx.source}" with their '
                  f"run strategies (kubectl get vm -n {ctx.source}). To move them again, plan a new move: "
                  f"kubectl vmmove plan -n {ctx.source} --to {ctx.target} {' '.join(vms)}\n")
        if created_namespace:
            err.write(f'Namespace "{ctx.target}" was created by this move and is kept: it holds the move\'s '
                      f"journal (configmap/{jr.name}), the record 'kubectl vmmove status {self.move_id}' reads. "
                      f"Delete it when you no longer need that record: kubectl delete namespace {ctx.target}\n")


def run(args):
    return run_verb(RollbackOptions, args)

"""`kubectl vmmove cleanup`: Delete the source VMs and the dependencies only they used, after verify passes."""

from dataclasses import dataclass
from typing import Any

from ...errors import UserError
from ...printers import OutputOptions
from ...verbs import Streams, VerbOptions, run_verb

DESCRIPTION = """Delete the source VMs and the dependencies only they used, after verify passes.

The checks of 'kubectl vmmove verify' run first; cleanup refuses unless all pass now. It then asks you to type the
source namespace (or takes --yes) and deletes each moved VM in the source (its DataVolumes, claims, persistent
state and revisions go with it), the disks it did not own, and the Secrets, ConfigMaps, Services and other
dependencies that only moved VMs used. A dependency another VM uses is never deleted. Safe to run again; what was
deleted is recorded in the move's journal. After cleanup a move can no longer be rolled back."""

EXAMPLES = """Examples:
  kubectl vmmove cleanup 7f3c2a

  # What would be deleted, checked by the server, deleting nothing
  kubectl vmmove cleanup 7f3c2a --dry-run

  # Without the prompt (scripts)
  kubectl vmmove cleanup 7f3c2a --yes"""


def add_arguments(parser):
    parser.add_argument("move_id", metavar="MOVE_ID", help="The move whose source to delete")
    parser.add_argument("-y", "--yes", action="store_true", help="Do not ask to type the source namespace")
    parser.add_argument("--dry-run", action="store_true",
                        help="Show what would be deleted (each delete checked by the server with dryRun); "
                             "delete nothing")
    from .flags import add_takeover_flag

    add_takeover_flag(parser)


@dataclass
class CleanupOptions(VerbOptions):
    args: Any
    move_id: str
    yes: bool
    dry_run: bool
    force_takeover: bool
    streams: Streams

    @classmethod
    def complete(cls, args, streams):
        return cls(args=args, move_id=args.move_id, yes=bool(args.yes), dry_run=bool(args.dry_run),
                   force_takeover=bool(args.force_takeover), streams=streams)

    def validate(self):
        from .flags import check_move_id

        check_move_id(self.move_id)

    def run(self):
        from ..aftercare import cleanup as cleanupmod
        from .common import hold_lease, open_move, run_checks

        _, jr, ctx = open_move(self.args)
        if (jr.move().get("rollback") or {}).get("started"):
            raise UserError(f"move {self.move_id} was rolled back; there is nothing to clean up")
        if self.dry_run:
            return self.dry_run_rows(ctx, jr)
        with hold_lease(ctx, "cleanup", self.force_takeover):
            checks = run_checks(ctx, jr, err=self.streams.err)
            if not checks.passed:
                self.print_failed(checks)
                raise UserError(f"cleanup refuses: {len(checks.failures())} verify check(s) fail now (above); the "
                                "source stays until the move verifies")
            steps = cleanupmod.delete_steps(ctx.plan)
            self.confirm(ctx.source, len(steps))
            rows = cleanupmod.cleanup(ctx)
        _print_rows(rows, ctx.source, stream=self.streams.out)
        return 0

    def dry_run_rows(self, ctx, jr) -> int:
        from ..aftercare import cleanup as cleanupmod
        from .common import run_checks

        checks = run_checks(ctx, jr, record=False)
        if not checks.passed:
            self.print_failed(checks)
            self.streams.err.write(f"cleanup would refuse now: {len(checks.failures())} verify check(s) fail "
                                   "(above)\n")
        rows = cleanupmod.cleanup(ctx, dry_run=True)
        _print_rows(rows, ctx.source, stream=self.streams.out)
        self.streams.err.write("Nothing was deleted (dry run).\n")
        return 0 if checks.passed else 1

    def print_failed(self, checks) -> None:
        from .views import print_checks

        print_checks(checks, OutputOptions("table", False), stream=self.streams.err)

    def confirm(self, source: str, count: int) -> None:
        if self.yes:
            return
        if not self.streams.input.isatty():
            raise UserError("no terminal to confirm the deletion; add --yes to delete without confirmation")
        self.streams.err.write(f'This deletes {count} object(s) from namespace "{source}", the moved VMs and their '
                               f'disks among them. Type the namespace name "{source}" to go on: ')
        self.streams.err.flush()
        if self.streams.input.readline().strip() != source:
            raise UserError("cleanup cancelled; nothing was deleted")


def run(args):
    return run_verb(CleanupOptions, args)


def _print_rows(rows, namespace: str, stream=None) -> None:
    from ...printers import Column, Table, print_table

    table = Table([Column("Kind"), Column("Name"), Column("Namespace"), Column("Result")])
    for row in rows:
        table.add(row["kind"], row["name"], namespace, row["result"])
    print_table(table, OutputOptions("table", False), stream=stream)

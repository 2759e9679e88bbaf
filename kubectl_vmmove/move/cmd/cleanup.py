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
deleted is recorded in the move's journal. After cleanup a move can no longer be rolled back.

A node port belongs to one Service at a time, so moved NodePort and LoadBalancer Services got new node ports; once
their source Service is deleted, cleanup gives each copy the source's node ports back and reads it back to check
(--keep-new-node-ports keeps the new ones). A port another Service took meanwhile stays with it: the copy keeps its
new port, the row says so and cleanup exits 1."""

EXAMPLES = """Examples:
  kubectl vmmove cleanup 7f3c2a

  # What would be deleted, checked by the server, deleting nothing
  kubectl vmmove cleanup 7f3c2a --dry-run

  # Without the prompt (scripts)
  kubectl vmmove cleanup 7f3c2a --yes

  # Leave the moved Services on the node ports they got in the target
  kubectl vmmove cleanup 7f3c2a --keep-new-node-ports"""


def add_arguments(parser):
    parser.add_argument("move_id", metavar="MOVE_ID", help="The move whose source to delete")
    parser.add_argument("-y", "--yes", action="store_true", help="Do not ask to type the source namespace")
    parser.add_argument("--dry-run", action="store_true",
                        help="Show what would be deleted (each delete checked by the server with dryRun); "
                             "delete nothing")
    parser.add_argument("--keep-new-node-ports", action="store_true",
                        help="Keep the node ports the moved Services got in the target instead of giving them the "
                             "source Services' node ports once those are deleted")
    from ...flags import add_output_flag
    from .flags import add_takeover_flag

    add_takeover_flag(parser)
    # The result: a table, a MoveCleanupResult document, or the objects as names (kubectl delete -o name).
    add_output_flag(parser, formats=("table", "yaml", "json", "name"))


@dataclass
class CleanupOptions(VerbOptions):
    args: Any
    move_id: str
    yes: bool
    dry_run: bool
    force_takeover: bool
    keep_new_node_ports: bool
    output: OutputOptions
    streams: Streams

    @classmethod
    def complete(cls, args, streams):
        return cls(args=args, move_id=args.move_id, yes=bool(args.yes), dry_run=bool(args.dry_run),
                   force_takeover=bool(args.force_takeover), keep_new_node_ports=bool(args.keep_new_node_ports),
                   output=OutputOptions(args.output, args.no_headers), streams=streams)

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
            rows += self.node_ports(ctx, rows, dry_run=False)
        self.print_result(ctx, rows, dry_run=False)
        kept = [r["name"] for r in rows if r.get("ok") is False]
        if kept:
            self.streams.err.write(f"The source was deleted, but {len(kept)} moved Service(s) kept new node ports "
                                   f"(above): 'kubectl vmmove cleanup {self.move_id}' tries again, or edit the "
                                   "Service's ports\n")
            return 1
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
        rows += self.node_ports(ctx, rows, dry_run=True)
        self.print_result(ctx, rows, dry_run=True)
        self.streams.err.write("Nothing was deleted (dry run).\n")
        return 0 if checks.passed else 1

    def node_ports(self, ctx, rows, dry_run: bool) -> list:
        """Rows for the moved Services given their source node ports back (none with --keep-new-node-ports)."""
        from ..aftercare import nodeports

        if self.keep_new_node_ports:
            return []
        return nodeports.give_back(ctx, rows, dry_run=dry_run)

    def print_result(self, ctx, rows, dry_run: bool) -> None:
        from .views import print_cleanup_result

        print_cleanup_result(ctx.move_id, ctx.target, ctx.source, rows, self.output, dry_run=dry_run,
                             stream=self.streams.out)

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

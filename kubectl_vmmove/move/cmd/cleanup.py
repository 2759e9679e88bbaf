"""`kubectl vmmove cleanup`: Delete the source VMs and the dependencies only they used, after verify passes."""

import sys

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


def _confirm(source: str, count: int, assume_yes: bool) -> None:
    from ...errors import UserError

    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise UserError("no terminal to confirm the deletion; add --yes to delete without confirmation")
    sys.stderr.write(f'This deletes {count} object(s) from namespace "{source}", the moved VMs and their disks '
                     f'among them. Type the namespace name "{source}" to go on: ')
    sys.stderr.flush()
    if sys.stdin.readline().strip() != source:
        raise UserError("cleanup cancelled; nothing was deleted")


def run(args):
    from ...errors import UserError
    from ...printers import OutputOptions
    from ..aftercare import cleanup as cleanupmod
    from ..aftercare import nodeports
    from .common import hold_lease, open_move, run_checks
    from .views import print_checks, print_cleanup_result

    output = OutputOptions(args.output, args.no_headers)
    _, jr, ctx = open_move(args)
    move = jr.move()
    if (move.get("rollback") or {}).get("started"):
        raise UserError(f"move {args.move_id} was rolled back; there is nothing to clean up")
    if args.dry_run:
        checks = run_checks(ctx, jr, record=False)
        if not checks.passed:
            print_checks(checks, OutputOptions("table", False), stream=sys.stderr)
            sys.stderr.write(f"cleanup would refuse now: {len(checks.failures())} verify check(s) fail (above)\n")
        rows = cleanupmod.cleanup(ctx, dry_run=True)
        if not args.keep_new_node_ports:
            rows += nodeports.give_back(ctx, rows, dry_run=True)
        print_cleanup_result(ctx.move_id, ctx.target, ctx.source, rows, output, dry_run=True)
        sys.stderr.write("Nothing was deleted (dry run).\n")
        return 0 if checks.passed else 1
    with hold_lease(ctx, "cleanup", args.force_takeover):
        checks = run_checks(ctx, jr)
        if not checks.passed:
            print_checks(checks, OutputOptions("table", False), stream=sys.stderr)
            raise UserError(f"cleanup refuses: {len(checks.failures())} verify check(s) fail now (above); the "
                            "source stays until the move verifies")
        steps = cleanupmod.delete_steps(ctx.plan)
        _confirm(ctx.source, len(steps), args.yes)
        rows = cleanupmod.cleanup(ctx)
        if not args.keep_new_node_ports:
            rows += nodeports.give_back(ctx, rows)
    print_cleanup_result(ctx.move_id, ctx.target, ctx.source, rows, output, dry_run=False)
    kept = [r["name"] for r in rows if r.get("ok") is False]
    if kept:
        sys.stderr.write(f"The source was deleted, but {len(kept)} moved Service(s) kept new node ports (above): "
                         f"'kubectl vmmove cleanup {args.move_id}' tries again, or edit the Service's ports\n")
        return 1
    return 0

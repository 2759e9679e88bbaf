"""`kubectl vmmove verify`: Check that every moved VM and its dependencies exist in the target, match the source and
run."""

import sys

DESCRIPTION = """Check that every moved VM and its dependencies exist in the target, match the source and run.

Per VM: every object the plan created exists in the target and matches its source (Secrets and ConfigMaps are
compared by digest, never shown); claims are bound, at least as large as the source's, of the planned storage
class, and their DataVolumes succeeded; MAC addresses, firmware UUID and serial are kept; every Secret, ConfigMap,
NAD, ServiceAccount and instance type the VM names exists in the target; the VM runs with an IP address when it
should run. The result is recorded in the move's journal; 'cleanup' repeats these checks.

Exit status 1 when any check fails."""

EXAMPLES = """Examples:
  kubectl vmmove verify 7f3c2a

  # Every check, as JSON
  kubectl vmmove verify 7f3c2a -o json"""


def add_arguments(parser):
    from ..cli import add_output_flag

    parser.add_argument("move_id", metavar="MOVE_ID", help="The move to check")
    add_output_flag(parser, formats=("table", "wide", "yaml", "json"))


def open_move(args):
    """(session, journal, RunContext) of the move named on the command line."""
    from ..kube.session import Session
    from . import journal as journalmod
    from .context import RunContext

    session = Session.from_args(args)
    jr = journalmod.find(session.api, args.move_id, [getattr(args, "namespace", None), session.namespace])
    ctx = RunContext(api=session.api, plan=jr.plan(), journal=jr, user=session.user)
    return session, jr, ctx


def run_checks(ctx, jr):
    """Verify now and record the result in the journal."""
    from . import journal as journalmod, verification

    checks = verification.verify(ctx, jr.vms())
    failures = [f"{r['vm']}: {r['check']}: {r['reason']}" for r in checks.failures()]

    def note(move):
        move["verify"] = {"passed": checks.passed, "finished": journalmod.now_text(), "user": ctx.user,
                          "checks": len(checks.rows), "failures": failures[:20]}

    jr.move_update(note)
    return checks


def print_checks(checks, output, stream=None):
    from ..printers import Column, Table, dump_json, dump_yaml, print_table

    stream = stream or sys.stdout
    if output.structured:
        doc = {"apiVersion": "vmmove.io/v1alpha1", "kind": "Verification", "passed": checks.passed,
               "checks": checks.rows}
        stream.write(dump_yaml(doc) if output.format == "yaml" else dump_json(doc))
        return
    table = Table([Column("VM"), Column("Check"), Column("Result"), Column("Reason")])
    for row in checks.rows:
        table.add(row["vm"], row["check"], "pass" if row["passed"] else "FAIL", row["reason"] or "-")
    print_table(table, output, stream=stream)


def run(args):
    from ..errors import UserError
    from ..printers import OutputOptions

    _, jr, ctx = open_move(args)
    checks = run_checks(ctx, jr)
    print_checks(checks, OutputOptions(args.output, getattr(args, "no_headers", False)))
    failed = len(checks.failures())
    if failed:
        raise UserError(f"{failed} check(s) of move {args.move_id} failed; see the table above. Continue the move "
                        f"with 'kubectl vmmove run --resume {args.move_id}' or undo it with "
                        f"'kubectl vmmove rollback {args.move_id}'")
    sys.stderr.write(f"All {len(checks.rows)} checks passed. The source can be deleted with "
                     f"'kubectl vmmove cleanup {args.move_id}'.\n")
    return 0

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
    from ...cli import add_output_flag

    parser.add_argument("move_id", metavar="MOVE_ID", help="The move to check")
    add_output_flag(parser, formats=("table", "wide", "yaml", "json"))


def open_move(args):
    """(session, journal, RunContext) of the move named on the command line."""
    from ...kube.session import Session
    from ..state import journal as journalmod
    from ..context import RunContext

    session = Session.from_args(args)
    jr = journalmod.find(session.api, args.move_id, [getattr(args, "namespace", None), session.namespace])
    ctx = RunContext(api=session.api, plan=jr.plan(), journal=jr, user=session.user)
    return session, jr, ctx


def run_checks(ctx, jr, record: bool = True):
    """Verify now and, unless `record` is False (a dry run), record the result in the journal."""
    from ..state import journal as journalmod
    from ..aftercare import verification

    checks = verification.verify(ctx, jr.vms())
    if not record:
        return checks
    failures = [f"{r['vm']}: {r['check']}: {r['reason']}" for r in checks.failures()]

    def note(move):
        move["verify"] = {"passed": checks.passed, "finished": journalmod.now_text(), "user": ctx.user,
                          "checks": len(checks.rows), "failures": failures[:20]}

    from ...kube import errors as kerr

    try:
        jr.move_update(note)
    except kerr.Forbidden:
        # A read-only user may still verify; the journal just does not learn the result.
        sys.stderr.write(f'(the result was not recorded in the journal: you may not patch configmaps in namespace '
                         f'"{jr.namespace}"; check with \'kubectl auth can-i patch configmaps -n {jr.namespace}\')\n')
    return checks


def print_checks(checks, output, stream=None):
    from ...printers import Column, Table, dump_json, dump_yaml, print_table

    stream = stream or sys.stdout
    if output.structured:
        doc = {"apiVersion": "vmmove.io/v1alpha1", "kind": "Verification", "passed": checks.passed,
               "checks": checks.rows}
        stream.write(dump_yaml(doc) if output.format == "yaml" else dump_json(doc))
        return
    table = Table([Column("VM"), Column("Check"), Column("Result"), Column("Reason")])
    rows = checks.rows if output.format == "wide" else compact_rows(checks.rows)
    for row in rows:
        table.add(row["vm"], row["check"], "pass" if row["passed"] else "FAIL", row["reason"] or "-")
    print_table(table, output, stream=stream)


def compact_rows(rows):
    """The default table: per VM, each failing check and each passing one that says something (an IP address, an
    expected change), then one row counting the other checks that passed. A move of many VMs stays readable and a
    failure is never buried; -o wide lists every check."""
    out, quiet = [], {}
    for row in rows:
        if not row["passed"] or row["reason"]:
            out.append(row)
        quiet.setdefault(row["vm"], 0)
        if row["passed"] and not row["reason"]:
            quiet[row["vm"]] += 1
    shown = {}
    for row in out:
        shown[row["vm"]] = shown.get(row["vm"], 0) + 1
    result = []
    for vm, count in quiet.items():
        result += [row for row in out if row["vm"] == vm]
        if count:
            noun = "check" if count == 1 else "checks"
            if shown.get(vm):
                label = f"{count} other {noun}"
            else:
                label = f"all {count} {noun}" if count > 1 else "1 check"
            result.append({"vm": vm, "check": label, "passed": True, "reason": ""})
    return result


def run(args):
    from ...errors import UserError
    from ...printers import OutputOptions

    _, jr, ctx = open_move(args)
    rollback = jr.move().get("rollback") or {}
    if rollback.get("finished"):
        # Every check would fail and its advice (resume, roll back) would be wrong: say what happened instead.
        raise UserError(f"move {args.move_id} was rolled back at {rollback['finished']} by "
                        f"{rollback.get('user') or 'someone'}: its VMs are back in namespace \"{ctx.source}\" and "
                        "there is nothing to verify")
    if rollback.get("started"):
        raise UserError(f"a rollback of move {args.move_id} started at {rollback['started']} and has not finished; "
                        f"finish it with 'kubectl vmmove rollback {args.move_id}'")
    checks = run_checks(ctx, jr)
    print_checks(checks, OutputOptions(args.output, getattr(args, "no_headers", False)))
    failed = len(checks.failures()) - len(checks.unchecked)
    if checks.unchecked:
        # Resume or rollback would not help a user who may not read what the checks need.
        also = f"{failed} check(s) failed and " if failed else ""
        raise UserError(f"{also}{len(checks.unchecked)} check(s) of move {args.move_id} could not be made with your "
                        "access; see the table above for the access each needs, then verify again with it "
                        "(or as a user who has it)")
    if failed:
        raise UserError(f"{failed} check(s) of move {args.move_id} failed; see the table above. Continue the move "
                        f"with 'kubectl vmmove run --resume {args.move_id}' or undo it with "
                        f"'kubectl vmmove rollback {args.move_id}'")
    cleaned = (jr.move().get("cleanup") or {}).get("finished")
    after = (f"The source was deleted by cleanup at {cleaned}." if cleaned else
             f"The source can be deleted with 'kubectl vmmove cleanup {args.move_id}'.")
    detail = " (-o wide lists each check)" if args.output == "table" else ""
    sys.stderr.write(f"All {len(checks.rows)} checks passed{detail}. {after}\n")
    return 0

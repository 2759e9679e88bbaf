"""`kubectl vmmove verify`: Check that every moved VM and its dependencies exist in the target, match the source and
run."""

from dataclasses import dataclass
from typing import Any

from ...errors import UserError
from ...printers import OutputOptions
from ...verbs import Streams, VerbOptions, run_verb

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
    from ...flags import add_output_flag

    parser.add_argument("move_id", metavar="MOVE_ID", help="The move to check")
    add_output_flag(parser, formats=("table", "wide", "yaml", "json"))


@dataclass
class VerifyOptions(VerbOptions):
    args: Any
    move_id: str
    output: OutputOptions
    streams: Streams

    @classmethod
    def complete(cls, args, streams):
        return cls(args=args, move_id=args.move_id, output=OutputOptions(args.output, getattr(args, "no_headers", False)),
                   streams=streams)

    def validate(self):
        from .flags import check_move_id

        check_move_id(self.move_id)

    def run(self):
        from .common import open_move, run_checks
        from .views import print_checks

        _, jr, ctx = open_move(self.args)
        refuse_rolled_back(self.move_id, jr.move().get("rollback") or {}, ctx.source)
        checks = run_checks(ctx, jr, err=self.streams.err)
        print_checks(checks, self.output, stream=self.streams.out)
        moved = [n for n, r in jr.vms().items() if r.get("phase") == "Succeeded"]
        if ctx.strategy == "transfer" and moved and not (jr.move().get("cleanup") or {}).get("finished"):
            from ..execution.transfer import sources_note

            self.streams.err.write(f"Note: {sources_note(self.move_id, ctx.source, ctx.target, moved)}.\n")
        self.refuse_failures(checks)
        cleaned = (jr.move().get("cleanup") or {}).get("finished")
        after = (f"The source was deleted by cleanup at {cleaned}." if cleaned else
                 f"The source can be deleted with 'kubectl vmmove cleanup {self.move_id}'.")
        detail = " (-o wide lists each check)" if self.output.format == "table" else ""
        self.streams.err.write(f"All {len(checks.rows)} checks passed{detail}. {after}\n")
        return 0

    def refuse_failures(self, checks) -> None:
        failed = len(checks.failures()) - len(checks.unchecked)
        if checks.unchecked:
            # Resume or rollback would not help a user who may not read what the checks need.
            also = f"{failed} check(s) failed and " if failed else ""
            raise UserError(f"{also}{len(checks.unchecked)} check(s) of move {self.move_id} could not be made with "
                            "your access; see the table above for the access each needs, then verify again with it "
                            "(or as a user who has it)")
        if failed:
            raise UserError(f"{failed} check(s) of move {self.move_id} failed; see the table above. Continue the "
                            f"move with 'kubectl vmmove run --resume {self.move_id}' or undo it with "
                            f"'kubectl vmmove rollback {self.move_id}'")


def refuse_rolled_back(move_id: str, rollback: dict, source: str) -> None:
    if rollback.get("finished"):
        # Every check would fail and its advice (resume, roll back) would be wrong: say what happened instead.
        raise UserError(f"move {move_id} was rolled back at {rollback['finished']} by "
                        f"{rollback.get('user') or 'someone'}: its VMs are back in namespace \"{source}\" and "
                        "there is nothing to verify")
    if rollback.get("started"):
        raise UserError(f"a rollback of move {move_id} started at {rollback['started']} and has not finished; "
                        f"finish it with 'kubectl vmmove rollback {move_id}'")


def run(args):
    return run_verb(VerifyOptions, args)

"""`kubectl vmmove prune`: Remove the journals of finished moves older than an age."""

from dataclasses import dataclass
from typing import Any, List, Optional

from ...errors import UsageError, UserError
from ...printers import OutputOptions
from ...verbs import Streams, VerbOptions, run_verb

DESCRIPTION = """Remove the journals of finished moves older than an age.

A move is finished once its cleanup or its rollback has finished; --older-than counts from then. Each move's journal
(configmap vmmove-<move-id> in its target namespace, and the parts it owns) is deleted; moves not finished are never
touched, whatever their age. The moves are listed first and you are asked to confirm (or give --yes); --dry-run
lists them, each delete checked by the server (dryRun=All), and deletes nothing. Looks in the current namespace,
-n NAMESPACE, or every namespace with -A."""

EXAMPLES = """Examples:
  # Which move records are over 30 days old, deleting nothing
  kubectl vmmove prune --older-than 30d -A --dry-run

  # Delete them, without the prompt (scripts)
  kubectl vmmove prune --older-than 30d -A --yes

  # Only the moves into namespace prod finished over 12 hours ago, one name per line
  kubectl vmmove prune --older-than 12h -n prod --yes -o name"""


def add_arguments(parser):
    from ...flags import add_output_flag

    parser.add_argument("--older-than", dest="older_than", metavar="AGE", required=True,
                        help="Remove moves finished at least this long ago, as kubectl prints ages (30d, 12h, 1d12h)")
    parser.add_argument("-A", "--all-namespaces", action="store_true",
                        help="Prune the moves of every namespace instead of the current one")
    parser.add_argument("-y", "--yes", action="store_true", help="Do not ask to confirm")
    parser.add_argument("--dry-run", action="store_true",
                        help="List what would be removed (each delete checked by the server); delete nothing")
    add_output_flag(parser, formats=("table", "wide", "name", "yaml", "json"))


@dataclass
class PruneOptions(VerbOptions):
    args: Any
    older_than: int
    all_namespaces: bool
    namespace_flag: Optional[str]
    assume_yes: bool
    dry_run: bool
    output: OutputOptions
    streams: Streams

    @classmethod
    def complete(cls, args, streams):
        from ...durations import parse_age

        return cls(args=args, older_than=parse_age(args.older_than, "--older-than"),
                   all_namespaces=bool(args.all_namespaces), namespace_flag=getattr(args, "namespace", None),
                   assume_yes=bool(args.yes), dry_run=bool(args.dry_run),
                   output=OutputOptions(args.output, getattr(args, "no_headers", False)), streams=streams)

    def validate(self):
        if self.all_namespaces and self.namespace_flag:
            raise UsageError("-A/--all-namespaces and -n/--namespace cannot be used together; leave out -n to prune "
                             "every namespace")

    def run(self):
        from ...kube import errors as kerr
        from ...kube.session import Session
        from ..aftercare import prune

        session = Session.from_args(self.args)
        namespace = None if self.all_namespaces else session.namespace
        try:
            moves = prune.older_than(prune.journals_in(session.api, namespace), self.older_than)
        except kerr.Forbidden as err:
            where = "in all namespaces" if namespace is None else f'in namespace "{namespace}"'
            raise UserError(f"you may not list the move journals (configmaps) {where}: {err}") from None
        if not moves:
            where = "any namespace" if namespace is None else (f'namespace "{namespace}" (moves are recorded in '
                                                               "their target namespaces: -n NAMESPACE, or -A)")
            self.streams.err.write(f"No finished moves older than {self.args.older_than} found in {where}.\n")
            return 0
        if not self.dry_run:
            self.confirm(moves)
        results = [prune.remove(session.api, m, dry_run=self.dry_run) for m in moves]
        self.show(moves, results)
        if self.dry_run:
            self.streams.err.write("Nothing was deleted (dry run).\n")
        kept = sum(1 for r in results if r.startswith("kept"))
        if kept:
            self.streams.err.write(f"{kept} journal(s) were kept (see the table); nothing else changed for them\n")
            return 1
        return 0

    def confirm(self, moves) -> None:
        from ...printers import render_table
        from .views import prune_table

        if self.assume_yes:
            return
        if not self.streams.input.isatty():
            raise UserError("no terminal to confirm the deletion; add --yes to delete without confirmation, or "
                            "--dry-run to see what would be deleted")
        self.streams.err.write(render_table(prune_table(moves), wide=False, no_headers=False))
        self.streams.err.write(f"This deletes the journals of the {len(moves)} finished move(s) above: their "
                               "status, verify and cleanup records are gone for good. Type \"yes\" to go on: ")
        self.streams.err.flush()
        if self.streams.input.readline().strip() != "yes":
            raise UserError("prune cancelled; nothing was deleted")

    def show(self, moves, results: List[str]) -> None:
        from ...printers import as_list, print_document, print_table
        from ..aftercare import prune
        from .views import prune_table

        if self.output.format == "name":
            for move, result in zip(moves, results):
                if result in ("deleted", "would delete"):
                    self.streams.out.write(f"configmap/{move.journal.name}\n")
        elif self.output.structured:
            print_document(as_list(prune.document(moves, results)), self.output, stream=self.streams.out)
        else:
            print_table(prune_table(moves, results), self.output, stream=self.streams.out)


def run(args):
    return run_verb(PruneOptions, args)

"""`kubectl vmmove assess`: Show VMs, their disks and dependencies, what they share with VMs that stay, and whether
each can move."""

from dataclasses import dataclass
from typing import Any, Optional

from ...errors import UsageError
from ...printers import OutputOptions
from ...verbs import Streams, VerbOptions, run_verb

DESCRIPTION = """Show VMs, their disks and dependencies, what they share with VMs that stay, and whether each can move.

The verdict is "movable", "needs attention" (warnings: a running VM, snapshots that stay behind, a slow copy)
or "blocked" (errors: a missing or unbound claim, an unsupported device, a snapshot or migration in progress).
-o yaml|json prints the full dependency graph. Nothing in the cluster changes.

With -A/--all-namespaces every namespace that holds VirtualMachines is assessed, one table per namespace (a List
of the per-namespace assessments with -o yaml|json); it needs the right to list VirtualMachines at the cluster
scope, and takes a selector or --all but no VM names (names need one namespace)."""

EXAMPLES = """Examples:
  kubectl vmmove assess -n legacy
  kubectl vmmove assess -n legacy -l app=web -o yaml
  kubectl vmmove assess -n legacy web-01 db-01 -o wide
  kubectl vmmove assess -A -l tier=db"""


def add_arguments(parser):
    from ...flags import add_output_flag
    from .flags import add_selection_arguments

    add_selection_arguments(parser)
    parser.add_argument("-A", "--all-namespaces", action="store_true",
                        help="Assess the VirtualMachines of every namespace, one table per namespace")
    add_output_flag(parser, formats=("table", "wide", "yaml", "json"))


@dataclass
class AssessOptions(VerbOptions):
    args: Any
    selection: Any
    all_namespaces: bool
    namespace_flag: Optional[str]
    output: OutputOptions
    streams: Streams

    @classmethod
    def complete(cls, args, streams):
        return cls(args=args, selection=None, all_namespaces=bool(getattr(args, "all_namespaces", False)),
                   namespace_flag=getattr(args, "namespace", None),
                   output=OutputOptions(args.output, getattr(args, "no_headers", False)), streams=streams)

    def validate(self):
        from ..planning import selection

        if self.all_namespaces:
            if self.namespace_flag:
                raise UsageError("-A/--all-namespaces and -n/--namespace cannot be used together; "
                                 "leave out -n to assess every namespace")
            if getattr(self.args, "vms", None) or getattr(self.args, "move_list", None):
                raise UsageError("VM names need one namespace: use -n NAMESPACE with names, or -A with "
                                 "-l/--selector or --all")
        # The selection's own checks (names with -l, an unreadable move list) come after the flag combinations.
        self.selection = selection.from_args(self.args, default_all=True)

    def run(self):
        from ...kube.session import Session
        from ...printers import as_list, no_resources_message, print_document
        from ..planning import pipeline as planner
        from ..planning import selection
        from . import views

        session = Session.from_args(self.args)
        try:
            if self.all_namespaces:
                reports = [views.assessment(*found) for found in planner.assess_all_namespaces(session.api,
                                                                                              self.selection)]
            else:
                reports = [views.assessment(*planner.assess(session.api, session.namespace, self.selection))]
        except selection.NothingSelected:
            # assess lists, as `kubectl get vm` does: nothing to show is an empty result, not an error.
            if self.output.structured:
                print_document(as_list([]), self.output, stream=self.streams.out)
            else:
                namespace = None if self.all_namespaces else session.namespace
                self.streams.err.write(no_resources_message(namespace) + "\n")
            return 0
        if self.output.structured:
            print_document(as_list(reports) if self.all_namespaces else reports[0], self.output,
                           stream=self.streams.out)
        elif self.all_namespaces:
            views.print_assessments(reports, self.output, stream=self.streams.out)
        else:
            views.print_assessment(reports[0], self.output, stream=self.streams.out)
        return 0


def run(args):
    return run_verb(AssessOptions, args)

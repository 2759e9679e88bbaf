"""`kubectl vmmove assess`: Show VMs, their disks and dependencies, what they share with VMs that stay, and whether
each can move."""

DESCRIPTION = """Show VMs, their disks and dependencies, what they share with VMs that stay, and whether each can move.

The verdict is "movable", "needs attention" (warnings: a running VM, snapshots that stay behind, a slow copy)
or "blocked" (errors: a missing or unbound claim, an unsupported device, a snapshot or migration in progress).
-o yaml|json prints the full dependency graph. Nothing in the cluster changes."""

EXAMPLES = """Examples:
  kubectl vmmove assess -n legacy
  kubectl vmmove assess -n legacy -l app=web -o yaml
  kubectl vmmove assess -n legacy web-01 db-01 -o wide"""


def add_arguments(parser):
    from ..cli import add_output_flag
    from .cli_plan import add_selection_arguments

    add_selection_arguments(parser)
    add_output_flag(parser, formats=("table", "wide", "yaml", "json"))


def run(args):
    from ..kube.session import Session
    from ..printers import OutputOptions
    from . import planner, selection, views

    sel = selection.from_args(args, default_all=True)
    session = Session.from_args(args)
    inv, graph, doc = planner.assess(session.api, session.namespace, sel)
    output = OutputOptions(args.output, getattr(args, "no_headers", False))
    report = views.assessment(inv, graph, doc)
    if output.structured:
        from ..printers import print_document

        print_document(report, output)
    else:
        views.print_assessment(report, output)
    return 0

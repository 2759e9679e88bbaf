"""`kubectl vmmove assess`: Show VMs, their disks and dependencies, what they share with VMs that stay, and whether
each can move."""

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


def run(args):
    from ...kube.session import Session
    from ...printers import OutputOptions
    from ..planning import pipeline as planner
    from ..planning import selection
    from . import views

    all_namespaces = bool(getattr(args, "all_namespaces", False))
    if all_namespaces:
        _check_all_namespaces(args)
    sel = selection.from_args(args, default_all=True)
    session = Session.from_args(args)
    output = OutputOptions(args.output, getattr(args, "no_headers", False))
    try:
        if all_namespaces:
            reports = [views.assessment(*found) for found in planner.assess_all_namespaces(session.api, sel)]
        else:
            reports = [views.assessment(*planner.assess(session.api, session.namespace, sel))]
    except selection.NothingSelected:
        # assess lists, as `kubectl get vm` does: nothing to show is an empty result, not an error.
        from ...printers import as_list, no_resources_message, print_document

        if output.structured:
            print_document(as_list([]), output)
        else:
            import sys

            sys.stderr.write(no_resources_message(None if all_namespaces else session.namespace) + "\n")
        return 0
    if output.structured:
        from ...printers import as_list, print_document

        print_document(as_list(reports) if all_namespaces else reports[0], output)
    elif all_namespaces:
        views.print_assessments(reports, output)
    else:
        views.print_assessment(reports[0], output)
    return 0


def _check_all_namespaces(args):
    from ...errors import UsageError

    if getattr(args, "namespace", None):
        raise UsageError("-A/--all-namespaces and -n/--namespace cannot be used together; "
                         "leave out -n to assess every namespace")
    if getattr(args, "vms", None) or getattr(args, "move_list", None):
        raise UsageError("VM names need one namespace: use -n NAMESPACE with names, or -A with -l/--selector or "
                         "--all")

"""`kubectl vmmove plan`: Build a move plan (every object to stop, copy, create, start and later delete) and check
it, changing nothing."""

import sys

from ...errors import UsageError, UserError

DESCRIPTION = """Build a move plan (every object to stop, copy, create, start and later delete) and check it, changing nothing.

The plan lists, per VM and in order, what 'kubectl vmmove run' will do, with the preflight findings (missing
permissions, name conflicts, quota, storage and clone method, networks, MAC addresses, running VMs). Save it with
-o yaml and execute it with 'kubectl vmmove run -f plan.yaml'; run refuses a plan with errors or one the source
has changed since. --manifests prints the target objects themselves for GitOps instead.

Exit status 1 when the plan has errors (it is printed all the same)."""

EXAMPLES = """Examples:
  # Plan the move of two VMs from "legacy" to "prod" and show it as a table
  kubectl vmmove plan -n legacy --to prod web-01 db-01

  # Save a plan for every VM labelled app=shop, cloning disks onto another storage class
  kubectl vmmove plan -n legacy --to prod -l app=shop --storage-class-map standard=ceph-rbd -o yaml > plan.yaml

  # VMs listed in a file (one name per line, # comments), into a namespace that does not exist yet
  kubectl vmmove plan -n legacy --to prod -f move-list.txt --create-namespace

  # The target objects as manifests for a GitOps repository
  kubectl vmmove plan -n legacy --to prod --all --manifests > prod/vms.yaml"""






def add_arguments(parser):
    from ...flags import add_output_flag
    from .flags import add_move_options, add_selection_arguments

    add_selection_arguments(parser)
    add_move_options(parser)
    parser.add_argument("--manifests", action="store_true",
                        help="Print the target objects (multi-document YAML, or a List with -o json) instead of the "
                             "plan")
    add_output_flag(parser, formats=("table", "wide", "yaml", "json"))






def run(args):
    from ...kube.session import Session
    from ...printers import OutputOptions
    from ..planning import moveplan as planmod
    from ..planning import pipeline as planner
    from ..planning import selection
    from .flags import check_move_id, live_options, parse_storage_class_map

    if not args.target:
        raise UsageError("--to NAMESPACE is required: the namespace to move the VMs to")
    if args.manifests and args.strategy == "transfer":
        raise UsageError("--manifests describes a clone move; rebinding volumes (--strategy transfer) cannot be "
                         "written as manifests; use 'kubectl vmmove run'")
    if args.manifests and args.strategy in ("live", "auto"):
        raise UsageError(f"--manifests describes a clone move; a live migration (--strategy {args.strategy}) is "
                         "driven step by step and cannot be written as manifests; use 'kubectl vmmove run'")
    check_move_id(args.move_id)
    sc_map = parse_storage_class_map(args.storage_class_map)
    sel = selection.from_args(args)
    session = Session.from_args(args)
    source = session.namespace
    if source == args.target:
        raise UserError(f'source and target namespace are both "{source}"; choose another target with --to')
    opts = planmod.PlanOptions(source=source, target=args.target, strategy=args.strategy, storage_class_map=sc_map,
                               target_run_strategy=args.target_run_strategy, create_namespace=args.create_namespace,
                               services=args.services, mac_policy=args.mac_policy, move_id=args.move_id or "",
                               selection=sel.describe(), live=live_options(args))
    inv, graph, doc = planner.make_plan(session.api, opts, sel, user=session.user, full_configmaps=args.manifests)
    output = OutputOptions(args.output, getattr(args, "no_headers", False))
    if args.manifests:
        print_manifests(inv, doc, output)
    elif output.structured:
        from ...printers import print_document

        print_document(doc, output)
    else:
        from .views import print_plan

        print_plan(doc, output)
    errors = planmod.errors_in(doc)
    if errors:
        raise UserError(f"the plan has {len(errors)} error(s); 'kubectl vmmove run' refuses it until they are fixed")
    return 0


def print_manifests(inv, doc, output):
    from ...kube import kinds
    from ...printers import as_list, dump_json, dump_yaml_documents
    from .. import rewrite
    from ..planning import moveplan as planmod

    plan = planmod.MovePlan(doc)
    objects = planmod.target_manifests(doc)
    skipped = []
    configmaps = inv.by_name(kinds.CONFIGMAP)
    for kind, name in planmod.run_time_copies(doc):
        cm = configmaps.get(name) if kind == "ConfigMap" else None
        if cm is not None and ("data" in cm or "binaryData" in cm or cm.get("kind") == "ConfigMap"):
            objects.append(rewrite.configmap_for_target(cm, plan.target, source_namespace=plan.source,
                                                        move_id=plan.move_id))
        else:
            skipped.append(f"{kind.lower()}/{name}")
    rank = {"Namespace": 0, "ServiceAccount": 1, "ConfigMap": 1}
    objects.sort(key=lambda o: rank.get(o["kind"], 2))   # stable: keeps the plan's order otherwise
    if output.format == "json":
        sys.stdout.write(dump_json(as_list(objects)))
    else:
        sys.stdout.write(dump_yaml_documents(objects))
    if skipped:
        src = plan.source
        sys.stderr.write(
            f"note: {len(skipped)} Secret(s) are not printed: kubectl-vmmove never outputs secret values. Copy them "
            f"to the target with your secret manager, or 'kubectl vmmove run': {', '.join(skipped)} "
            f'(from namespace "{src}")\n')

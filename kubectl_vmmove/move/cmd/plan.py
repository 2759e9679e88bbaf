"""`kubectl vmmove plan`: Build a move plan (every object to stop, copy, create, start and later delete) and check
it, changing nothing."""

from dataclasses import dataclass
from typing import Any, Optional

from ...errors import UsageError, UserError
from ...printers import OutputOptions
from ...verbs import Streams, VerbOptions, run_verb

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


@dataclass
class PlanVerbOptions(VerbOptions):
    args: Any
    manifests: bool
    output: OutputOptions
    streams: Streams
    selection: Any = None

    @classmethod
    def complete(cls, args, streams):
        return cls(args=args, manifests=bool(args.manifests),
                   output=OutputOptions(args.output, getattr(args, "no_headers", False)), streams=streams)

    def validate(self):
        from ..planning import selection
        from .flags import check_move_id, parse_storage_class_map

        args = self.args
        if not args.target:
            raise UsageError("--to NAMESPACE is required: the namespace to move the VMs to")
        if self.manifests and args.strategy == "transfer":
            raise UsageError("--manifests describes a clone move; rebinding volumes (--strategy transfer) cannot be "
                             "written as manifests; use 'kubectl vmmove run'")
        if self.manifests and args.strategy in ("live", "auto"):
            raise UsageError(f"--manifests describes a clone move; a live migration (--strategy {args.strategy}) is "
                             "driven step by step and cannot be written as manifests; use 'kubectl vmmove run'")
        check_move_id(args.move_id, "--move-id")
        parse_storage_class_map(args.storage_class_map)
        self.selection = selection.from_args(args)

    def run(self):
        from ...kube.session import Session
        from ..planning import moveplan as planmod
        from ..planning import pipeline as planner
        from .common import refuse_taken_move_id
        from .flags import plan_options

        session = Session.from_args(self.args)
        source = session.namespace
        if source == self.args.target:
            raise UserError(f'source and target namespace are both "{source}"; choose another target with --to')
        opts = plan_options(self.args, source, self.selection.describe())
        refuse_taken_move_id(session.api, opts)
        inv, graph, doc = planner.make_plan(session.api, opts, self.selection, user=session.user,
                                            full_configmaps=self.manifests)
        if self.manifests:
            print_manifests(inv, doc, self.output, keep_move_id=bool(opts.move_id), streams=self.streams)
        elif self.output.structured:
            from ...printers import print_document

            print_document(doc, self.output, stream=self.streams.out)
        else:
            from .views import print_plan

            print_plan(doc, self.output, stream=self.streams.out)
        errors = planmod.errors_in(doc)
        if errors and self.manifests:
            named = "; ".join(f'{e.get("code")}: {e.get("message")}' for e in errors[:5])
            raise UserError(f"the plan has {len(errors)} error(s) ({named}); the manifests would not give the VMs "
                            "as they are in the source: fix the errors and plan again")
        if errors:
            raise UserError(f"the plan has {len(errors)} error(s); 'kubectl vmmove run' refuses it until they are "
                            "fixed")
        return 0


def run(args):
    return run_verb(PlanVerbOptions, args)


def print_manifests(inv, doc, output, keep_move_id: bool = True, streams: Optional[Streams] = None):
    """The target objects; without a move id given (--move-id) none is written into them, so that the output is
    the same for the same cluster. The plan's findings go to stderr, one line each."""
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
    if not keep_move_id:
        objects = [rewrite.without_move_id(o) for o in objects]
    streams = streams or Streams()
    if output.format == "json":
        streams.out.write(dump_json(as_list(objects)))
    else:
        streams.out.write(dump_yaml_documents(objects))
    for finding in plan.findings:
        remedy = f' ({finding["remedy"]})' if finding.get("remedy") else ""
        streams.err.write(f'{finding["severity"].capitalize()}: {finding["code"]}: {finding["message"]}{remedy}\n')
    if skipped:
        src = plan.source
        streams.err.write(
            f"note: {len(skipped)} Secret(s) are not printed: kubectl-vmmove never outputs secret values. Copy them "
            f"to the target with your secret manager, or 'kubectl vmmove run': {', '.join(skipped)} "
            f'(from namespace "{src}")\n')

"""`kubectl vmmove openstack convert`: OpenStack exports -> KubeVirt manifests and a loss report, offline."""

import contextlib
import gc
import os
from dataclasses import dataclass
from typing import Any, List, Optional

from ...errors import UsageError, UserError
from ...verbs import Streams, VerbOptions, run_verb
from ..mapping.services import DEFAULT_LB_IP_ANNOTATION
from ..mapping.tenancy import SUBJECT_TEMPLATE

DESCRIPTION = """Turn OpenStack exports (export documents, raw API JSON, openstack ... -f json output) into KubeVirt
VirtualMachines, DataVolumes, NetworkPolicies, Services, Namespaces, Secrets and RoleBindings, with a report of every
source field mapped, approximated or dropped. Nothing is sent anywhere: review the output, then apply it or commit it.

Each OpenStack project becomes a namespace named by --namespace-template. -n/--namespace NAME puts every project
into that one namespace instead (their quotas add up); as the conversion is offline and per project, the namespace of
the kubeconfig's current context is not used when -n is not given.

The output contains Secrets with the servers' user data and public keys (user data often holds passwords): keep it
out of public repositories, or use --omit-secret-values and fill the Secrets in separately."""

EXAMPLES = """Examples:
  # Everything into a GitOps tree, disks imported over HTTP, a markdown report
  kubectl vmmove openstack convert export.yaml --network-map private=pod \\
      --disk-source http --disk-url-template 'https://images.example/{source_kind}/{source_id}.qcow2' \\
      --output-dir gitops/ --report report.md

  # Raw API responses and openstack CLI output from a directory, as one YAML stream
  kubectl vmmove openstack convert ./dumps/ --network-map private=pod --network-map storage=multus:infra/storage -o yaml

  # Instancetypes and preferences, Calico for ICMP, MetalLB addresses, OIDC subjects, quotas
  kubectl vmmove openstack convert export.yaml --network-map private=pod --instancetypes --calico \\
      --lb-ip-annotation metallb.universe.tf/loadBalancerIPs --subject-prefix oidc: --quotas"""

NAMESPACE_TEMPLATE = "{domain}-{project}"
DISK_SOURCES = ("pvc", "http", "registry", "s3")
REPORT_FORMATS = ("yaml", "json", "markdown")


def add_arguments(parser):
    """Inputs and outputs, then the flags of each group in --help order."""
    from ...flags import add_output_flag

    parser.add_argument("paths", nargs="*", metavar="FILE|DIR", help="Export documents, API JSON or CLI JSON "
                                                                     "files, or directories of them; - for stdin")
    parser.add_argument("-f", "--filename", action="append", default=[], metavar="FILE",
                        help="Input file or directory (repeatable; same as the positional arguments)")
    add_output_flag(parser, formats=("yaml", "json", "name"), default="yaml")
    parser.add_argument("--output-dir", metavar="DIR", help="Write a GitOps tree (a folder per namespace, "
                                                            "kustomization.yaml files) instead of printing")
    parser.add_argument("--report", metavar="FILE", help="Write the loss report (format from the extension: .md, "
                                                         ".yaml, .json)")
    parser.add_argument("--report-format", choices=REPORT_FORMATS, help="Report format when the extension is not "
                                                                        "enough")
    parser.add_argument("--strict", action="store_true", help="Fail when anything had to be skipped (warnings)")
    _tenancy_flags(parser)
    _vm_flags(parser)
    _disk_flags(parser)
    _network_flags(parser)


def _tenancy_flags(parser):
    g = parser.add_argument_group("tenancy")
    g.add_argument("--namespace-template", default=NAMESPACE_TEMPLATE, metavar="TEMPLATE",
                   help="Namespace per project: {domain}, {project}, {domain_id}, {project_id} (default "
                        "%(default)s; -n puts everything into one namespace instead)")
    g.add_argument("--quotas", action="store_true", help="Write project quotas as ResourceQuotas")
    g.add_argument("--role-map", action="append", default=[], metavar="ROLE=CLUSTERROLE[,CLUSTERROLE]",
                   help="Keystone role to ClusterRoles (default admin, member, reader to admin/edit/view plus "
                        "kubevirt.io:*)")
    g.add_argument("--subject-prefix", default="", metavar="PREFIX",
                   help="Prefix of user and group names in the cluster's identity provider, e.g. oidc:")
    g.add_argument("--subject-template", default=SUBJECT_TEMPLATE, metavar="TEMPLATE",
                   help="RoleBinding subject per Keystone user or group, after the prefix: {name}, {domain}, "
                        "{domain_id}, {id} (default %(default)s; names are unique only within a domain, and a "
                        "template that gives two identities one subject is an error)")


def _vm_flags(parser):
    g = parser.add_argument_group("virtual machines")
    g.add_argument("--run-strategy", choices=("Always", "Halted", "Manual", "RerunOnFailure", "Once"),
                   help="Run strategy for every VM (default: from the server status)")
    g.add_argument("--instancetypes", action="store_true",
                   help="Emit a VirtualMachineInstancetype per flavor and a VirtualMachinePreference per image")
    g.add_argument("--pci-alias-map", action="append", default=[], metavar="ALIAS=RESOURCE",
                   help="PCI alias or resources:NAME of flavors to a KubeVirt permittedHostDevices resource")
    g.add_argument("--zones", action="store_true", help="Pin VMs to topology.kubernetes.io/zone of their "
                                                        "availability zone")
    g.add_argument("--zone-map", action="append", default=[], metavar="AZ=ZONE",
                   help="Availability zone to cluster zone (with --zones)")


def _disk_flags(parser):
    g = parser.add_argument_group("disks")
    g.add_argument("--disk-source", choices=DISK_SOURCES, default="pvc",
                   help="Where disk data comes from (default pvc: claims you pre-staged)")
    g.add_argument("--disk-url-template", metavar="URL", help="For http: e.g. 'https://images.example/{image_id}.qcow2'")
    g.add_argument("--registry-template", metavar="IMAGE", help="For registry: e.g. 'registry.example/vms/{source_id}:latest'")
    g.add_argument("--s3-template", metavar="URL", help="For s3: e.g. 'https://s3.example/bucket/{source_id}.qcow2'")
    g.add_argument("--pvc-template", default="{source_kind}-{source_id}", metavar="NAME",
                   help="For pvc: the pre-staged claim name (default %(default)s); fields: {source_kind} {source_id} "
                        "{source_name} {image_id} {image_name} {volume_id} {volume_name} {server_name} {vm} {disk}")
    g.add_argument("--pvc-namespace", metavar="NS", help="For pvc: the claims' namespace (default: the VM's)")
    g.add_argument("--disk-secret", metavar="NAME", help="Secret with credentials for http, registry or s3 imports")
    g.add_argument("--disk-cert-configmap", metavar="NAME", help="ConfigMap with the CA of the http endpoint")
    g.add_argument("--storage-class-map", action="append", default=[], metavar="VOLUME_TYPE=CLASS",
                   help="Cinder volume type to storage class; 'glance' for image-based disks, '*' for the rest")


def _network_flags(parser):
    g = parser.add_argument_group("networks")
    g.add_argument("--network-map", action="append", default=[], metavar="NETWORK=pod|multus:NS/NAD|ignore",
                   help="Neutron network (name or id) to the pod network, a Multus NAD or nothing; required for "
                        "every network a server uses")
    g.add_argument("--static-ips", action="store_true",
                   help="Keep fixed IPs of Multus interfaces as cloud-init network data")
    g.add_argument("--calico", action="store_true",
                   help="Write ICMP and other non-TCP/UDP/SCTP rules, and remote-group rules of one IP family, as "
                        "projectcalico.org/v3 NetworkPolicies")
    g.add_argument("--translate-tenant-cidrs", action="store_true",
                   help="Rules whose prefix covers a subnet of a network mapped to the pod network also select the "
                        "VMs that had those addresses (after the move they have pod addresses); reported either way")
    g.add_argument("--lb-ip-annotation", metavar="KEY", default=DEFAULT_LB_IP_ANNOTATION,
                   help="Annotation that asks the load balancer for the floating IP (default %(default)s; "
                        "spec.loadBalancerIP writes that deprecated field instead)")
    g.add_argument("--omit-secret-values", action="store_true",
                   help="Write Secrets without data (annotated with what to fill in), e.g. for a public repository")


def options_from_args(args):
    from ..convert import Options, split_map
    from ..mapping.networks import parse_network_map
    from ..mapping.tenancy import check_subject_template, parse_role_map

    templates = {"http": ("disk_url_template", "--disk-url-template"),
                 "registry": ("registry_template", "--registry-template"),
                 "s3": ("s3_template", "--s3-template")}
    if args.disk_source in templates:
        attr, flag = templates[args.disk_source]
        if not getattr(args, attr):
            raise UsageError(f"--disk-source {args.disk_source} needs {flag}, e.g. {flag} "
                             f"'https://images.example/{{source_kind}}/{{source_id}}.qcow2'")
    namespace = getattr(args, "namespace", None)
    if namespace is not None:
        from ..mapping.names import DNS_LABEL

        if not DNS_LABEL.match(namespace):
            raise UsageError(f"-n {namespace!r}: not a valid namespace name (DNS-1123 label)")
        if args.namespace_template != NAMESPACE_TEMPLATE:
            raise UsageError("-n and --namespace-template cannot be used together: -n puts every project into one "
                             "namespace, --namespace-template names a namespace per project")
    check_subject_template(args.subject_template)
    return Options(
        namespace_template=args.namespace_template, namespace=namespace, quotas=args.quotas,
        role_map=parse_role_map(args.role_map), subject_prefix=args.subject_prefix,
        subject_template=args.subject_template, run_strategy=args.run_strategy,
        instancetypes=args.instancetypes, disk_source=args.disk_source, disk_url_template=args.disk_url_template,
        registry_template=args.registry_template, s3_template=args.s3_template, pvc_template=args.pvc_template,
        pvc_namespace=args.pvc_namespace, disk_secret=args.disk_secret, disk_cert_configmap=args.disk_cert_configmap,
        storage_class_map=split_map(args.storage_class_map, "--storage-class-map"),
        network_map=parse_network_map(args.network_map), static_ips=args.static_ips, calico=args.calico,
        translate_tenant_cidrs=args.translate_tenant_cidrs,
        lb_ip_annotation=args.lb_ip_annotation, zones=args.zones, zone_map=split_map(args.zone_map, "--zone-map"),
        pci_alias_map=split_map(args.pci_alias_map, "--pci-alias-map"),
        omit_secret_values=args.omit_secret_values)


def report_format(path: str, explicit) -> str:
    if explicit:
        return explicit
    ext = os.path.splitext(path)[1].lower()
    fmt = {".md": "markdown", ".markdown": "markdown", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(ext)
    if fmt is None:
        raise UsageError(f"--report {path}: cannot tell the format from the extension; use .md, .yaml or .json, "
                         "or --report-format")
    return fmt


def convert_paths(paths, options, packed: bool = False):
    """Read, normalise and convert (`packed`: the manifests packed, see packed.py), the collector paused."""
    from ..convert import convert
    from ..read.inputs import read_paths
    from ..read.normalise import normalise

    with gc_paused():
        return convert(normalise(read_paths(paths)), options, packed=packed)


@contextlib.contextmanager
def gc_paused():
    """The cyclic garbage collector paused: converting and writing build and drop hundreds of thousands of small
    acyclic dicts, and full collections over them cost a third of the run on big estates."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class ConvertOptions(VerbOptions):
    args: Any
    paths: List[str]
    streams: Streams
    report_fmt: Optional[str] = None
    options: Any = None

    @classmethod
    def complete(cls, args, streams):
        return cls(args=args, paths=list(args.paths) + list(args.filename), streams=streams)

    def validate(self):
        if self.args.report:
            self.report_fmt = report_format(self.args.report, self.args.report_format)
        self.options = options_from_args(self.args)

    def run(self) -> int:
        with gc_paused():
            return self.convert_and_write()

    def convert_and_write(self) -> int:
        args, out, err = self.args, self.streams.out, self.streams.err
        result = convert_paths(self.paths, self.options, packed=True)
        for w in result.warnings:
            err.write(f"warning: {w}\n")
        if args.strict and result.warnings:
            raise UserError(f"{len(result.warnings)} warnings with --strict; nothing written")
        self.write_objects(result, out, err)
        if args.report:
            self.write_report(result)
        from ..report import summary_line

        err.write(summary_line(result.servers, len(result.objects), result.report.counts, args.report) + "\n")
        return 0

    def write_objects(self, result, out, err) -> None:
        from ...printers import OutputOptions, print_objects
        from .. import render

        args = self.args
        if args.output_dir:
            tree = render.write_tree(result.objects, args.output_dir)
            err.write(f"wrote {len(tree.written)} files to {args.output_dir} ({len(tree.unchanged)} unchanged"
                      + (f", {len(tree.removed)} stale removed" if tree.removed else "") + ")\n")
        elif args.output == "name":
            print_objects(result.objects, OutputOptions("name"), stream=out)
        elif args.output == "json":
            render.write_json_list(result.objects, out)
        else:
            render.write_yaml_stream(result.objects, out)

    def write_report(self, result) -> None:
        from ...printers import dump_json, dump_yaml
        from .. import render

        report, path = result.report, self.args.report
        if self.report_fmt == "markdown":
            chunks = report.markdown_chunks(result.servers, len(result.objects))
        else:
            doc = report.document(result.servers, len(result.objects))
            chunks = iter([dump_yaml(doc) if self.report_fmt == "yaml" else dump_json(doc)])
        try:
            render.write_chunks_if_changed(path, chunks)
        except OSError as err:
            raise UserError(f"--report {path}: {err}") from err


def run(args) -> int:
    return run_verb(ConvertOptions, args)

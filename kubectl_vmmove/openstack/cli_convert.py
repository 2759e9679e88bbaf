"""`kubectl vmmove openstack convert`: Turn OpenStack exports (our export documents, raw API JSON, openstack ... -f json output) into KubeVirt manifests, with a report of everything mapped, approximated or dropped."""

from ..errors import NotImplementedYet

DESCRIPTION = """Turn OpenStack exports (our export documents, raw API JSON, openstack ... -f json output) into KubeVirt manifests, with a report of everything mapped, approximated or dropped."""

EXAMPLES = """Examples:
  kubectl vmmove openstack convert export.yaml -o yaml
  kubectl vmmove openstack convert export.yaml --output-dir gitops/ --report report.md"""


def add_arguments(parser):
    pass


def run(args):
    raise NotImplementedYet("openstack convert")

"""`kubectl vmmove openstack export`: Read servers, flavors, images, volumes, networks, security groups, floating IPs, key pairs and identity from a live OpenStack cloud into one export document."""

from ..errors import NotImplementedYet

DESCRIPTION = """Read servers, flavors, images, volumes, networks, security groups, floating IPs, key pairs and identity from a live OpenStack cloud into one export document."""

EXAMPLES = """Examples:
  kubectl vmmove openstack export --os-cloud mycloud -f export.yaml"""


def add_arguments(parser):
    pass


def run(args):
    raise NotImplementedYet("openstack export")

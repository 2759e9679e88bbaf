"""`kubectl vmmove cleanup`: Delete the source VMs and the dependencies only they used, after verify passes."""

from ..errors import NotImplementedYet

DESCRIPTION = """Delete the source VMs and the dependencies only they used, after verify passes."""

EXAMPLES = """Examples:
  kubectl vmmove cleanup 7f3c2a"""


def add_arguments(parser):
    pass


def run(args):
    raise NotImplementedYet("cleanup")

"""`kubectl vmmove rollback`: Remove what a move created in the target and restore the source VMs, before cleanup."""

from ..errors import NotImplementedYet

DESCRIPTION = """Remove what a move created in the target and restore the source VMs, before cleanup."""

EXAMPLES = """Examples:
  kubectl vmmove rollback 7f3c2a"""


def add_arguments(parser):
    pass


def run(args):
    raise NotImplementedYet("rollback")

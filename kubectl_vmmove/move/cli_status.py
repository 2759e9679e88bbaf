"""`kubectl vmmove status`: Show the moves found in the namespaces you can read, or the per-VM steps of one move."""

from ..errors import NotImplementedYet

DESCRIPTION = """Show the moves found in the namespaces you can read, or the per-VM steps of one move."""

EXAMPLES = """Examples:
  kubectl vmmove status
  kubectl vmmove status 7f3c2a --watch"""


def add_arguments(parser):
    pass


def run(args):
    raise NotImplementedYet("status")

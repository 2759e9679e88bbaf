"""`kubectl vmmove verify`: Check that every moved VM and its dependencies exist in the target, match the source and run."""

from ..errors import NotImplementedYet

DESCRIPTION = """Check that every moved VM and its dependencies exist in the target, match the source and run."""

EXAMPLES = """Examples:
  kubectl vmmove verify 7f3c2a"""


def add_arguments(parser):
    pass


def run(args):
    raise NotImplementedYet("verify")

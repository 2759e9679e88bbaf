"""`kubectl vmmove plan`: Build a move plan (every object to stop, copy, create, start and later delete) and check it, changing nothing."""

from ..errors import NotImplementedYet

DESCRIPTION = """Build a move plan (every object to stop, copy, create, start and later delete) and check it, changing nothing."""

EXAMPLES = """Examples:
  kubectl vmmove plan -n legacy --to prod web-01 db-01
  kubectl vmmove plan -n legacy --to prod --all -o yaml > plan.yaml"""


def add_arguments(parser):
    pass


def run(args):
    raise NotImplementedYet("plan")

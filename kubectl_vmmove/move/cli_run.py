"""`kubectl vmmove run`: Execute a move plan: stop each VM, copy its disks and dependencies to the target namespace, create it there and start it. The source stays until a verified cleanup."""

from ..errors import NotImplementedYet

DESCRIPTION = """Execute a move plan: stop each VM, copy its disks and dependencies to the target namespace, create it there and start it. The source stays until a verified cleanup."""

EXAMPLES = """Examples:
  kubectl vmmove run -f plan.yaml
  kubectl vmmove run -n legacy --to prod web-01 --yes"""


def add_arguments(parser):
    pass


def run(args):
    raise NotImplementedYet("run")

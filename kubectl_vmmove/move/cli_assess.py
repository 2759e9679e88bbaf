"""`kubectl vmmove assess`: Show VMs, their disks and dependencies, what they share with VMs that stay, and whether each can move."""

from ..errors import NotImplementedYet

DESCRIPTION = """Show VMs, their disks and dependencies, what they share with VMs that stay, and whether each can move."""

EXAMPLES = """Examples:
  kubectl vmmove assess -n legacy
  kubectl vmmove assess -n legacy -l app=web -o yaml"""


def add_arguments(parser):
    pass


def run(args):
    raise NotImplementedYet("assess")

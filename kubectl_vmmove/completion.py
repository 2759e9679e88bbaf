"""`kubectl vmmove completion`: Print a shell completion script for bash, zsh or fish."""

from .errors import NotImplementedYet

DESCRIPTION = """Print a shell completion script for bash, zsh or fish."""

EXAMPLES = """Examples:
  source <(kubectl vmmove completion bash)"""


def add_arguments(parser):
    pass


def run(args):
    raise NotImplementedYet("completion")

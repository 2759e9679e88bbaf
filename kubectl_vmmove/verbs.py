"""The shape every verb follows, as kubectl's commands do: Complete, Validate, Run.

`complete` turns the parsed flags into one Options object (reading files and stdin where a flag names them, nothing
from the cluster yet); `validate` refuses flag combinations with kubectl-style usage errors (exit 2) before anything
is contacted; `run` does the work and writes only to the injected streams. A verb module's `run(args)` is
`run_verb(TheOptions, args)`, so tests can build the Options directly and hand in their own streams.
"""

import abc
import sys
from dataclasses import dataclass, field
from typing import Any, Optional, TextIO, Type, TypeVar


@dataclass
class Streams:
    """Where a verb writes its result (out), its messages and progress (err), and reads confirmations (input)."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    input: TextIO = field(default_factory=lambda: sys.stdin)


class VerbOptions(abc.ABC):
    """What one run of a verb works from. Subclasses are dataclasses built by `complete`."""

    streams: Streams

    @classmethod
    @abc.abstractmethod
    def complete(cls, args: Any, streams: Streams) -> "VerbOptions":
        """Build the options from the parsed command line."""

    def validate(self) -> None:
        """Raise UsageError for flags that cannot go together; the default accepts everything."""
        return None

    @abc.abstractmethod
    def run(self) -> int:
        """Do the work; the exit status."""


OptionsT = TypeVar("OptionsT", bound=VerbOptions)


def run_verb(options_class: Type[OptionsT], args: Any, streams: Optional[Streams] = None) -> int:
    options = options_class.complete(args, streams or Streams())
    options.validate()
    return int(options.run() or 0)

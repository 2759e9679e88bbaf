"""Errors a user sees. cli.py renders them kubectl-style: `error: <message>` on stderr.

Every message says what is wrong and what to do about it. API failures live in kube.errors and are
subclasses of UserError, so a verb that does not catch them still exits cleanly with the server's words.
"""


class UserError(Exception):
    """Something the user can fix; exit status 1, no traceback."""

    exit_code = 1


class UsageError(UserError):
    """The command line itself is wrong (unknown flag, missing argument); exit status 2 like kubectl."""

    exit_code = 2


class Terminated(KeyboardInterrupt):
    """SIGTERM (a closed session, `kill`, a CI job cancelled): handled as Ctrl-C is, exit status 143 (128 + 15)."""

    exit_code = 143

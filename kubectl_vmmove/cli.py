"""The argparse tree, kubectl's global flags, dispatch, exit codes and error rendering.

Verbs live in small modules that import nothing heavy at module level; each exposes `add_arguments(parser)` and
`run(args) -> int`. Only the chosen verb's work imports `kubernetes` or `openstack`, so `--help` stays fast.
"""

import argparse
import importlib
import logging
import os
import sys

from .errors import Terminated, UsageError, UserError

PROG = "kubectl vmmove"

# (verb, module, one-line help). Order is the order of `--help`.
VERBS = [
    ("assess", "kubectl_vmmove.move.cmd.assess", "Show VMs, their dependencies and whether each can move"),
    ("plan", "kubectl_vmmove.move.cmd.plan", "Build and check a move plan without changing anything"),
    ("run", "kubectl_vmmove.move.cmd.run", "Execute a move plan: stop, copy, recreate and start VMs in the target"),
    ("status", "kubectl_vmmove.move.cmd.status", "Show moves and the progress of each VM"),
    ("verify", "kubectl_vmmove.move.cmd.verify", "Check that moved VMs match their source and run"),
    ("cleanup", "kubectl_vmmove.move.cmd.cleanup", "Delete the source of a verified move"),
    ("rollback", "kubectl_vmmove.move.cmd.rollback", "Undo a move that has not been cleaned up"),
    ("prune", "kubectl_vmmove.move.cmd.prune", "Remove the journals of finished moves older than an age"),
    ("openstack", None, "Export an OpenStack cloud and convert it to KubeVirt manifests"),
    ("completion", "kubectl_vmmove.completion", "Print a shell completion script (bash, zsh, fish)"),
    ("version", "kubectl_vmmove.versions", "Print the client version and the cluster's Kubernetes, KubeVirt and CDI"),
]

OPENSTACK_VERBS = [
    ("export", "kubectl_vmmove.openstack.cmd.export", "Read a live OpenStack cloud into an export document"),
    ("convert", "kubectl_vmmove.openstack.cmd.convert", "Turn OpenStack exports into KubeVirt manifests"),
]


class _Parser(argparse.ArgumentParser):
    """argparse with kubectl's usage-error shape: `error: ...` plus a pointer to --help, exit 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # kubectl never guesses a flag from its prefix
        super().__init__(*args, **kwargs)
        if self.usage is None and self.prog != PROG:
            self.usage = f"{self.prog} [flags]"

    def error(self, message):
        raise UsageError(f"{message}\nSee '{self.prog} --help' for usage.")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog):
        super().__init__(prog, max_help_position=32)


def _global_flags() -> "_Parser":
    """kubectl's connection flags. SUPPRESS defaults so a flag given before or after the verb both count."""
    p = _Parser(add_help=False, allow_abbrev=False)
    g = p.add_argument_group("kubectl options")
    s = argparse.SUPPRESS
    g.add_argument("--kubeconfig", default=s, metavar="PATH", help="Path to the kubeconfig file to use")
    g.add_argument("--context", default=s, help="The name of the kubeconfig context to use")
    g.add_argument("--cluster", default=s, help="The name of the kubeconfig cluster to use")
    g.add_argument("--user", default=s, help="The name of the kubeconfig user to use")
    g.add_argument("-n", "--namespace", default=s, help="The namespace scope for this request")
    g.add_argument("--as", dest="as_user", default=s, metavar="USER", help="Username to impersonate")
    g.add_argument("--as-group", dest="as_group", action="append", default=s, metavar="GROUP",
                   help="Group to impersonate (repeatable)")
    g.add_argument("--as-uid", dest="as_uid", default=s, metavar="UID", help="UID to impersonate")
    g.add_argument("--request-timeout", dest="request_timeout", default=s, metavar="DURATION",
                   help="Time to wait for a single request (30, 30s, 2m; 0 means no timeout)")
    g.add_argument("-s", "--server", default=s, help="The address and port of the Kubernetes API server")
    g.add_argument("--token", default=s, help="Bearer token for authentication to the API server")
    g.add_argument("--certificate-authority", dest="certificate_authority", default=s, metavar="PATH",
                   help="Path to a cert file for the certificate authority")
    g.add_argument("--client-certificate", dest="client_certificate", default=s, metavar="PATH",
                   help="Path to a client certificate file for TLS")
    g.add_argument("--client-key", dest="client_key", default=s, metavar="PATH",
                   help="Path to a client key file for TLS")
    g.add_argument("--insecure-skip-tls-verify", dest="insecure_skip_tls_verify", action="store_true", default=s,
                   help="Do not check the server's certificate (insecure)")
    g.add_argument("--tls-server-name", dest="tls_server_name", default=s,
                   help="Server name to use for server certificate validation")
    g.add_argument("-v", "--v", dest="verbosity", type=int, default=s, metavar="N",
                   help="Log level: 6 shows API requests and tracebacks, 8 request and response bodies "
                        "(Secret data redacted; cut at 1024 characters, at 9 at 10240, whole from 10)")
    return p


def build_parser() -> argparse.ArgumentParser:
    flags = _global_flags()
    root = _Parser(
        prog=PROG,
        usage=f"{PROG} <command> [flags]",
        formatter_class=_Formatter,
        parents=[flags],
        description="Move KubeVirt virtual machines between namespaces, and convert OpenStack to KubeVirt.",
        epilog=(
            "Examples:\n"
            "  kubectl vmmove assess -n legacy\n"
            "  kubectl vmmove plan -n legacy --to prod web-01 db-01 -o yaml > plan.yaml\n"
            "  kubectl vmmove run -f plan.yaml\n"
            "  kubectl vmmove openstack convert export.yaml --output-dir gitops/\n\n"
            "Use 'kubectl vmmove <command> --help' for more information about a command."
        ),
    )
    sub = root.add_subparsers(dest="verb", metavar="<command>", parser_class=_Parser)
    for verb, module, summary in VERBS:
        if module is None:
            group = sub.add_parser(verb, help=summary, description=summary, parents=[flags],
                                   formatter_class=_Formatter, prog=f"{PROG} {verb}",
                                   usage=f"{PROG} {verb} <command> [flags]")
            group_sub = group.add_subparsers(dest="subverb", metavar="<command>", parser_class=_Parser)
            for subverb, submodule, subsummary in OPENSTACK_VERBS:
                _add_verb(group_sub, subverb, submodule, subsummary, flags, prefix=f"{PROG} {verb}")
            group.set_defaults(_group=group)
            continue
        _add_verb(sub, verb, module, summary, flags, prefix=PROG)
    return root


def _add_verb(sub, verb, module_name, summary, flags, prefix):
    module = importlib.import_module(module_name)
    parser = sub.add_parser(
        verb,
        help=summary,
        prog=f"{prefix} {verb}",
        description=getattr(module, "DESCRIPTION", summary),
        epilog=getattr(module, "EXAMPLES", None),
        parents=[flags],
        formatter_class=_Formatter,
    )
    module.add_arguments(parser)
    parser.set_defaults(_run=module.run, _prog=parser.prog, build_parser=build_parser)
    return parser


def _restore_frozen_environment():
    # A PyInstaller bootloader prepends its own library folder; exec credential plugins and any child process must
    # see the user's LD_LIBRARY_PATH instead (shared/reference/plugin-packaging.md 4.4).
    if getattr(sys, "frozen", False):
        original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
        if original is not None:
            os.environ["LD_LIBRARY_PATH"] = original
        else:
            os.environ.pop("LD_LIBRARY_PATH", None)


def _configure_logging(verbosity: int):
    """Our own logger on the current stderr (kubectl's -v levels); the root logger is left to the embedding host."""
    level = logging.WARNING
    if verbosity >= 6:
        level = logging.DEBUG
    elif verbosity >= 4:
        level = logging.INFO
    logger = logging.getLogger("kubectl_vmmove")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname).1s %(name)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    # -v 8 adds request and response bodies (kube/bodies.py: Secret data redacted), cut shorter at 8 than at 9.
    from .kube import bodies

    body_levels = {8: bodies.LEVEL_V8, 9: bodies.LEVEL_V9}
    logging.getLogger(bodies.log.name).setLevel(
        logging.WARNING if verbosity < 8 else body_levels.get(verbosity, bodies.LEVEL_V10))


def _on_sigterm(signum, frame):
    raise Terminated()


def main(argv=None) -> int:
    """Run one command; SIGTERM is turned into Terminated (a KeyboardInterrupt) for as long as it runs."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return _main(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


# Flags whose value may be a duration: `--timeout -5m` is one flag and its (wrong) value, not two flags.
DURATION_FLAGS = ("--timeout", "--request-timeout", "--older-than")


def _join_negative_durations(argv):
    """`--timeout -5m` as `--timeout=-5m`: argparse takes "-5m" for a flag and says "expected one argument",
    where the user should hear that a duration cannot be negative (durations.parse_duration)."""
    import re

    out = []
    for token in argv:
        if out and out[-1] in DURATION_FLAGS and re.fullmatch(r"-\d[\w.µ]*", token):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def _main(argv=None) -> int:
    _restore_frozen_environment()
    argv = _join_negative_durations(sys.argv[1:] if argv is None else argv)
    verbosity = 0
    try:
        parser = build_parser()
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            # argparse reports these from the root parser; kubectl points at the help of the verb that was used.
            prog = getattr(args, "_prog", None) or parser.prog
            raise UsageError(f"unrecognized arguments: {' '.join(unknown)}\nSee '{prog} --help' for usage.")
        verbosity = getattr(args, "verbosity", 0) or 0
        args.verbosity = verbosity
        _configure_logging(verbosity)
        run = getattr(args, "_run", None)
        if run is None:
            target = getattr(args, "_group", None) or parser
            target.print_help(sys.stderr)
            return 2 if args.verb else 0
        if hasattr(args, "_output_formats"):
            from .printers import validate_output

            args.output = validate_output(args.output, args._output_formats)
        return int(run(args) or 0)
    except UserError as err:
        if verbosity >= 6:
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"error: {err}\n")
        return err.exit_code
    except KeyboardInterrupt as stop:
        if isinstance(stop, Terminated):
            sys.stderr.write("\nterminated\n")
            return Terminated.exit_code
        sys.stderr.write("\ninterrupted\n")
        return 130
    except BrokenPipeError:
        # `kubectl vmmove ... | head`: the reader went away; not an error worth a message.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 141
    except Exception as err:  # the last resort: a bug, shown briefly unless -v asks for the traceback
        if verbosity >= 6:
            import traceback

            traceback.print_exc()
        sys.stderr.write(
            f"error: unexpected {type(err).__name__}: {err}\n"
            "Re-run with --v=6 for the traceback and report it at https://github.com/kubectl-vmmove/kubectl-vmmove/issues\n"
        )
        return 1


def entry() -> None:
    sys.exit(main())

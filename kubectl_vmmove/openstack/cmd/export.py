"""`kubectl vmmove openstack export`: read a live OpenStack cloud into one export document of raw API objects."""

import os
import re
import secrets
import sys
from dataclasses import dataclass
from typing import Any

from ...errors import UsageError, UserError
from ...verbs import Streams, VerbOptions, run_verb

DESCRIPTION = """Read servers, flavors, images, volumes, networks, security groups, address groups, floating IPs,
key pairs and identity from a live OpenStack cloud into one export document.

The connection is configured exactly as for the openstack CLI: --os-cloud/OS_CLOUD with clouds.yaml, OS_* environment
variables (an openrc file), or --os-* flags. Objects are stored as the REST API returns them. The document holds
servers' user data (needed to rebuild cloud-init), so the file is created readable by its owner only (0600).
Passwords, secrets and tokens are never written. What the credentials may not read (identity as a non-admin) is
listed under `warnings`.

Key pairs belong to users, not projects. Exported are the key pairs of the users who created the exported servers
(another user's need admin and compute microversion 2.10 or later) and, without --project, your own; those of users
who own no exported server are not, since convert uses a key pair only through a server that names it. A request
answered 429 or 5xx is retried up to 4 times, waiting as Retry-After says (at most 60s) or backing off; -v=4 shows
each retry."""

EXAMPLES = """Examples:
  # Export the project of the clouds.yaml entry "mycloud"
  kubectl vmmove openstack export --os-cloud mycloud -f export.yaml

  # With an openrc file sourced, as JSON
  kubectl vmmove openstack export -f export.json

  # Everything in the cloud (admin), then convert it
  kubectl vmmove openstack export --os-cloud admin --all-projects -f all.yaml
  kubectl vmmove openstack convert all.yaml -o yaml"""

FORMATS = ("yaml", "json")


def add_arguments(parser):
    from ..export.connection import add_connection_arguments

    parser.add_argument("-f", "--file", default="-", metavar="PATH",
                        help="Where to write the export document; '-' for stdout (default)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="Document format (default: from the file extension, .json = json, else yaml)")
    parser.add_argument("--project", metavar="NAME_OR_ID",
                        help="Export this project instead of the token's own (admin)")
    parser.add_argument("--all-projects", action="store_true",
                        help="Export every project of the cloud (admin)")
    parser.add_argument("--chunk-size", type=int, default=500, metavar="N",
                        help="Objects to ask for per page; 0 leaves it to each service (default 500)")
    add_connection_arguments(parser)


def output_format(path: str, explicit) -> str:
    if explicit:
        return explicit
    return "json" if path != "-" and path.lower().endswith(".json") else "yaml"


def timeout_seconds(value):
    """kubectl's --request-timeout (`30`, `30s`, `2m`, `1h`; 0 means none) in seconds, or None."""
    if value in (None, "", "0"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m|h)?", str(value).strip())
    if not match:
        raise UsageError(f"invalid --request-timeout {value!r}: use a number of seconds or a duration like 30s, 2m")
    number = float(match.group(1))
    return number * {"s": 1, None: 1, "m": 60, "h": 3600}[match.group(2)] or None


def write_private(path: str, text: str) -> None:
    """Write atomically, created 0600 from the start (the document holds user data); never chmod afterwards."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UserError(f"cannot write {path}: directory {directory} does not exist")
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        raise UserError(f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Progress:
    """One line per collection on stderr ("servers: 120"); on a terminal the count updates in place."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, name, count, done):
        if self.tty:
            self.stream.write(f"\r{name}: {count}" + ("\n" if done else ""))
            self.stream.flush()
        elif done:
            self.stream.write(f"{name}: {count}\n")


@dataclass
class ExportOptions(VerbOptions):
    args: Any
    fmt: str
    streams: Streams

    @classmethod
    def complete(cls, args, streams):
        return cls(args=args, fmt="", streams=streams)

    def validate(self):
        if self.args.chunk_size < 0:
            raise UsageError("--chunk-size must be 0 or more")
        self.fmt = output_format(self.args.file, self.args.format)

    def run(self) -> int:
        import datetime

        from ..export.collect import Exporter, document
        from ..export.connection import connect, flag_values

        args = self.args
        conn, target = connect(flag_values(args), timeout=timeout_seconds(getattr(args, "request_timeout", None)))
        exporter = Exporter(conn, chunk_size=args.chunk_size, progress=Progress(self.streams.err))
        scope = exporter.resolve_scope(args.project, args.all_projects)
        resources = exporter.export(scope)
        doc = document(resources, exporter.warnings, cloud=target.cloud, auth_url=target.auth_url,
                       region=target.region, project=scope.project_name or scope.project_id,
                       all_projects=scope.all_projects, now=datetime.datetime.now(datetime.timezone.utc))
        for warning in exporter.warnings:
            self.streams.err.write(f"Warning: {warning}\n")
        self.write(doc, len(resources.get("servers") or []), len(exporter.warnings))
        return 0

    def write(self, doc: dict, servers: int, warnings: int) -> None:
        from ... import printers

        text = printers.dump_json(doc) + "\n" if self.fmt == "json" else printers.dump_yaml(doc)
        if self.args.file == "-":
            self.streams.out.write(text)
            self.streams.out.flush()
        else:
            write_private(self.args.file, text)
            self.streams.err.write(f"wrote {self.args.file}: {servers} servers, {warnings} warnings\n")


def run(args):
    return run_verb(ExportOptions, args)

"""`kubectl vmmove version`: the client's version and, unless --client, the cluster's Kubernetes, KubeVirt and CDI."""

import platform
import sys
from dataclasses import dataclass
from typing import Any

from . import __version__
from .printers import OutputOptions, print_document
from .verbs import Streams, VerbOptions, run_verb

DESCRIPTION = ("Print the client version and, with a reachable cluster, the Kubernetes server version and the KubeVirt "
               "and CDI versions installed on it.")

EXAMPLES = """Examples:
  kubectl vmmove version
  kubectl vmmove version --client -o json"""


def add_arguments(parser):
    from .flags import add_output_flag

    parser.add_argument("--client", action="store_true", help="Print the client version only; no cluster contact")
    add_output_flag(parser, formats=("table", "yaml", "json"))


# Architecture names as kubectl and krew spell them (Go's GOARCH), not as uname does.
_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
           "i386": "386", "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x"}


def client_version() -> dict:
    machine = platform.machine().lower()
    return {
        "version": __version__,
        "python": platform.python_version(),
        "platform": f"{'windows' if sys.platform == 'win32' else sys.platform}/{_GOARCH.get(machine, machine)}",
    }


@dataclass
class VersionOptions(VerbOptions):
    args: Any
    client_only: bool
    output: OutputOptions
    streams: Streams

    @classmethod
    def complete(cls, args, streams):
        return cls(args=args, client_only=bool(args.client), output=OutputOptions(args.output), streams=streams)

    def run(self):
        doc = {"clientVersion": client_version()}
        if not self.client_only:
            from .kube.session import Session

            doc.update(Session.from_args(self.args).cluster_versions())
        if self.output.format in ("yaml", "json"):
            print_document(doc, self.output, stream=self.streams.out)
            return 0
        out = self.streams.out
        out.write(f"Client Version: v{doc['clientVersion']['version']}\n")
        if "serverVersion" in doc:
            out.write(f"Server Version: {doc['serverVersion'].get('gitVersion', 'unknown')}\n")
            out.write(f"KubeVirt Version: {doc['kubevirtVersion']}\n")
            out.write(f"CDI Version: {doc['cdiVersion']}\n")
        return 0


def run(args):
    return run_verb(VersionOptions, args)

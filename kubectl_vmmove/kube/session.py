"""What a verb needs from the command line to talk to a cluster: resolved context and namespace, and the Api."""

import os
from dataclasses import dataclass
from typing import Optional

from . import errors, kinds
from .config import Overrides, Resolved, resolve


@dataclass
class Session:
    resolved: Resolved
    _api: Optional[object] = None

    @classmethod
    def from_args(cls, args, env=None) -> "Session":
        return cls(resolve(Overrides.from_args(args), env if env is not None else os.environ))

    @property
    def namespace(self) -> str:
        return self.resolved.namespace

    @property
    def namespace_explicit(self) -> bool:
        return self.resolved.namespace_explicit

    @property
    def api(self):
        if self._api is None:
            import sys

            from .client import Api

            self._api = Api(self.resolved)
            # An outage is waited for (client.RetryPolicy); every verb shows the wait on stderr.
            self._api.retry.notice = lambda text: (sys.stderr.write(text + "\n"), sys.stderr.flush())
        return self._api

    @property
    def user(self) -> str:
        """Who acts, for audit records: the impersonated user, else the kubeconfig user name."""
        return self.resolved.impersonate_user or self.resolved.user_name or "unknown"

    def cluster_versions(self) -> dict:
        """Kubernetes, KubeVirt and CDI versions, each "not installed" when its API group is not served."""
        api = self.api
        doc = {"serverVersion": api.server_version()}
        doc["kubevirtVersion"] = self._operator_version(kinds.KUBEVIRT, "observedKubeVirtVersion")
        doc["cdiVersion"] = self._operator_version(kinds.CDI, "observedVersion")
        return doc

    def _operator_version(self, kind, field: str) -> str:
        api = self.api
        if not api.serves(kind):
            return "not installed"
        try:
            items = api.list(kind).items
        except errors.Forbidden:
            return f"unknown (no permission to list {kind.resource})"
        for item in items:
            version = (item.get("status") or {}).get(field)
            if version:
                return version
        return "installed (version not reported)" if items else "not installed"

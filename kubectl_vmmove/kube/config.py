"""Kubeconfig loading and resolution the way kubectl (client-go clientcmd) does it.

The Python client differs from kubectl in ways that matter to a plugin (shared/reference/plugin-packaging.md 2.5,
2.6): with several files in KUBECONFIG it takes the LAST current-context where kubectl takes the first, it ignores
the `as`/`as-groups` impersonation fields and it has no namespace resolution. So the files are merged and the
context, cluster, user and namespace are chosen here, and the client only turns the chosen entries into credentials.
Everything in this module is pure apart from reading files and the environment it is given.
"""

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

from ..durations import parse_duration
from ..errors import UserError

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass
class Overrides:
    """What the command line overrides (kubectl's ConfigOverrides)."""

    kubeconfig: Optional[str] = None
    context: Optional[str] = None
    cluster: Optional[str] = None
    user: Optional[str] = None
    namespace: Optional[str] = None
    server: Optional[str] = None
    token: Optional[str] = None
    certificate_authority: Optional[str] = None
    client_certificate: Optional[str] = None
    client_key: Optional[str] = None
    insecure_skip_tls_verify: Optional[bool] = None
    tls_server_name: Optional[str] = None
    as_user: Optional[str] = None
    as_groups: List[str] = field(default_factory=list)
    as_uid: Optional[str] = None
    request_timeout: Optional[float] = None

    @classmethod
    def from_args(cls, args) -> "Overrides":
        get = lambda name: getattr(args, name, None)  # noqa: E731 - flags are SUPPRESSed when absent
        return cls(
            kubeconfig=get("kubeconfig"),
            context=get("context"),
            cluster=get("cluster"),
            user=get("user"),
            namespace=get("namespace"),
            server=get("server"),
            token=get("token"),
            certificate_authority=get("certificate_authority"),
            client_certificate=get("client_certificate"),
            client_key=get("client_key"),
            insecure_skip_tls_verify=get("insecure_skip_tls_verify"),
            tls_server_name=get("tls_server_name"),
            as_user=get("as_user"),
            as_groups=list(get("as_group") or []),
            as_uid=get("as_uid"),
            # 0 (no limit) stays 0 here: None means the flag was not given and the client's default applies.
            request_timeout=(parse_timeout(get("request_timeout")) or 0.0) if get("request_timeout") is not None
            else None,
        )


@dataclass
class Resolved:
    """The chosen context, cluster and user, plus everything needed to build a client."""

    config: dict  # a one-context kubeconfig dict with absolute paths, handed to the Python client's loader
    context_name: str
    cluster_name: str
    user_name: str
    namespace: str
    namespace_explicit: bool
    server: str
    in_cluster: bool = False
    impersonate_user: Optional[str] = None
    impersonate_groups: List[str] = field(default_factory=list)
    impersonate_uid: Optional[str] = None
    request_timeout: Optional[float] = None
    files: List[str] = field(default_factory=list)


def parse_timeout(value) -> Optional[float]:
    """kubectl's --request-timeout: a bare integer is seconds, else a Go duration (`1m30s`); 0 means no timeout."""
    return parse_duration(value, "--request-timeout")


# --------------------------------------------------------------------------------------------------- loading


def kubeconfig_files(explicit: Optional[str], env: Mapping[str, str]) -> List[str]:
    """Which files load, in precedence order: --kubeconfig alone, else KUBECONFIG (deduplicated), else ~/.kube/config."""
    if explicit:
        if not os.path.exists(explicit):
            raise UserError(f"stat {explicit}: no such file or directory (the file given with --kubeconfig)")
        return [explicit]
    if env.get("KUBECONFIG"):
        seen, files = set(), []
        for path in env["KUBECONFIG"].split(os.pathsep):
            if path and path not in seen:
                seen.add(path)
                files.append(path)
        return [f for f in files if os.path.exists(f)]
    home = env.get("HOME") or os.path.expanduser("~")
    default = os.path.join(home, ".kube", "config")
    return [default] if os.path.exists(default) else []


def _read(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except yaml.YAMLError as err:
        raise UserError(f"error loading config file \"{path}\": {err}") from err
    except OSError as err:
        raise UserError(f"error loading config file \"{path}\": {err.strerror}") from err
    if not isinstance(data, dict):
        raise UserError(f"error loading config file \"{path}\": not a kubeconfig (expected a mapping)")
    return data


def _absolute(base_dir: str, path: Optional[str]) -> Optional[str]:
    if not path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base_dir, path))


def _resolve_local_paths(entry_kind: str, entry: dict, base_dir: str) -> dict:
    """Relative file references are relative to the kubeconfig file that holds them (client-go ResolveLocalPaths)."""
    entry = dict(entry)
    if entry_kind == "cluster":
        entry["certificate-authority"] = _absolute(base_dir, entry.get("certificate-authority"))
    elif entry_kind == "user":
        for key in ("client-certificate", "client-key", "tokenFile"):
            entry[key] = _absolute(base_dir, entry.get(key))
        exec_cfg = entry.get("exec")
        if isinstance(exec_cfg, dict) and exec_cfg.get("command") and os.sep in exec_cfg["command"]:
            entry["exec"] = dict(exec_cfg, command=_absolute(base_dir, exec_cfg["command"]))
    return {k: v for k, v in entry.items() if v is not None}


def merge(files: List[str]) -> dict:
    """Merge kubeconfig files: the first file that sets a name or a scalar wins; entries never merge field by field."""
    merged: Dict[str, Any] = {"clusters": {}, "contexts": {}, "users": {}, "current-context": ""}
    for path in files:
        data = _read(path)
        base_dir = os.path.dirname(os.path.abspath(path))
        if not merged["current-context"] and data.get("current-context"):
            merged["current-context"] = data["current-context"]
        for section, entry_kind in (("clusters", "cluster"), ("contexts", "context"), ("users", "user")):
            for item in data.get(section) or []:
                if not isinstance(item, dict) or not item.get("name"):
                    continue
                if item["name"] in merged[section]:
                    continue
                merged[section][item["name"]] = _resolve_local_paths(entry_kind, item.get(entry_kind) or {}, base_dir)
    return merged


# --------------------------------------------------------------------------------------------------- resolution


def in_cluster_available(env: Mapping[str, str]) -> bool:
    return bool(env.get("KUBERNETES_SERVICE_HOST") and env.get("KUBERNETES_SERVICE_PORT")) and os.path.exists(
        os.path.join(SERVICE_ACCOUNT_DIR, "token")
    )


def _in_cluster_namespace(env: Mapping[str, str]) -> str:
    if env.get("POD_NAMESPACE"):
        return env["POD_NAMESPACE"]
    try:
        with open(os.path.join(SERVICE_ACCOUNT_DIR, "namespace"), encoding="utf-8") as fh:
            return fh.read().strip() or "default"
    except OSError:
        return "default"


def resolve(overrides: Overrides, env: Optional[Mapping[str, str]] = None) -> Resolved:
    """Choose context, cluster, user and namespace exactly as kubectl would for the same flags and environment."""
    env = os.environ if env is None else env
    files = kubeconfig_files(overrides.kubeconfig, env)
    merged = merge(files)
    has_config = bool(merged["contexts"] or merged["clusters"] or merged["users"])

    if not has_config and not overrides.server:
        if in_cluster_available(env):
            return _resolve_in_cluster(overrides, env)
        raise UserError(
            "no configuration has been provided: set KUBECONFIG, pass --kubeconfig, create ~/.kube/config, "
            "or run inside a pod with a service account"
        )

    context_name, context = _choose_context(overrides, merged)
    cluster_name, user_name = _choose_cluster_and_user(overrides, merged, context)
    cluster = _override_cluster(dict(merged["clusters"].get(cluster_name) or {}), overrides)
    user = _override_user(dict(merged["users"].get(user_name) or {}), overrides)
    if not cluster.get("server"):
        where = f'cluster "{cluster_name}"' if cluster_name else "the current context"
        raise UserError(f"no server found for {where}: the kubeconfig names no API server; "
                        "check the context with \"kubectl config view --minify\" or pass --server")

    namespace = overrides.namespace or context.get("namespace") or "default"
    return Resolved(
        config=_single_config(context_name, cluster_name, cluster, user_name, user, namespace),
        context_name=context_name,
        cluster_name=cluster_name,
        user_name=user_name,
        namespace=namespace,
        namespace_explicit=bool(overrides.namespace),
        server=cluster["server"],
        impersonate_user=overrides.as_user or user.get("as"),
        impersonate_groups=list(overrides.as_groups or user.get("as-groups") or []),
        impersonate_uid=overrides.as_uid or user.get("as-uid"),
        request_timeout=overrides.request_timeout,
        files=files,
    )


def _choose_context(overrides: Overrides, merged: dict) -> Tuple[str, dict]:
    """The context named by --context, else the current-context; an unknown name is an error as in kubectl."""
    context_name = overrides.context or merged["current-context"]
    if overrides.context and overrides.context not in merged["contexts"]:
        raise UserError(f'context was not found for specified context: {overrides.context} '
                        f'(see "kubectl config get-contexts")')
    if context_name and context_name not in merged["contexts"] and not (overrides.cluster or overrides.server):
        raise UserError(f'current-context "{context_name}" is not defined in the kubeconfig; '
                        'choose one with --context or "kubectl config use-context"')
    return context_name, dict(merged["contexts"].get(context_name) or {})


def _choose_cluster_and_user(overrides: Overrides, merged: dict, context: dict) -> Tuple[str, str]:
    """--cluster/--user override the context's names; either must exist in the merged kubeconfig."""
    cluster_name = overrides.cluster or context.get("cluster") or ""
    user_name = overrides.user or context.get("user") or ""
    if overrides.cluster and overrides.cluster not in merged["clusters"]:
        raise UserError(f'cluster "{overrides.cluster}" not found in the kubeconfig (see "kubectl config get-clusters")')
    if overrides.user and overrides.user not in merged["users"]:
        raise UserError(f'user "{overrides.user}" not found in the kubeconfig (see "kubectl config get-users")')
    return cluster_name, user_name


def _override_cluster(cluster: dict, overrides: Overrides) -> dict:
    """Command-line connection flags replace what the kubeconfig says, as with kubectl."""
    if overrides.server:
        cluster["server"] = overrides.server
    if overrides.certificate_authority:
        cluster["certificate-authority"] = os.path.abspath(overrides.certificate_authority)
        cluster.pop("certificate-authority-data", None)
    if overrides.insecure_skip_tls_verify:
        cluster["insecure-skip-tls-verify"] = True
        cluster.pop("certificate-authority", None)
        cluster.pop("certificate-authority-data", None)
    if overrides.tls_server_name:
        cluster["tls-server-name"] = overrides.tls_server_name
    return cluster


def _override_user(user: dict, overrides: Overrides) -> dict:
    """--token replaces every other credential but a client certificate and impersonation; files become absolute."""
    if overrides.token:
        user = {k: v for k, v in user.items() if k in ("client-certificate", "client-certificate-data",
                                                       "client-key", "client-key-data", "as", "as-groups", "as-uid")}
        user["token"] = overrides.token
    if overrides.client_certificate:
        user["client-certificate"] = os.path.abspath(overrides.client_certificate)
        user.pop("client-certificate-data", None)
    if overrides.client_key:
        user["client-key"] = os.path.abspath(overrides.client_key)
        user.pop("client-key-data", None)
    return user


def _single_config(context_name: str, cluster_name: str, cluster: dict, user_name: str, user: dict,
                   namespace: str) -> dict:
    """A one-context kubeconfig of the chosen cluster, user and namespace, for the Python client's credentials."""
    effective_context = context_name or "vmmove-override"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": effective_context,
        "clusters": [{"name": cluster_name or "vmmove-cluster", "cluster": cluster}],
        "users": [{"name": user_name or "vmmove-user", "user": user}],
        "contexts": [{"name": effective_context,
                      "context": {"cluster": cluster_name or "vmmove-cluster", "user": user_name or "vmmove-user",
                                  "namespace": namespace}}],
    }


def _resolve_in_cluster(overrides: Overrides, env: Mapping[str, str]) -> Resolved:
    host, port = env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    server = f"https://{host}:{port}"
    namespace = overrides.namespace or _in_cluster_namespace(env)
    return Resolved(
        config={},
        context_name="",
        cluster_name="in-cluster",
        user_name="serviceaccount",
        namespace=namespace,
        namespace_explicit=bool(overrides.namespace),
        server=server,
        in_cluster=True,
        impersonate_user=overrides.as_user,
        impersonate_groups=list(overrides.as_groups),
        impersonate_uid=overrides.as_uid,
        request_timeout=overrides.request_timeout,
    )


def current_context_summary(resolved: Resolved) -> Dict[str, str]:
    return {"context": resolved.context_name, "cluster": resolved.cluster_name, "user": resolved.user_name,
            "namespace": resolved.namespace, "server": resolved.server}

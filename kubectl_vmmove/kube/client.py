"""The one API layer: plain-dict get/list/create/replace/patch/delete/watch for any declared Kind.

The `kubernetes` package is used for what it does well (kubeconfig credentials: tokens, client certificates, exec
plugins, OIDC; TLS set-up) and nothing else. Requests go through its urllib3 pool directly so that objects stay
plain dicts (its generated models drop unknown fields), so that impersonation can send several groups, and so that
retries and error typing follow kubectl rather than the generated client.
"""

import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlencode

from .. import __version__
from . import bodies, errors, kinds
from .config import Resolved
from .kinds import Kind

log = logging.getLogger("kubectl_vmmove.kube")

JSON = "application/json"
# Seconds a request may take when no --request-timeout is given (kubectl's default, 0, would wait forever).
DEFAULT_REQUEST_TIMEOUT = 90.0
PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}
METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH"})


OUTAGE_BUDGET_SECONDS = 180.0
OUTAGE_NOTICE_AFTER = 2.0       # a blip shorter than this is retried without a word
OUTAGE_NOTICE_EVERY = 15.0      # then the wait is shown at most this often


@dataclass
class RetryPolicy:
    """How transient failures are retried: exponential backoff with jitter; a server's Retry-After wins.

    Before the server has answered once, `attempts` tries (a wrong address fails fast, as kubectl does). Once it
    has answered, an outage (resets, refused connections, 5xx) is retried for `outage_budget` seconds, showing the
    wait through `notice` now and then; a caller that passes its own attempts count to `Api.request` gets exactly
    that many tries instead. `clock` measures the outage; the time slept counts too, so an injected `sleep` is
    simulated time.
    """

    attempts: int = 6
    base_delay: float = 0.1
    max_delay: float = 5.0
    max_retry_after: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=lambda: random.Random())
    outage_budget: Optional[float] = OUTAGE_BUDGET_SECONDS
    clock: Callable[[], float] = time.monotonic
    notice: Optional[Callable[[str], None]] = None

    def delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        backoff = min(self.base_delay * (2 ** attempt), self.max_delay)
        return backoff * (0.5 + self.rng.random() / 2)


def span(seconds: float) -> str:
    """A wait as Go prints a duration, to the second: 45s, 3m0s."""
    whole = max(0, int(seconds + 0.5))
    return f"{whole // 60}m{whole % 60}s" if whole >= 60 else f"{whole}s"


class _Outage:
    """One request's run of transient failures: how long it has lasted, whether it is over budget, what to show."""

    def __init__(self, policy: RetryPolicy, budget: Optional[float], attempts: int):
        self.policy, self.budget, self.attempts = policy, budget, attempts
        self.started = policy.clock()
        self.slept = 0.0
        self.tries = 0
        self.shown_at: Optional[float] = None

    def lasted(self) -> float:
        return max(self.policy.clock() - self.started, self.slept)

    def spent(self) -> bool:
        if self.budget is None:
            return self.tries >= self.attempts
        return self.lasted() >= self.budget

    def wait(self, delay: float, server: str, error: errors.ApiError) -> None:
        lasted = self.lasted()
        if self.budget is not None:
            delay = max(0.0, min(delay, self.budget - lasted))
            if self.policy.notice is not None and lasted + delay >= OUTAGE_NOTICE_AFTER and \
                    (self.shown_at is None or lasted - self.shown_at >= OUTAGE_NOTICE_EVERY):
                self.shown_at = lasted
                self.policy.notice(f"The API server {server} is not answering ({error.message}); retrying in "
                                   f"{span(delay)}, gives up in {span(self.budget - lasted)}")
        self.policy.sleep(delay)
        self.slept += delay


@dataclass
class ObjectList:
    items: List[dict]
    resource_version: str = ""


class _Transient(Exception):
    """A failure worth retrying, holding the error to raise if the retries run out."""

    def __init__(self, error: errors.ApiError, retry_after: Optional[float] = None):
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def _retry_after(headers) -> Optional[float]:
    value = headers.get("Retry-After") if headers else None
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _gave_up(error: errors.ApiError, outage: "_Outage", server: str) -> errors.ApiError:
    """The last error, saying that it was not a one-off and what to look at: the retries are spent."""
    if outage.budget is not None:
        how_long = f"has not answered for {span(outage.lasted())}" if outage.budget else "is still not answering"
        message = (f"{error.message} (the API server {server} {how_long}; check its health, e.g. "
                   "'kubectl get --raw /readyz')")
        return errors.ServerGone(message, status=error.status, reason=error.reason, details=error.details,
                                 retry_after=error.retry_after)
    message = (f"{error.message} (the API server {server} failed {outage.tries} times in a row; check its health, "
               "e.g. 'kubectl get --raw /readyz', then run the command again)")
    return type(error)(message, status=error.status, reason=error.reason, details=error.details,
                       retry_after=error.retry_after)


def _untrusted_certificate(err: Exception) -> bool:
    """A verification failure (retrying cannot help), as opposed to a connection reset during the handshake."""
    text = str(err).lower()
    return "certificate verify failed" in text or "certificate_verify_failed" in text or \
        "doesn't match" in text or "hostname mismatch" in text


def _resource_of(url: str) -> str:
    """`plural.group` (or `plural` for the core group) of an API URL, as kubectl names a resource in errors."""
    from urllib.parse import urlparse

    parts = [p for p in urlparse(url).path.split("/") if p]
    if parts[:1] == ["api"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, rest = parts[1], parts[3:]
    else:
        return urlparse(url).path
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        rest = rest[2:]
    plural = rest[0] if rest else ""
    return f"{plural}.{group}" if group and plural else plural or group


def _timeout(seconds: Optional[float], stream: bool):
    import urllib3

    if not seconds:
        return None
    # A stream's limit is on each read (the silence between chunks), not on its whole length.
    return urllib3.Timeout(connect=seconds, read=seconds) if stream else urllib3.Timeout(total=seconds)


def build_configuration(resolved: Resolved):
    """A `kubernetes.client.Configuration` holding credentials and TLS for the resolved context."""
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config

    cfg = k8s_client.Configuration()
    if resolved.in_cluster:
        k8s_config.load_incluster_config(client_configuration=cfg)
        return cfg
    try:
        # persist_config=False: never rewrite the user's kubeconfig (the Python loader would re-dump it whole).
        k8s_config.load_kube_config_from_dict(
            resolved.config, context=resolved.config["current-context"], client_configuration=cfg,
            persist_config=False,
        )
    except k8s_config.ConfigException as err:
        raise errors.ApiError(f"invalid kubeconfig for context \"{resolved.context_name}\": {err}") from err
    user = resolved.config["users"][0]["user"]
    has_credentials = cfg.api_key or cfg.cert_file or user.get("username")
    if user.get("exec") and not has_credentials:
        command = user["exec"].get("command", "?")
        raise errors.Unauthorized(
            f'the exec credential plugin "{command}" of user "{resolved.user_name}" gave no credentials; '
            f"run it by hand to see why (it may need a login), then retry"
        )
    return cfg


class Api:
    """Cluster access for one command run. Thread-safe for concurrent calls (urllib3's pool is)."""

    def __init__(self, resolved: Resolved, retry: Optional[RetryPolicy] = None, configuration=None):
        from kubernetes.client.rest import RESTClientObject

        self.resolved = resolved
        self.retry = retry or RetryPolicy()
        self._cfg = configuration or build_configuration(resolved)
        # The generated client's REST object builds the urllib3 pool with the kubeconfig's TLS material.
        self._pool = RESTClientObject(self._cfg).pool_manager
        if not self._cfg.verify_ssl:
            # The user asked for --insecure-skip-tls-verify; kubectl does not nag on every request, nor do we.
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._base = self._cfg.host.rstrip("/")
        # kubectl's --request-timeout; without it a request that gets no answer still ends (0 means no limit).
        self._timeout = DEFAULT_REQUEST_TIMEOUT if resolved.request_timeout is None else resolved.request_timeout
        # Set by a verb that must be able to stop (a lost lease): waits (kube.wait) end with WaitStopped.
        self.stop_waiting: Optional[threading.Event] = None
        self._served: Optional[Dict[str, set]] = None
        self._resources: Dict[str, set] = {}     # "group/version" -> resource names its discovery lists
        self.request_count = 0
        self._answered = False      # the server answered once: failures from now on are an outage (RetryPolicy)
        self._gone = False          # an outage ran out of budget: one try per call until the server is back

    # ------------------------------------------------------------------------------------------ transport

    def _headers(self, accept: str, content_type: Optional[str]):
        from urllib3 import HTTPHeaderDict

        h = HTTPHeaderDict()
        h["Accept"] = accept
        h["User-Agent"] = f"kubectl-vmmove/{__version__}"
        if content_type:
            h["Content-Type"] = content_type
        # Runs the exec/OIDC refresh hook when due. Newer clients key the token "BearerToken", older "authorization".
        token = self._cfg.get_api_key_with_prefix("BearerToken", alias="authorization")
        if token:
            h["Authorization"] = token
        elif self._cfg.username:
            h["Authorization"] = self._cfg.get_basic_auth_token()
        if self.resolved.impersonate_user:
            h["Impersonate-User"] = self.resolved.impersonate_user
        for group in self.resolved.impersonate_groups:
            h.add("Impersonate-Group", group)  # one header line per group, as client-go sends them
        if self.resolved.impersonate_uid:
            h["Impersonate-Uid"] = self.resolved.impersonate_uid
        return h

    def _url(self, path: str, query: Optional[dict]) -> str:
        if query:
            clean = {k: v for k, v in query.items() if v is not None and v != ""}
            if clean:
                return f"{self._base}{path}?{urlencode(clean)}"
        return self._base + path

    def _send_once(self, method, url, body, accept, content_type, stream, timeout):
        import urllib3

        data = None if body is None else json.dumps(body).encode("utf-8")
        if body is not None:
            bodies.show("Request Body", url, body)
        started = time.monotonic()
        self.request_count += 1
        try:
            response = self._pool.request(
                method, url, body=data, headers=self._headers(accept, content_type), retries=False,
                preload_content=not stream, timeout=_timeout(timeout, stream),
            )
        except urllib3.exceptions.NewConnectionError as err:
            raise _Transient(errors.Unavailable(
                f"The connection to the server {self._base} was refused - did you specify the right host or port? "
                f"({err.__class__.__name__})")) from err
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.TimeoutError,
                urllib3.exceptions.SSLError, urllib3.exceptions.MaxRetryError, ConnectionError) as err:
            if _untrusted_certificate(err):
                raise errors.Unavailable(
                    f"unable to connect to the server {self._base}: the server's TLS certificate is not trusted "
                    f"({err}); check certificate-authority in the kubeconfig") from err
            # Anything else, a TLS handshake cut short by a reset included, is a transport hiccup worth a retry.
            transient = _Transient(errors.Unavailable(f"unable to reach the server {self._base}: {err}"))
            transient.sent = True
            raise transient from err
        log.debug("%s %s %s in %d milliseconds", method, url, response.status,
                  (time.monotonic() - started) * 1000)
        if response.status < 400:
            if not stream:
                bodies.show("Response Body", url, raw=response.data)
            return response
        raw = response.data if not stream else response.read()
        bodies.show("Response Body", url, raw=raw)
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            payload = {}
        retry_after = _retry_after(response.headers)
        error = errors.from_status(response.status, payload, retry_after=retry_after)
        if isinstance(error, errors.Unauthorized):
            raise self._refused(error)
        if response.status == 404 and not (error.details or {}).get("name"):
            # Not an object but the resource itself is missing: say which, as kubectl does.
            error = errors.from_status(404, {**(payload if isinstance(payload, dict) else {}), "kind": "Status",
                                             "message": f"{error.message} ({method.lower()} {_resource_of(url)})"})
        if response.status == 429 or response.status >= 500:
            transient = _Transient(error, retry_after)
            transient.sent = response.status != 429 and retry_after is None
            raise transient
        raise error

    def _refused(self, error: errors.Unauthorized) -> errors.Unauthorized:
        """401: kubectl's words, then whose credentials were refused and what to do (a bare "Unauthorized" says
        neither)."""
        said = error.message.strip()
        server_said = "" if said in ("Unauthorized", "") or "(Unauthorized)" in said else f" ({said})"
        who = "in-cluster service account" if self.resolved.in_cluster else \
            f'user "{self.resolved.user_name}" of context "{self.resolved.context_name}"'
        message = (f"You must be logged in to the server (Unauthorized): {self._base} refused the credentials of "
                   f"{who}{server_said}; log in again or renew the token (--token, or the user's token, client "
                   "certificate or exec plugin in the kubeconfig), then retry")
        return errors.Unauthorized(message, status=error.status, reason=error.reason, details=error.details)

    def request(self, method: str, path: str, query: Optional[dict] = None, body=None, accept: str = JSON,
                content_type: Optional[str] = None, stream: bool = False, retry_unsafe: bool = False,
                timeout: Optional[float] = None, attempts: Optional[int] = None):
        """One API call with retries. Returns the decoded JSON body, or the raw response when `stream`.

        Transient failures (429, 5xx, resets) are retried for idempotent methods, for the outage budget once the
        server has answered (RetryPolicy), else `attempts` times. A POST is retried only when the server cannot
        have acted (429, or a 5xx with Retry-After, or a refused connection) unless the caller says a duplicate is
        harmless (`retry_unsafe`: it handles AlreadyExists). After an outage ran out of budget (ServerGone), each
        call tries once until the server answers again.
        """
        url = self._url(path, query)
        if body is not None and content_type is None:
            content_type = JSON
        timeout = self._timeout if timeout is None else (timeout or None)  # 0: no client-side timeout
        outage = self._outage(attempts)
        while True:
            try:
                response = self._send_once(method, url, body, accept, content_type, stream, timeout)
                self._answered, self._gone = True, False
                if stream:
                    return response
                return json.loads(response.data or b"null")
            except _Transient as transient:
                unsafe = getattr(transient, "sent", False) and method not in IDEMPOTENT_METHODS
                if unsafe and not retry_unsafe:
                    raise transient.error from transient.__cause__
                outage.tries += 1
                # Another call (another thread) already gave the server up: this one does not wait a budget more.
                if outage.spent() or (self._gone and outage.budget is not None):
                    self._gone = outage.budget is not None
                    raise _gave_up(transient.error, outage, self._base) from transient.__cause__
                delay = self.retry.delay(outage.tries - 1, transient.retry_after)
                log.info("retrying %s %s in %.2fs after: %s", method, path, delay, transient.error)
                outage.wait(delay, self._base, transient.error)
            except errors.Unavailable:
                raise               # not an answer: an untrusted certificate
            except errors.ApiError:
                self._answered, self._gone = True, False
                raise

    def _outage(self, attempts: Optional[int]) -> _Outage:
        """How long this call may keep retrying: see `request`."""
        if attempts is not None:
            return _Outage(self.retry, None, attempts)
        if self._gone:
            return _Outage(self.retry, 0.0, 1)
        if self._answered and self.retry.outage_budget is not None:
            return _Outage(self.retry, self.retry.outage_budget, self.retry.attempts)
        return _Outage(self.retry, None, self.retry.attempts)

    # ------------------------------------------------------------------------------------------ verbs

    @staticmethod
    def _typed(kind: Kind, obj: dict) -> dict:
        # The API server leaves apiVersion/kind off list items of built-in types; callers always get them.
        obj.setdefault("apiVersion", kind.api_version)
        obj.setdefault("kind", kind.kind)
        return obj

    def get(self, kind: Kind, name: str, namespace: Optional[str] = None) -> dict:
        return self._typed(kind, self.request("GET", kind.path(namespace, name)))

    def get_or_none(self, kind: Kind, name: str, namespace: Optional[str] = None) -> Optional[dict]:
        try:
            return self.get(kind, name, namespace)
        except errors.NotFound:
            return None

    def list(self, kind: Kind, namespace: Optional[str] = None, label_selector: Optional[str] = None,
             field_selector: Optional[str] = None, metadata_only: bool = False, limit: int = 500) -> ObjectList:
        """All matching objects, paging with limit/continue; a continue token that expired restarts the list."""
        accept = METADATA_LIST_ACCEPT if metadata_only else JSON
        items: List[dict] = []
        token = None
        while True:
            query = {"labelSelector": label_selector, "fieldSelector": field_selector, "limit": limit,
                     "continue": token}
            try:
                page = self.request("GET", kind.path(namespace), query=query, accept=accept)
            except errors.Gone:
                if token is None:
                    raise
                items, token = [], None  # the snapshot expired under us: start again for a consistent list
                continue
            for item in page.get("items") or []:
                if metadata_only:
                    # PartialObjectMetadata items: report them as the kind they are, with metadata only.
                    item["apiVersion"], item["kind"] = kind.api_version, kind.kind
                items.append(self._typed(kind, item))
            meta = page.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return ObjectList(items, meta.get("resourceVersion", ""))

    def create(self, kind: Kind, obj: dict, namespace: Optional[str] = None, dry_run: bool = False,
               retry_unsafe: bool = False) -> dict:
        namespace = namespace or obj.get("metadata", {}).get("namespace")
        query = {"dryRun": "All"} if dry_run else None
        return self._typed(kind, self.request("POST", kind.path(namespace), query=query, body=obj,
                                              retry_unsafe=retry_unsafe))

    def replace(self, kind: Kind, obj: dict, subresource: Optional[str] = None, dry_run: bool = False) -> dict:
        meta = obj.get("metadata", {})
        query = {"dryRun": "All"} if dry_run else None
        return self._typed(kind, self.request("PUT", kind.path(meta.get("namespace"), meta["name"], subresource),
                                              query=query, body=obj))

    def patch(self, kind: Kind, name: str, patch, namespace: Optional[str] = None, patch_type: str = "merge",
              subresource: Optional[str] = None, dry_run: bool = False, attempts: Optional[int] = None) -> dict:
        """`attempts`: exactly that many tries, no outage budget (a lease renewal must not outlive its lease)."""
        query = {"dryRun": "All"} if dry_run else None
        return self._typed(kind, self.request("PATCH", kind.path(namespace, name, subresource), query=query,
                                              body=patch, content_type=PATCH_TYPES[patch_type], attempts=attempts))

    def delete(self, kind: Kind, name: str, namespace: Optional[str] = None, propagation: Optional[str] = None,
               preconditions: Optional[dict] = None, dry_run: bool = False) -> Optional[dict]:
        body: Dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation:
            body["propagationPolicy"] = propagation
        if preconditions:
            body["preconditions"] = preconditions
        if dry_run:
            body["dryRun"] = ["All"]
        query = {"dryRun": "All"} if dry_run else None
        result = self.request("DELETE", kind.path(namespace, name), query=query, body=body)
        return result if isinstance(result, dict) and result.get("kind") != "Status" else None

    def put_subresource(self, kind: Kind, name: str, namespace: Optional[str], subresource: str,
                        body: Optional[dict] = None, group: str = kinds.SUBRESOURCES_GROUP):
        """VM lifecycle verbs: PUT /apis/subresources.kubevirt.io/v1/namespaces/{ns}/virtualmachines/{name}/stop."""
        path = kind.path(namespace, name, subresource, group_override=group)
        return self.request("PUT", path, body=body or {})

    def watch(self, kind: Kind, namespace: Optional[str] = None, resource_version: Optional[str] = None,
              label_selector: Optional[str] = None, field_selector: Optional[str] = None,
              timeout_seconds: Optional[int] = None, bookmarks: bool = True) -> Iterator[Tuple[str, dict]]:
        """Stream (event_type, object). Ends when the server closes the stream; raises Gone on 410."""
        query = {"watch": "true", "resourceVersion": resource_version, "labelSelector": label_selector,
                 "fieldSelector": field_selector, "timeoutSeconds": timeout_seconds,
                 "allowWatchBookmarks": "true" if bookmarks else None}
        # The read timeout bounds the silence between two chunks: a stream that stalls (a half-open connection, a
        # buffering proxy) ends like a dropped one and the caller resumes; the server ends it at timeout_seconds.
        gap = self._timeout or None
        if gap is not None and timeout_seconds and not self.resolved.request_timeout:
            gap = max(gap, timeout_seconds + 30.0)
        response = self.request("GET", kind.path(namespace), query=query, stream=True, timeout=gap or 0)
        try:
            buffer = b""
            for chunk in response.stream(65536, decode_content=True):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield self._watch_event(kind, line)
            if buffer.strip():
                yield self._watch_event(kind, buffer)
        except Exception as err:  # a dropped stream ends the watch; the caller resumes from its last version
            import urllib3

            if isinstance(err, (urllib3.exceptions.HTTPError, ConnectionError)):
                log.info("watch on %s ended: %s", kind.resource, err)
                return
            raise
        finally:
            response.release_conn()

    def _watch_event(self, kind: Kind, line: bytes) -> Tuple[str, dict]:
        event = json.loads(line)
        etype, obj = event.get("type"), event.get("object") or {}
        if etype == "ERROR":
            raise errors.from_status(int(obj.get("code") or 500), obj)
        if etype != "BOOKMARK":
            self._typed(kind, obj)
        return etype, obj

    # ------------------------------------------------------------------------------------------ cluster facts

    def can_i(self, verb: str, kind_or_resource, namespace: Optional[str] = None, subresource: Optional[str] = None,
              name: Optional[str] = None, group: Optional[str] = None) -> bool:
        """A SelfSubjectAccessReview, as `kubectl auth can-i`."""
        if isinstance(kind_or_resource, Kind):
            resource, res_group = kind_or_resource.plural, kind_or_resource.group
        else:
            resource, res_group = kind_or_resource, ""
        attrs = {"verb": verb, "resource": resource, "group": res_group if group is None else group}
        if namespace:
            attrs["namespace"] = namespace
        if subresource:
            attrs["subresource"] = subresource
        if name:
            attrs["name"] = name
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "spec": {"resourceAttributes": attrs}}
        result = self.request("POST", kinds.SELFSUBJECTACCESSREVIEW.path(), body=review, retry_unsafe=True)
        return bool((result.get("status") or {}).get("allowed"))

    def served_versions(self) -> Dict[str, set]:
        """{group: {versions}} the server serves; asked once per run."""
        if self._served is None:
            served: Dict[str, set] = {}
            core = self.request("GET", "/api")
            served[""] = set(core.get("versions") or [])
            for group in self.request("GET", "/apis").get("groups") or []:
                served[group["name"]] = {v["version"] for v in group.get("versions") or []}
            self._served = served
        return self._served

    def served_groups(self) -> set:
        return set(self.served_versions())

    def serves(self, kind: Kind) -> bool:
        """Whether the kind's group version is served (one discovery for the whole run)."""
        return kind.version in self.served_versions().get(kind.group, set())

    def serves_resource(self, kind: Kind) -> bool:
        """Whether the resource itself is served: its group version may be served without it (an operator whose
        CRD for that kind is absent, as CDI without `objecttransfers`). One request per group version, cached."""
        if not self.serves(kind):
            return False
        key = f"{kind.group}/{kind.version}"
        if key not in self._resources:
            path = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
            try:
                found = self.request("GET", path).get("resources") or []
            except errors.NotFound:
                found = []
            self._resources[key] = {r.get("name") for r in found}
        return kind.plural in self._resources[key]

    def server_version(self) -> dict:
        return self.request("GET", "/version")

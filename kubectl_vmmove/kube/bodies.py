"""Request and response bodies as `-v 8` shows them: Secret data redacted, long bodies cut as kubectl cuts them.

kubectl (client-go's request logging) prints "Request Body" and "Response Body" from -v=8, a body cut at 1024
characters with " [truncated N chars]" at -v=8, at 10240 at -v=9, and whole from -v=10. It shows Secret data as
is; this plugin never does: the values of `data` and `stringData`, and the `last-applied-configuration` annotation
that holds a copy of them, are replaced on every Secret, in lists and in JSON patches of a Secret too.
"""

import json
import logging
from typing import Any, Optional

log = logging.getLogger("kubectl_vmmove.kube.bodies")

REDACTED = "<redacted>"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Logger levels cli.py sets for -v 8, 9 and 10+ (all below DEBUG+1, so DEBUG records pass), and the cut of each.
LEVEL_V8, LEVEL_V9, LEVEL_V10 = logging.DEBUG, logging.DEBUG - 1, logging.DEBUG - 2
_LIMITS = {LEVEL_V8: 1024, LEVEL_V9: 10240}


def enabled() -> bool:
    return log.isEnabledFor(logging.DEBUG)


def _secret(obj: dict) -> dict:
    out = dict(obj)
    for key in ("data", "stringData"):
        if isinstance(out.get(key), dict):
            out[key] = {k: REDACTED for k in out[key]}
    meta = out.get("metadata")
    if isinstance(meta, dict) and LAST_APPLIED in (meta.get("annotations") or {}):
        out["metadata"] = dict(meta, annotations=dict(meta["annotations"], **{LAST_APPLIED: REDACTED}))
    return out


def redact(body: Any, secret_path: bool = False) -> Any:
    """`body` with Secret data replaced; `secret_path`: the request was about secrets (a patch body, a list)."""
    if isinstance(body, list):
        if secret_path:   # a JSON patch of a Secret: every value may be data
            return [dict(op, value=REDACTED) if isinstance(op, dict) and "value" in op else redact(op, True)
                    for op in body]
        return [redact(item) for item in body]
    if not isinstance(body, dict):
        return body
    if body.get("kind") == "Secret" or (secret_path and ("data" in body or "stringData" in body)):
        body = _secret(body)
    out = {}
    for key, value in body.items():
        out[key] = redact(value, secret_path) if key == "items" or isinstance(value, (dict, list)) else value
    return out


def _cut(text: str) -> str:
    limit = _LIMITS.get(log.getEffectiveLevel())
    if limit is None or len(text) <= limit:
        return text
    return text[:limit] + f" [truncated {len(text) - limit} chars]"


def show(prefix: str, path: str, body: Any = None, raw: Optional[bytes] = None) -> None:
    """Log `prefix: body` (a decoded body, or raw bytes that are JSON when they can be read so)."""
    if not enabled():
        return
    if raw is not None:
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            log.debug("%s: <%d bytes, not JSON>", prefix, len(raw))
            return
    text = json.dumps(redact(body, "/secrets" in path), separators=(",", ":"))
    log.debug("%s: %s", prefix, _cut(text))

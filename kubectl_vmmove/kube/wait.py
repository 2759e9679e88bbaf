"""Waiting for an object to reach a state: list once, then watch from that resourceVersion.

No sleep-polling: the server pushes each change. A watch that ends (server timeout, dropped connection) resumes from
the last version seen; a version the server no longer keeps (410 Gone) costs one relist.
"""

import time
from typing import Callable, Optional

from . import errors
from .kinds import Kind

# A watch request asks the server to end the stream after this long, so a silently dead connection is noticed.
WATCH_WINDOW_SECONDS = 60


class WaitTimeout(errors.Timeout):
    pass


def wait_for(api, kind: Kind, name: str, namespace: Optional[str], predicate: Callable[[Optional[dict]], bool],
             timeout: Optional[float], what: str = "", on_change: Optional[Callable[[Optional[dict]], None]] = None,
             clock: Callable[[], float] = time.monotonic) -> Optional[dict]:
    """Return the object (None if it is gone) as soon as `predicate` holds for it.

    `predicate` and `on_change` get the current object, or None while it does not exist. Raises WaitTimeout with
    `what` and the last state seen when `timeout` seconds pass first.
    """
    deadline = None if not timeout else clock() + timeout
    selector = f"metadata.name={name}"
    current: Optional[dict] = None
    version = None
    while True:
        if version is None:
            listed = api.list(kind, namespace, field_selector=selector)
            current = listed.items[0] if listed.items else None
            version = listed.resource_version
            if on_change:
                on_change(current)
            if predicate(current):
                return current
        remaining = None if deadline is None else deadline - clock()
        if remaining is not None and remaining <= 0:
            raise WaitTimeout(_timeout_message(kind, name, namespace, what, timeout, current))
        window = WATCH_WINDOW_SECONDS if remaining is None else max(1, min(WATCH_WINDOW_SECONDS, int(remaining + 1)))
        try:
            for etype, obj in api.watch(kind, namespace, resource_version=version, field_selector=selector,
                                        timeout_seconds=window):
                if etype == "BOOKMARK":
                    version = obj.get("metadata", {}).get("resourceVersion") or version
                    continue
                version = obj.get("metadata", {}).get("resourceVersion") or version
                current = None if etype == "DELETED" else obj
                if on_change:
                    on_change(current)
                if predicate(current):
                    return current
                if deadline is not None and clock() >= deadline:
                    break
        except errors.Gone:
            version = None  # relist: the server compacted past our version


def _timeout_message(kind, name, namespace, what, timeout, current):
    where = f" in namespace {namespace}" if namespace else ""
    state = "it does not exist" if current is None else _describe(current)
    goal = f" to {what}" if what else ""
    return (f"timed out after {timeout:g}s waiting for {kind.kind.lower()} {name}{where}{goal}; last seen: {state}. "
            "Re-run the same command to continue waiting, or raise --timeout")


def _describe(obj: dict) -> str:
    status = obj.get("status") or {}
    for key in ("printableStatus", "phase"):
        if status.get(key):
            return f"{key} {status[key]}"
    return "no status yet"

"""Waiting for an object to reach a state: list once, then watch from that resourceVersion.

No sleep-polling: the server pushes each change. A watch that ends (server timeout, dropped connection) resumes from
the last version seen; a version the server no longer keeps (410 Gone) costs one relist.
"""

import time
from typing import Any, Callable, Dict, Iterable, Optional

from . import errors
from .kinds import Kind

# A watch request asks the server to end the stream after this long, so a silently dead connection is noticed.
WATCH_WINDOW_SECONDS = 60


class WaitTimeout(errors.Timeout):
    pass


class WaitStopped(Exception):
    """The command was told to stop (its `Api.stop_waiting` event was set) while it waited."""


def _check_stop(api) -> None:
    stop = getattr(api, "stop_waiting", None)
    if stop is not None and stop.is_set():
        raise WaitStopped("stopped while waiting")


def watch_until(api, kind: Kind, namespace: Optional[str], reached: Callable[[], bool],
                on_list: Callable[[list], None], on_event: Callable[[str, dict], None], timeout: Optional[float],
                timed_out: Callable[[], str], clock: Callable[[], float] = time.monotonic, **selectors) -> None:
    """The one list-then-watch loop every wait uses.

    Lists the objects `selectors` (field_selector / label_selector) choose and gives them to `on_list`, then watches
    from that resourceVersion and gives each change to `on_event`, until `reached()` holds. A watch that ends resumes
    from the last version seen; 410 Gone relists. Raises WaitTimeout(timed_out()) when `timeout` seconds pass first,
    WaitStopped as soon as the API's `stop_waiting` event is set (checked at each event, and at least every time a
    silent watch hits the client's read timeout, so no wait outlives a stop or its timeout).
    """
    deadline = None if not timeout else clock() + timeout
    version = None
    while True:
        _check_stop(api)
        if version is None:
            listed = api.list(kind, namespace, **selectors)
            version = listed.resource_version
            on_list(listed.items)
            if reached():
                return
        remaining = None if deadline is None else deadline - clock()
        if remaining is not None and remaining <= 0:
            raise WaitTimeout(timed_out())
        window = WATCH_WINDOW_SECONDS if remaining is None else max(1, min(WATCH_WINDOW_SECONDS, int(remaining + 1)))
        try:
            for etype, obj in api.watch(kind, namespace, resource_version=version, timeout_seconds=window,
                                        **selectors):
                version = obj.get("metadata", {}).get("resourceVersion") or version
                if etype == "BOOKMARK":
                    continue
                on_event(etype, obj)
                if reached():
                    return
                _check_stop(api)
                if deadline is not None and clock() >= deadline:
                    break
        except errors.Gone:
            version = None  # relist: the server compacted past our version


def wait_for(api, kind: Kind, name: str, namespace: Optional[str], predicate: Callable[[Optional[dict]], bool],
             timeout: Optional[float], what: str = "", on_change: Optional[Callable[[Optional[dict]], None]] = None,
             clock: Callable[[], float] = time.monotonic) -> Optional[dict]:
    """Return the object (None if it is gone) as soon as `predicate` holds for it.

    `predicate` and `on_change` get the current object, or None while it does not exist. Raises WaitTimeout with
    `what` and the last state seen when `timeout` seconds pass first.
    """
    state: Dict[str, Any] = {"current": None, "reached": False}

    def seen(obj):
        state["current"] = obj
        if on_change:
            on_change(obj)
        state["reached"] = bool(predicate(obj))

    watch_until(api, kind, namespace, reached=lambda: state["reached"],
                on_list=lambda items: seen(items[0] if items else None),
                on_event=lambda etype, obj: seen(None if etype == "DELETED" else obj), timeout=timeout,
                timed_out=lambda: _timeout_message(kind, name, namespace, what, timeout, state["current"]),
                clock=clock, field_selector=f"metadata.name={name}")
    return state["current"]


def wait_for_all(api, kind: Kind, namespace: Optional[str], names: Iterable[str], label_selector: str,
                 done: Callable[[dict], bool], failed: Callable[[dict], Optional[str]], timeout: Optional[float],
                 on_change: Optional[Callable[[Dict[str, Optional[dict]]], None]] = None,
                 clock: Callable[[], float] = time.monotonic) -> Dict[str, Optional[dict]]:
    """Return {name: object} once `done` holds for every named object (all disks of one VM: one list and one watch,
    by label selector, whatever the number of objects).

    `failed(obj)` returns a reason when an object can no longer succeed: SetFailed is raised with that name and
    reason. A missing object counts as not done.
    """
    wanted = set(names)
    current: Dict[str, Optional[dict]] = {n: None for n in wanted}

    def reached() -> bool:
        for name in sorted(wanted):
            obj = current.get(name)
            if obj is not None:
                reason = failed(obj)
                if reason:
                    raise SetFailed(name, reason)
        return all(current.get(n) is not None and done(current[n]) for n in wanted)  # type: ignore[arg-type]

    def listed(items):
        current.update({n: None for n in wanted})
        for obj in items:
            if obj["metadata"]["name"] in wanted:
                current[obj["metadata"]["name"]] = obj
        if on_change:
            on_change(current)

    def event(etype, obj):
        name = obj.get("metadata", {}).get("name")
        if name in wanted:
            current[name] = None if etype == "DELETED" else obj
            if on_change:
                on_change(current)

    def timed_out() -> str:
        pending = sorted(n for n in wanted if current.get(n) is None or not done(current[n]))  # type: ignore
        return (f"timed out after {timeout:g}s waiting for {kind.kind.lower()} {', '.join(pending)} in namespace "
                f"{namespace}")

    watch_until(api, kind, namespace, reached=reached, on_list=listed, on_event=event, timeout=timeout,
                timed_out=timed_out, clock=clock, label_selector=label_selector)
    return current


class SetFailed(Exception):
    """An object of a set waited on can no longer succeed."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


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

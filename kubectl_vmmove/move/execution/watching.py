"""Waiting for a set of objects at once (all disks of one VM): one list, then one watch, by label selector.

`kube.wait.wait_for` follows one object by name; a VM's disks are followed together so that their progress shows
as one figure and the wait costs two requests whatever the number of disks.
"""

import time
from typing import Callable, Dict, Iterable, Optional

from ...kube import errors as kerr
from ...kube.wait import WATCH_WINDOW_SECONDS, WaitTimeout


def wait_for_all(api, kind, namespace: str, names: Iterable[str], label_selector: str,
                 done: Callable[[dict], bool], failed: Callable[[dict], Optional[str]], timeout: Optional[float],
                 on_change: Optional[Callable[[Dict[str, Optional[dict]]], None]] = None,
                 clock: Callable[[], float] = time.monotonic) -> Dict[str, dict]:
    """Return {name: object} once `done` holds for every named object.

    `failed(obj)` returns a reason when an object can no longer succeed: SetFailed is raised with that name
    and reason. A missing object counts as not done.
    """
    wanted = set(names)
    current: Dict[str, Optional[dict]] = {n: None for n in wanted}
    deadline = None if not timeout else clock() + timeout
    version = None

    def check():
        for name in sorted(wanted):
            obj = current.get(name)
            if obj is not None:
                reason = failed(obj)
                if reason:
                    raise SetFailed(name, reason)
        return all(current.get(n) is not None and done(current[n]) for n in wanted)

    while True:
        if version is None:
            listed = api.list(kind, namespace, label_selector=label_selector)
            current = {n: None for n in wanted}
            for obj in listed.items:
                if obj["metadata"]["name"] in wanted:
                    current[obj["metadata"]["name"]] = obj
            version = listed.resource_version
            if on_change:
                on_change(current)
            if check():
                return current
        remaining = None if deadline is None else deadline - clock()
        if remaining is not None and remaining <= 0:
            pending = sorted(n for n in wanted if current.get(n) is None or not done(current[n]))
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {kind.kind.lower()} "
                              f"{', '.join(pending)} in namespace {namespace}")
        window = WATCH_WINDOW_SECONDS if remaining is None else max(1, min(WATCH_WINDOW_SECONDS, int(remaining + 1)))
        try:
            for etype, obj in api.watch(kind, namespace, resource_version=version, label_selector=label_selector,
                                        timeout_seconds=window):
                version = obj.get("metadata", {}).get("resourceVersion") or version
                if etype == "BOOKMARK":
                    continue
                name = obj.get("metadata", {}).get("name")
                if name not in wanted:
                    continue
                current[name] = None if etype == "DELETED" else obj
                if on_change:
                    on_change(current)
                if check():
                    return current
                if deadline is not None and clock() >= deadline:
                    break
        except kerr.Gone:
            version = None


class SetFailed(Exception):
    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason

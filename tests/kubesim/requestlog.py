"""The request log: one entry per API request, for tests and benchmarks that assert how a client uses the API."""

import collections
import dataclasses
import threading


@dataclasses.dataclass(frozen=True)
class Entry:
    method: str
    verb: str            # get|list|watch|create|update|patch|delete|deletecollection, or "" for non-resource
    group: str
    resource: str
    subresource: str
    namespace: str
    name: str
    status: int
    user: str
    path: str = ""
    fault: str = ""      # the injected fault that answered, if any


class RequestLog:
    def __init__(self):
        self._lock = threading.Lock()
        self.entries = []

    def add(self, entry):
        with self._lock:
            self.entries.append(entry)

    def amend(self, entry, **changes):
        """Replace a logged entry with a changed copy (a watch dropped by a fault after it was logged)."""
        new = dataclasses.replace(entry, **changes)
        with self._lock:
            for i in range(len(self.entries) - 1, -1, -1):
                if self.entries[i] is entry:
                    self.entries[i] = new
                    break
        return new

    def count(self, verb=None, resource=None, namespace=None, group=None, subresource=None):
        """Requests matching every given filter; ``resource`` may be "virtualmachines" or "virtualmachines.kubevirt.io"."""
        with self._lock:
            entries = list(self.entries)
        n = 0
        for e in entries:
            if verb is not None and e.verb != verb:
                continue
            if resource is not None:
                qualified = f"{e.resource}.{e.group}" if e.group else e.resource
                if resource not in (e.resource, qualified):
                    continue
            if namespace is not None and e.namespace != namespace:
                continue
            if group is not None and e.group != group:
                continue
            if subresource is not None and e.subresource != subresource:
                continue
            n += 1
        return n

    def by_verb(self):
        with self._lock:
            return dict(collections.Counter(e.verb for e in self.entries if e.verb))

    def by_resource(self):
        with self._lock:
            return dict(collections.Counter((e.verb, f"{e.resource}.{e.group}" if e.group else e.resource)
                                            for e in self.entries if e.verb))

    def reset(self):
        with self._lock:
            self.entries = []

    def __len__(self):
        with self._lock:
            return len(self.entries)

"""core/v1 Events as client-go's recorder writes them: one object per (involved object, type, reason, message),
its ``count`` and ``lastTimestamp`` bumped when the same thing happens again."""

import threading

from .base import rfc3339


class EventRecorder:
    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._seen = {}       # (ns, kind, name, uid, type, reason, message) -> event name
        self._seq = 0

    def record(self, obj, etype, reason, message, now, component):
        m = obj.get("metadata") or {}
        ns = m.get("namespace") or "default"
        key = (ns, obj.get("kind"), m.get("name"), m.get("uid"), etype, reason, message)
        ts = rfc3339(now)
        with self._lock:
            existing = self._seen.get(key)
            if existing is None:
                self._seq += 1
                # client-go names events <object>.<hex nanoseconds>; a counter keeps names unique and reproducible.
                name = f"{m.get('name')}.{int(now.timestamp() * 1e9) + self._seq:x}"
                self._seen[key] = name
        if existing:
            ev = self.store.get("events", ns, existing)
            if ev is not None:
                ev["count"] = int(ev.get("count") or 1) + 1
                ev["lastTimestamp"] = ts
                self.store.update(ev)
                return ev
        ev = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name if existing is None else existing, "namespace": ns},
            "involvedObject": {k: v for k, v in (("apiVersion", obj.get("apiVersion")), ("kind", obj.get("kind")),
                                                 ("namespace", m.get("namespace")), ("name", m.get("name")),
                                                 ("uid", m.get("uid")),
                                                 ("resourceVersion", m.get("resourceVersion"))) if v},
            "reason": reason,
            "message": message,
            "type": etype,
            "count": 1,
            "firstTimestamp": ts,
            "lastTimestamp": ts,
            "source": {"component": component},
            "reportingComponent": component,
            "reportingInstance": "",
        }
        try:
            return self.store.create(ev)
        except Exception:   # noqa: BLE001 - an event that cannot be written is dropped, as client-go drops it
            return None


def recorder_for(sim):
    """The one recorder of a sim (so that repeated events are counted, whoever records them)."""
    rec = getattr(sim, "_event_recorder", None)
    if rec is None:
        rec = EventRecorder(sim.internal)
        sim._event_recorder = rec
    return rec


def events_for(store, obj, reason=None):
    """The Events about ``obj`` (optionally with ``reason``), oldest first: a helper for tests and controllers."""
    m = obj.get("metadata") or {}
    ns = m.get("namespace") or "default"
    items, _ = store.list("events", ns)
    out = [e for e in items if (e.get("involvedObject") or {}).get("name") == m.get("name")
           and (e.get("involvedObject") or {}).get("kind") == obj.get("kind")
           and (reason is None or e.get("reason") == reason)]
    return sorted(out, key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"]))

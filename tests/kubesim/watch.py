"""Watch streams: chunked JSON events from a resourceVersion (or the current state first), selector transitions
(an object leaving a selector is DELETED for that watch), bookmarks, timeoutSeconds, 410 Gone as an ERROR event,
and injected drops."""

import json
import socket
import time

from . import selectors, tables
from .errors import bad_request
from .negotiation import wanted_shape


def _transition(etype, new, old, lreqs, freqs):
    """The event type a selector-filtered watch sees, or None."""
    def match(obj):
        return obj is not None and selectors.labels_match(lreqs, obj) and selectors.fields_match(freqs, obj)
    if etype == "MODIFIED":
        now_in, was_in = match(new), match(old)
        if now_in and was_in:
            return "MODIFIED"
        if now_in:
            return "ADDED"
        if was_in:
            return "DELETED"
        return None
    return etype if match(new) else None


class WatchStream:
    def __init__(self, handler, route, t, namespace, lreqs, freqs):
        self.h = handler
        self.sim = handler.sim
        self.route = route
        self.t = t
        self.namespace = namespace
        self.lreqs = lreqs
        self.freqs = freqs
        self.shape = wanted_shape(handler.headers.get("Accept"))
        self.sent_columns = False

    def _encode(self, etype, obj):
        if etype in ("ADDED", "MODIFIED", "DELETED"):
            if self.route.version != self.t.version:
                obj = dict(obj)
                obj["apiVersion"] = self.t.api_version_for(self.route.version)
            if self.shape == "partial":
                obj = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
            elif self.shape == "table":
                table = tables.build_table(self.t, [obj], self.sim.clock.now(), obj["metadata"]["resourceVersion"],
                                           include_object=self.h.query.get("includeObject", "PartialObjectMetadata"))
                if self.sent_columns:
                    table["columnDefinitions"] = []
                self.sent_columns = True
                obj = table
        return json.dumps({"type": etype, "object": obj}, separators=(",", ":")).encode() + b"\n"

    def _chunk(self, payload):
        self.h.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
        self.h.wfile.flush()

    def _bookmark(self, extra_annotations=None):
        meta = {"resourceVersion": self.sim.store.resource_version}
        if extra_annotations:
            meta["annotations"] = extra_annotations
        obj = {"kind": self.t.kind, "apiVersion": self.t.api_version_for(self.route.version), "metadata": meta}
        return json.dumps({"type": "BOOKMARK", "object": obj}, separators=(",", ":")).encode() + b"\n"

    def run(self):
        q = self.h.query
        rv_text = q.get("resourceVersion") or ""
        try:
            from_rv = int(rv_text) if rv_text else 0
        except ValueError:
            raise bad_request(f'invalid resource version "{rv_text}"') from None
        send_initial = q.get("sendInitialEvents") in ("true", "1")
        if send_initial:
            from_rv = 0
        timeout = None
        if q.get("timeoutSeconds"):
            timeout = float(q["timeoutSeconds"])
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        store = self.sim.store
        watcher, backlog, err = store.start_watch(self.t, self.namespace or None, from_rv)
        h = self.h
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header("Cache-Control", "no-cache, private")
        h.end_headers()
        h.log_request_entry(200)
        if err is not None:
            self._chunk(json.dumps({"type": "ERROR", "object": err.status()}, separators=(",", ":")).encode() + b"\n")
            self._chunk(b"")
            return 200
        self.sim.register_stream(watcher)
        if self.sim.faults.watch_stalls(self.route.group, self.route.plural):
            # A stalled stream (faults.stall_watches): headers sent, then silence until the client gives up.
            try:
                while not self.sim.stopping and not watcher.closed:
                    time.sleep(0.05)
            finally:
                store.stop_watch(watcher)
                self.sim.unregister_stream(watcher)
                h.close_connection = True
            return 200
        deadline = time.monotonic() + timeout if timeout is not None else None
        interval = self.sim.bookmark_interval
        last_sent = time.monotonic()
        dropped = False
        try:
            for ev in backlog:
                if self._send_event(ev):
                    dropped = True
                    return 200
            if send_initial and bookmarks:
                self._chunk(self._bookmark({"k8s.io/initial-events-end": "true"}))
            while True:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                wait = 0.25
                if deadline is not None:
                    wait = min(wait, deadline - now)
                if bookmarks:
                    wait = max(0.0, min(wait, last_sent + interval - now))
                ev = watcher.next(wait)
                if ev is None:
                    if watcher.closed or self.sim.stopping:
                        break
                    if bookmarks and time.monotonic() - last_sent >= interval:
                        self._chunk(self._bookmark())
                        last_sent = time.monotonic()
                    continue
                if self._send_event(ev):
                    dropped = True
                    return 200
                last_sent = time.monotonic()
            if bookmarks and not watcher.closed:
                self._chunk(self._bookmark())
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError, OSError):
            h.close_connection = True
        finally:
            store.stop_watch(watcher)
            self.sim.unregister_stream(watcher)
            if dropped:
                h.close_connection = True
        return 200

    def _send_event(self, ev):
        """Send one event if the watch's namespace and selectors let it through; True when a fault drops the stream."""
        obj = ev.record.obj
        if self.namespace and obj["metadata"].get("namespace") != self.namespace:
            return False
        old = ev.old.obj if ev.old is not None else None
        etype = _transition(ev.type, obj, old, self.lreqs, self.freqs)
        if etype is None:
            return False
        self._chunk(self._encode(etype, obj))
        if self.sim.faults.drop_watch_now():
            self.h.fault = "watch-drop"
            self.h.entry = self.sim.requests.amend(self.h.entry, fault="watch-drop")
            self.h.close_connection = True
            try:
                self.h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        return False

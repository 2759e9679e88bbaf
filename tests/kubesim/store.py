"""The object store: what etcd plus the generic registry give a real API server.

One global resourceVersion counter, uid/generation/creationTimestamp assignment, optimistic concurrency, status
subresource semantics, finalizers and deletionTimestamp, ownerReference bookkeeping for the garbage collector, a
bounded event history for watches, and paging.  Objects are plain dicts; a stored dict is never mutated (every
write stores a new one), so readers inside kubesim may share it and serialised JSON can be cached per version.

Admission, validation and RBAC are not here: they belong to the request pipeline (``api.py``).  kubesim's
controllers write through ``internal.InternalWriter``, which documents what such writes skip.
"""

import base64
import bisect
import collections
import copy
import json
import random
import threading
import uuid

from . import errors, patching, selectors
from .errors import ApiError


class Record:
    """A stored object version plus its lazily serialised JSON."""

    __slots__ = ("obj", "_raw")

    def __init__(self, obj):
        self.obj = obj
        self._raw = None

    def raw(self):
        if self._raw is None:
            self._raw = json.dumps(self.obj, separators=(",", ":")).encode()
        return self._raw

    def copy(self):
        return json.loads(self.raw())


class Event:
    __slots__ = ("rv", "type", "rtype", "record", "old")

    def __init__(self, rv, etype, rtype, record, old):
        self.rv, self.type, self.rtype, self.record, self.old = rv, etype, rtype, record, old


class Watcher:
    """A registered watch: the store pushes events for its resource; the server thread filters and streams them."""

    def __init__(self, rtype, namespace):
        self.rtype = rtype
        self.namespace = namespace
        self.queue = collections.deque()
        self.cond = threading.Condition()
        self.closed = False

    def push(self, event):
        with self.cond:
            self.queue.append(event)
            self.cond.notify()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify()

    def next(self, timeout):
        """The next event, or None when ``timeout`` real seconds pass or the watcher is closed."""
        with self.cond:
            if not self.queue and not self.closed:
                self.cond.wait(timeout)
            if self.queue:
                return self.queue.popleft()
            return None


def _meta(obj):
    return obj.setdefault("metadata", {})


def _key(ns, name):
    return f"{ns or ''}/{name}"


class Store:
    """Thread-safe storage of every served kind, keyed by resource (``plural.group``), namespace and name."""

    def __init__(self, registry, clock, seed=0, history=10000):
        self.registry = registry
        self.clock = clock
        self.lock = threading.RLock()
        self._rv = 1
        self._data = {t.key: {} for t in registry.types if not t.virtual}
        self._sorted = {}
        self._by_uid = {}                   # uid -> (rkey, ns, name)
        self._dependents = collections.defaultdict(set)   # owner uid -> {(rkey, ns, name)}
        self._history = collections.deque()
        self._history_max = history
        self._history_floor = 0             # events with rv <= floor are no longer retained
        self._compacted = 0                 # list continue tokens older than this are expired
        self._subscribers = []
        self._watchers = collections.defaultdict(set)
        self._rng = random.Random(seed)
        self.gc_queue = collections.deque()  # (rkey, ns, name) to check for dangling owners
        self.gc_owner_queue = collections.deque()  # owners with foregroundDeletion/orphan finalizers to process
        self.writes = 0

    # ---------------------------------------------------------------- helpers
    def resolve(self, resource):
        t = self.registry.resolve(resource)
        if t.virtual:
            raise KeyError(f"{resource} has no storage")
        return t

    def type_of(self, obj):
        """The served kind of ``obj`` (by apiVersion and kind), or 404 when none."""
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        t = self.registry.by_api_version_kind(api_version, kind)
        if t is None:
            raise ApiError(404, "NotFound", f'the server could not find the requested resource (kind "{kind}" in '
                                            f'version "{api_version}" is not served)')
        return t

    def new_uid(self):
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def random_suffix(self, n=5):
        alphabet = "bcdfghjklmnpqrstvwxz2456789"   # the alphabet of k8s.io/apimachinery/pkg/util/rand
        return "".join(self._rng.choice(alphabet) for _ in range(n))

    @property
    def resource_version(self):
        with self.lock:
            return str(self._rv)

    def _next_rv(self):
        self._rv += 1
        return self._rv

    def _record(self, t, ns, name):
        return self._data[t.key].get((ns or "", name))

    def peek(self, resource, namespace, name):
        """The stored dict itself (do not mutate) or None: for readers inside kubesim."""
        t = self.resolve(resource)
        rec = self._record(t, namespace if t.namespaced else "", name)
        return rec.obj if rec else None

    def _normalise(self, t, obj):
        obj["apiVersion"] = t.api_version
        obj["kind"] = t.kind
        meta = _meta(obj)
        if not t.namespaced:
            meta.pop("namespace", None)
        return obj

    def subscribe(self, callback):
        """``callback(event_type, resource_key, obj)`` after each commit, inside the store lock: do not block."""
        self._subscribers.append(callback)

    # ---------------------------------------------------------------- commit / events
    def _commit(self, t, etype, new_obj, old_rec):
        ns = new_obj["metadata"].get("namespace", "") if t.namespaced else ""
        name = new_obj["metadata"]["name"]
        table = self._data[t.key]
        rec = Record(new_obj)
        if etype == "DELETED":
            table.pop((ns, name), None)
            self._sorted.pop(t.key, None)
            uid = new_obj["metadata"].get("uid")
            self._by_uid.pop(uid, None)
            self._unindex_owners(t, new_obj)
            self.gc_queue.append(("owner-gone", uid))
        else:
            if old_rec is None:
                self._sorted.pop(t.key, None)
                self._by_uid[new_obj["metadata"]["uid"]] = (t.key, ns, name)
            else:
                self._unindex_owners(t, old_rec.obj)
            table[(ns, name)] = rec
            self._index_owners(t, new_obj)
            if new_obj["metadata"].get("ownerReferences"):
                self.gc_queue.append(("dependent", (t.key, ns, name)))
            if new_obj["metadata"].get("deletionTimestamp") and (
                    {"foregroundDeletion", "orphan"} & set(new_obj["metadata"].get("finalizers") or ())):
                self.gc_queue.append(("owner-finalizing", (t.key, ns, name)))
        self.writes += 1
        ev = Event(int(new_obj["metadata"]["resourceVersion"]), etype, t, rec, old_rec)
        self._history.append(ev)
        while len(self._history) > self._history_max:
            self._history_floor = self._history.popleft().rv
        for w in list(self._watchers.get(t.key, ())):
            w.push(ev)
        for cb in list(self._subscribers):
            cb(etype, t.key, rec.copy())
        return rec

    def _index_owners(self, t, obj):
        meta = obj["metadata"]
        for ref in meta.get("ownerReferences") or ():
            if ref.get("uid"):
                self._dependents[ref["uid"]].add((t.key, meta.get("namespace", ""), meta["name"]))

    def _unindex_owners(self, t, obj):
        meta = obj["metadata"]
        for ref in meta.get("ownerReferences") or ():
            deps = self._dependents.get(ref.get("uid"))
            if deps is not None:
                deps.discard((t.key, meta.get("namespace", ""), meta["name"]))
                if not deps:
                    del self._dependents[ref["uid"]]

    # ---------------------------------------------------------------- namespace checks
    def check_namespace_open(self, t, ns, name):
        """Creation into a missing or terminating namespace fails as the NamespaceLifecycle admission makes it."""
        if not t.namespaced:
            return
        nsrec = self._data["namespaces"].get(("", ns))
        if nsrec is None:
            raise ApiError(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})
        if nsrec.obj["metadata"].get("deletionTimestamp"):
            raise ApiError(403, "Forbidden",
                           f'{errors.qualified(t.plural, t.group)} "{name}" is forbidden: unable to create new content '
                           f"in namespace {ns} because it is being terminated",
                           {"name": name, "group": t.group, "kind": t.plural,
                            "causes": [{"reason": "NamespaceTerminating",
                                        "message": f"namespace {ns} is being terminated",
                                        "field": "metadata.namespace"}]})

    # ---------------------------------------------------------------- create
    def create(self, obj, dry_run=False):
        with self.lock:
            obj = copy.deepcopy(obj)
            t = self.type_of(obj)
            self._normalise(t, obj)
            meta = obj["metadata"]
            ns = meta.get("namespace", "") if t.namespaced else ""
            if t.namespaced and not ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace "
                                                  "sent on the request")
            if not meta.get("name"):
                if meta.get("generateName"):
                    for _ in range(8):
                        candidate = meta["generateName"] + self.random_suffix()
                        if (ns, candidate) not in self._data[t.key]:
                            break
                    meta["name"] = candidate
                else:
                    raise errors.invalid(t.kind, t.group, "", [("metadata.name",
                                                                "Required value: name or generateName is required")])
            name = meta["name"]
            self.check_namespace_open(t, ns, name)
            if (ns, name) in self._data[t.key]:
                raise errors.already_exists(t.plural, t.group, name)
            meta["uid"] = self.new_uid()
            meta["creationTimestamp"] = self.clock.timestamp()
            meta.pop("deletionTimestamp", None)
            meta.pop("deletionGracePeriodSeconds", None)
            meta.pop("selfLink", None)
            if t.tracks_generation:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            if t.status and t.custom:
                # The status subresource makes the main endpoint ignore status on create.
                obj.pop("status", None)
            if dry_run:
                meta.pop("resourceVersion", None)
                return obj
            meta["resourceVersion"] = str(self._next_rv())
            return self._commit(t, "ADDED", obj, None).copy()

    # ---------------------------------------------------------------- read
    def get(self, resource, namespace, name):
        with self.lock:
            t = self.resolve(resource)
            rec = self._record(t, namespace if t.namespaced else "", name)
            return rec.copy() if rec else None

    def get_record(self, t, namespace, name):
        with self.lock:
            return self._record(t, namespace if t.namespaced else "", name)

    def _sorted_keys(self, t):
        keys = self._sorted.get(t.key)
        if keys is None:
            keys = sorted(self._data[t.key])
            self._sorted[t.key] = keys
        return keys

    def list_records(self, t, namespace=None, label_reqs=(), field_reqs=(), limit=0, continue_token=None):
        """(records, resourceVersion, continue, remainingItemCount) in key order, as a paged LIST returns them."""
        with self.lock:
            rv = self._rv
            start = None
            if continue_token:
                tok_rv, start = _decode_continue(continue_token)
                if tok_rv < self._compacted:
                    raise errors.gone()
                rv = tok_rv
            table = self._data[t.key]
            keys = self._sorted_keys(t)
            ns = namespace if t.namespaced else None
            lo, hi = 0, len(keys)
            if ns:
                lo = bisect.bisect_left(keys, (ns, ""))
                hi = bisect.bisect_left(keys, (ns, "\U0010ffff"))
            if start is not None:
                lo = max(lo, bisect.bisect_right(keys, start))
            pinned = selectors.field_name_equals(field_reqs)
            out = []
            last = None
            remaining = 0
            for i in range(lo, hi):
                k = keys[i]
                if pinned is not None and k[1] != pinned:
                    continue
                rec = table[k]
                if not selectors.labels_match(label_reqs, rec.obj) or not selectors.fields_match(field_reqs, rec.obj):
                    continue
                if limit and len(out) >= limit:
                    # The real server counts what is left only when no selector filters the list.
                    remaining = hi - i
                    break
                out.append(rec)
                last = k
            cont = None
            if remaining:
                cont = _encode_continue(rv, last)
            return out, str(rv), cont, (remaining if remaining and not label_reqs and not field_reqs else None)

    def records_at(self, t, rv):
        """{(ns, name): Record} of ``t`` as they were at revision ``rv`` (a list with resourceVersionMatch=Exact),
        rebuilt from the watch history; 410 Expired when that revision is no longer retained."""
        with self.lock:
            floor = max(self._history_floor, self._compacted)
            if rv < floor:
                raise errors.gone(f"too old resource version: {rv} ({floor + 1})")
            if rv > self._rv:
                raise errors.too_large_resource_version(rv, self._rv)
            state = dict(self._data[t.key])
            for ev in reversed(self._history):
                if ev.rv <= rv:
                    break
                if ev.rtype.key != t.key:
                    continue
                meta = ev.record.obj["metadata"]
                key = (meta.get("namespace", "") if t.namespaced else "", meta["name"])
                if ev.old is None:
                    state.pop(key, None)
                else:
                    state[key] = ev.old
            return state

    def list(self, resource, namespace=None, label_selector=None, field_selector=None):
        t = self.resolve(resource)
        lreqs = selectors.parse_label_selector(label_selector) if isinstance(label_selector, str) else \
            (label_selector or [])
        freqs = selectors.parse_field_selector(field_selector, t) if isinstance(field_selector, str) else \
            (field_selector or [])
        recs, rv, _, _ = self.list_records(t, namespace, lreqs, freqs)
        return [r.copy() for r in recs], rv

    def count(self, resource, namespace=None):
        with self.lock:
            t = self.resolve(resource)
            if namespace is None or not t.namespaced:
                return len(self._data[t.key])
            return sum(1 for (ns, _) in self._data[t.key] if ns == namespace)

    def lookup_uid(self, uid):
        """(resource key, namespace, name) of the object with ``uid``, or None."""
        with self.lock:
            return self._by_uid.get(uid)

    def dependents_of(self, uid):
        with self.lock:
            return set(self._dependents.get(uid, ()))

    # ---------------------------------------------------------------- update
    def update(self, obj, subresource=None, dry_run=False, merged=False):
        """Replace an object (or only its status with ``subresource="status"``).

        A given ``metadata.resourceVersion`` must match (else 409 Conflict).  ``merged=True`` means ``obj`` already
        went through ``merge_update`` (the request pipeline does that before validating).  An update that changes nothing is not
        written (no new resourceVersion, no event), as the real server does.
        """
        with self.lock:
            obj = copy.deepcopy(obj)
            t = self.type_of(obj)
            self._normalise(t, obj)
            meta = obj["metadata"]
            ns = meta.get("namespace", "") if t.namespaced else ""
            name = meta.get("name")
            old = self._record(t, ns, name)
            if old is None:
                raise errors.not_found(t.plural, t.group, name)
            want_rv = meta.get("resourceVersion")
            if want_rv and want_rv != old.obj["metadata"]["resourceVersion"]:
                raise errors.conflict(t.plural, t.group, name)
            new = obj if merged else self.merge_update(t, old.obj, obj, subresource)
            return self._write_update(t, old, new, dry_run)

    def merge_update(self, t, old, obj, subresource):
        oldmeta = old["metadata"]
        if subresource == "status":
            new = copy.deepcopy(old)
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            return new
        if subresource:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        new = obj
        meta = new["metadata"]
        for field in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            if field in oldmeta:
                meta[field] = oldmeta[field]
            else:
                meta.pop(field, None)
        if t.status and "status" in old:
            new["status"] = old["status"]
        elif t.status:
            new.pop("status", None)
        if oldmeta.get("deletionTimestamp"):
            # Finalizers can only be removed from an object that is being deleted, not added.
            kept = [f for f in meta.get("finalizers") or [] if f in (oldmeta.get("finalizers") or [])]
            if kept:
                meta["finalizers"] = kept
            else:
                meta.pop("finalizers", None)
        return new

    def _spec_changed(self, t, old, new):
        skip = {"metadata", "status"} if t.status else {"metadata"}
        keys = (set(old) | set(new)) - skip
        return any(old.get(k) != new.get(k) for k in keys)

    def _write_update(self, t, old_rec, new, dry_run):
        old = old_rec.obj
        meta = new["metadata"]
        if t.tracks_generation and self._spec_changed(t, old, new):
            meta["generation"] = old["metadata"].get("generation", 0) + 1
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        if not meta.get("finalizers"):
            meta.pop("finalizers", None)
        if new == old:
            return old_rec.copy()
        if dry_run:
            return new
        meta["resourceVersion"] = str(self._next_rv())
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            return self._commit(t, "DELETED", new, old_rec).copy()
        return self._commit(t, "MODIFIED", new, old_rec).copy()

    def patch(self, resource, namespace, name, patch, patch_type="merge", subresource=None, dry_run=False):
        with self.lock:
            t = self.resolve(resource)
            rec = self._record(t, namespace if t.namespaced else "", name)
            if rec is None:
                raise errors.not_found(t.plural, t.group, name)
            new = apply_patch(rec.obj, patch, patch_type)
            new.setdefault("metadata", {})
            new["metadata"]["name"] = name
            if t.namespaced:
                new["metadata"]["namespace"] = namespace
            new["apiVersion"], new["kind"] = rec.obj["apiVersion"], rec.obj["kind"]
            want_rv = new["metadata"].get("resourceVersion")
            if want_rv and want_rv != rec.obj["metadata"]["resourceVersion"]:
                raise errors.conflict(t.plural, t.group, name)
            merged = self.merge_update(t, rec.obj, new, subresource)
            return self._write_update(t, rec, merged, dry_run)

    # ---------------------------------------------------------------- delete
    def delete(self, resource, namespace, name, propagation="Background", preconditions=None, dry_run=False):
        """Delete, honouring finalizers (the object stays with a deletionTimestamp) and propagation policy.

        Returns the object as it is after the call (with deletionTimestamp while finalizers remain).
        """
        with self.lock:
            t = self.resolve(resource)
            ns = namespace if t.namespaced else ""
            rec = self._record(t, ns, name)
            if rec is None:
                raise errors.not_found(t.plural, t.group, name)
            old = rec.obj
            pre = preconditions or {}
            if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
                raise errors.precondition_conflict(t.kind, t.group, name, "UID", pre["uid"], old["metadata"]["uid"])
            if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
                raise errors.precondition_conflict(t.kind, t.group, name, "ResourceVersion", pre["resourceVersion"],
                                                   old["metadata"]["resourceVersion"])
            new = copy.deepcopy(old)
            meta = new["metadata"]
            finalizers = list(meta.get("finalizers") or [])
            if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
                finalizers = [f for f in finalizers if f != "orphan"]
            elif propagation == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
                finalizers = [f for f in finalizers if f != "foregroundDeletion"]
            if t.key == "namespaces":
                new.setdefault("status", {})["phase"] = "Terminating"
                spec_fin = (new.get("spec") or {}).get("finalizers") or []
                if spec_fin:
                    return self._mark_deleting(t, rec, new, finalizers, dry_run)
            if finalizers:
                return self._mark_deleting(t, rec, new, finalizers, dry_run)
            if dry_run:
                return new
            meta["resourceVersion"] = str(self._next_rv())
            return self._commit(t, "DELETED", new, rec).copy()

    def _mark_deleting(self, t, rec, new, finalizers, dry_run):
        meta = new["metadata"]
        if finalizers:
            meta["finalizers"] = finalizers
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = self.clock.timestamp()
            meta["deletionGracePeriodSeconds"] = 0
            if t.tracks_generation:
                meta["generation"] = meta.get("generation", 0) + 1
        if new == rec.obj:
            return rec.copy()
        if dry_run:
            return new
        meta["resourceVersion"] = str(self._next_rv())
        return self._commit(t, "MODIFIED", new, rec).copy()

    def remove_finalizer(self, resource, namespace, name, finalizer):
        """Drop one finalizer (as its controller would); completes the deletion when none remain."""
        with self.lock:
            t = self.resolve(resource)
            rec = self._record(t, namespace if t.namespaced else "", name)
            if rec is None or finalizer not in (rec.obj["metadata"].get("finalizers") or ()):
                return None
            new = copy.deepcopy(rec.obj)
            new["metadata"]["finalizers"] = [f for f in new["metadata"]["finalizers"] if f != finalizer]
            return self._write_update(t, rec, new, False)

    def finalize_namespace(self, name):
        """Clear a terminating namespace's spec.finalizers and delete it (the namespace controller's last step)."""
        with self.lock:
            t = self.resolve("namespaces")
            rec = self._record(t, "", name)
            if rec is None:
                return
            new = copy.deepcopy(rec.obj)
            new.setdefault("spec", {})["finalizers"] = []
            if new["metadata"].get("finalizers"):
                self._write_update(t, rec, new, False)
                return
            new["metadata"]["resourceVersion"] = str(self._next_rv())
            self._commit(t, "DELETED", new, rec)

    # ---------------------------------------------------------------- watch support
    def start_watch(self, t, namespace, from_rv):
        """Register a watcher and return (watcher, backlog events, error) atomically, so no event is missed.

        ``from_rv`` None or 0 means "current state first": the backlog is synthetic ADDED events for every object.
        """
        with self.lock:
            w = Watcher(t, namespace if t.namespaced else None)
            if not from_rv:
                backlog = [Event(int(r.obj["metadata"]["resourceVersion"]), "ADDED", t, r, None)
                           for k, r in sorted(self._data[t.key].items())
                           if not w.namespace or k[0] == w.namespace]
            else:
                floor = max(self._history_floor, self._compacted)
                if from_rv < floor:
                    oldest = self._history[0].rv if self._history else self._rv
                    return None, [], ApiError(410, "Expired", f"too old resource version: {from_rv} ({oldest})")
                backlog = [e for e in self._history if e.rv > from_rv and e.rtype.key == t.key]
            self._watchers[t.key].add(w)
            return w, backlog, None

    def stop_watch(self, w):
        with self.lock:
            self._watchers.get(w.rtype.key, set()).discard(w)
        w.close()

    def close_all_watches(self):
        with self.lock:
            for ws in self._watchers.values():
                for w in list(ws):
                    w.close()
            self._watchers.clear()

    def compact(self, rv=None):
        """Forget history up to ``rv`` (default: now): older watches and continue tokens get 410 Gone."""
        with self.lock:
            self._compacted = int(rv) if rv is not None else self._rv
            while self._history and self._history[0].rv <= self._compacted:
                self._history_floor = self._history.popleft().rv

    def set_history_window(self, n):
        with self.lock:
            self._history_max = n
            while len(self._history) > n:
                self._history_floor = self._history.popleft().rv

    # ---------------------------------------------------------------- iteration for controllers
    def all_records(self, resource, namespace=None):
        with self.lock:
            t = self.resolve(resource)
            return [r for k, r in self._data[t.key].items() if namespace is None or k[0] == namespace]

    def namespaced_types(self):
        return [t for t in self.registry.types if t.namespaced and not t.virtual]


def apply_patch(obj, patch, patch_type):
    if patch_type == "merge":
        return patching.merge_patch(obj, patch)
    if patch_type == "json":
        return patching.json_patch(obj, patch)
    if patch_type == "strategic":
        return patching.strategic_merge(obj, patch)
    raise ValueError(patch_type)


def _encode_continue(rv, last_key):
    start = f"{last_key[0]}/{last_key[1]}" if last_key[0] else last_key[1]
    body = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\u0000"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")   # RawURLEncoding, as the apiserver's


_B64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _invalid_continue(why):
    return errors.bad_request(f"invalid continue token: continue key is not valid: {why}")


def _decode_continue(token):
    bad = next((i for i, ch in enumerate(token) if ch not in _B64URL), None)
    if bad is None and len(token) % 4 == 1:
        bad = len(token) - 1   # Go's RawURLEncoding: a lone trailing character cannot encode a byte
    if bad is not None:
        raise _invalid_continue(f"illegal base64 data at input byte {bad}")
    try:
        body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if body.get("v") != "meta.k8s.io/v1":
            raise ValueError
        start = body["start"].rstrip("\u0000")
        ns, _, name = start.rpartition("/")
        return int(body["rv"]), (ns, name)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _invalid_continue("incorrect encoded start resourceVersion (version meta.k8s.io/v1)") from None

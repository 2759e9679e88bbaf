"""What every emulated controller shares: a work queue fed by store events, timers on the simulated clock, owner
references, conditions, Events, and the authorisation checks that KubeVirt and CDI send as SubjectAccessReviews.

Controllers are level-triggered like the real ones: ``sync(key, now)`` looks at what the store holds and moves it
one step closer to the desired state.  Work is only done for keys that changed or whose timer fell due, so a
cluster seeded with thousands of objects stays cheap to reconcile.
"""

import datetime
import heapq
import threading

from ..errors import ApiError

ADMIN_GROUPS = ("system:masters", "system:authenticated")


def rfc3339(now):
    return now.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_nano(now):
    return now.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def meta(obj):
    return obj.setdefault("metadata", {})


def labels(obj):
    return (obj.get("metadata") or {}).get("labels") or {}


def annotations(obj):
    return (obj.get("metadata") or {}).get("annotations") or {}


def is_deleting(obj):
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def owner_ref(owner, controller=True, block=True):
    ref = {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
           "uid": owner["metadata"]["uid"]}
    if controller:
        ref["controller"] = True
    if block:
        ref["blockOwnerDeletion"] = True
    return ref


def controller_of(obj):
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref
    return None


def is_controlled_by(obj, owner):
    ref = controller_of(obj)
    return bool(ref) and ref.get("uid") == owner["metadata"]["uid"]


def get_condition(obj, ctype):
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == ctype:
            return c
    return None


def condition_is(obj, ctype, status="True", reason=None):
    c = get_condition(obj, ctype)
    return bool(c) and c.get("status") == status and (reason is None or c.get("reason") == reason)


def set_condition(status, ctype, cstatus, reason="", message="", now=None, probe=False):
    """Set a condition in a status dict, keeping lastTransitionTime when the status does not change."""
    conds = status.setdefault("conditions", [])
    ts = rfc3339(now) if now else None
    for c in conds:
        if c.get("type") == ctype:
            if c.get("status") != cstatus and ts:
                c["lastTransitionTime"] = ts
            c["status"] = cstatus
            _set_or_drop(c, "reason", reason)
            _set_or_drop(c, "message", message)
            if probe and ts:
                c["lastProbeTime"] = c.get("lastProbeTime") or ts
            return status
    c = {"type": ctype, "status": cstatus}
    if ts:
        c["lastTransitionTime"] = ts
        if probe:
            c["lastProbeTime"] = ts
    _set_or_drop(c, "reason", reason)
    _set_or_drop(c, "message", message)
    conds.append(c)
    return status


def remove_condition(status, ctype):
    conds = [c for c in status.get("conditions") or () if c.get("type") != ctype]
    if conds:
        status["conditions"] = conds
    else:
        status.pop("conditions", None)


def _set_or_drop(d, key, value):
    if value:
        d[key] = value
    else:
        d.pop(key, None)


def user_name(user):
    return getattr(user, "name", None) or (user if isinstance(user, str) else "")


def service_account_user(namespace, name):
    """The user name and groups a ServiceAccount authenticates as."""
    return (f"system:serviceaccount:{namespace}:{name}",
            ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"))


def can(sim, user, verb, group, resource, subresource="", namespace="", name=""):
    """A SubjectAccessReview against the sim's RBAC: True when ``user`` may do it (always, without RBAC)."""
    from .. import rbac
    authz = getattr(sim, "authorizer", None)
    if authz is None:
        return True
    if isinstance(user, tuple):
        user = rbac.UserInfo(user[0], tuple(user[1]))
    elif isinstance(user, str):
        user = rbac.UserInfo(user, rbac.user_groups(user))
    attrs = rbac.Attributes(verb=verb, group=group, resource=resource, subresource=subresource,
                            namespace=namespace or "", name=name or "")
    return authz.allowed(user, attrs)


def is_quota_exceeded(err):
    """The test CDI's ErrQuotaExceeded and KubeVirt make on an API error: the quota plugin's Forbidden message."""
    return isinstance(err, ApiError) and err.code == 403 and "exceeded quota" in err.message


def webhook_denied(webhook, message, code=422, reason=""):
    """How the API server reports a validating/mutating webhook's refusal."""
    return ApiError(code, reason, f'admission webhook "{webhook}" denied the request: {message}')


class Reconciler:
    """A controller with a de-duplicated work queue.  Subclasses set ``watches`` (resource keys) and implement
    ``keys_for(event_type, resource, obj)`` (which work items an event touches) and ``sync(key, now)``."""

    name = "controller"
    component = "kubesim"
    watches = ()

    def __init__(self, sim):
        self.sim = sim
        self.store = sim.internal   # writes go through the documented internal writer
        self._qlock = threading.Lock()
        self._queue = set()
        self._timers = []
        self._timer_seq = 0
        self._subscribed = False
        from .events import recorder_for
        self.recorder = recorder_for(sim)

    def event(self, obj, etype, reason, message, now, component=None):
        return self.recorder.record(obj, etype, reason, message, now, component or self.component)

    # ---- wiring
    def start(self, subscribe=True):
        """Subscribe to store events (unless a shared hub feeds ``_observe``) and queue what already exists."""
        if subscribe and not self._subscribed:
            self.store.subscribe(self._observe)
            self._subscribed = True
        for rkey in self.watches:
            try:
                recs = self.store.all_records(rkey)
            except KeyError:
                continue
            for rec in recs:
                self._enqueue_all(self.keys_for("ADDED", rkey, rec.obj))

    def _observe(self, etype, rkey, obj):
        # Called inside the store lock: only queue, never touch the store here.
        if rkey in self.watches:
            self._enqueue_all(self.keys_for(etype, rkey, obj))
        self.observe(etype, rkey, obj)

    def observe(self, etype, rkey, obj):
        """Hook for controllers that keep indexes; runs inside the store lock."""

    def keys_for(self, etype, rkey, obj):
        m = obj.get("metadata") or {}
        return [(rkey, m.get("namespace", ""), m.get("name"))]

    def _enqueue_all(self, keys):
        with self._qlock:
            self._queue.update(k for k in keys if k)

    def enqueue(self, key):
        with self._qlock:
            self._queue.add(key)

    def requeue_after(self, key, seconds, now):
        due = now.timestamp() + max(0.0, float(seconds))
        with self._qlock:
            self._timer_seq += 1
            heapq.heappush(self._timers, (due, self._timer_seq, key))

    def next_due(self):
        """Simulated epoch seconds of the earliest timer, or None."""
        with self._qlock:
            return self._timers[0][0] if self._timers else None

    # ---- the Controller protocol
    def admit(self, op, resource, obj, old, user):
        return obj

    def reconcile(self, now):
        t = now.timestamp()
        with self._qlock:
            while self._timers and self._timers[0][0] <= t:
                self._queue.add(heapq.heappop(self._timers)[2])
            work = sorted(self._queue, key=repr)
            self._queue.clear()
        changed = False
        for key in work:
            try:
                changed |= bool(self.sync(key, now))
            except ApiError as e:
                if e.code in (404, 409):
                    # Someone else wrote first (or the object went away): look again on the next pass.
                    self.enqueue(key)
                    changed = True
                else:
                    raise
        return changed

    def sync(self, key, now):
        raise NotImplementedError

    # ---- store helpers
    def peek(self, resource, namespace, name):
        try:
            return self.store.peek(resource, namespace, name)
        except KeyError:
            return None

    def get(self, resource, namespace, name):
        try:
            return self.store.get(resource, namespace, name)
        except KeyError:
            return None

    def records(self, resource, namespace=None):
        try:
            return [r.obj for r in self.store.all_records(resource, namespace)]
        except KeyError:
            return []

    def served(self, resource):
        try:
            self.store.resolve(resource)
            return True
        except KeyError:
            return False

    def create_admitted(self, obj):
        """Create what a real controller creates through the API server: ResourceQuota admission applies to it
        (a CDI temporary claim counts against the source namespace's quota), so a full quota refuses it with the
        API server's 403 ``exceeded quota`` error, which the caller handles as its upstream counterpart does."""
        return self.store.create_admitted(obj)

    def update_status(self, obj, status):
        """Write ``status`` when it differs from what is stored; True if written."""
        return self.store.update_status(obj, status)

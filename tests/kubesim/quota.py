"""ResourceQuota: the admission check on create (and PVC growth) with the real Forbidden message, and the quota
controller that keeps ``status.used`` current."""

import fractions

from . import errors, quantity

# Legacy object-count names the quota system accepts besides count/<resource>.
_LEGACY_COUNTS = {"persistentvolumeclaims": "persistentvolumeclaims", "pods": "pods", "services": "services",
                  "secrets": "secrets", "configmaps": "configmaps", "resourcequotas": "resourcequotas"}
_SC_SUFFIX = ".storageclass.storage.k8s.io/"


def _pvc_storage(pvc):
    req = (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    try:
        return quantity.parse(req) if req is not None else fractions.Fraction(0)
    except quantity.QuantityError:
        return fractions.Fraction(0)


def _usage_of(t, obj, hard_key):
    """What one object contributes to ``hard_key`` (0 when it does not count)."""
    if hard_key.startswith("count/"):
        return 1 if hard_key[len("count/"):] == t.key else 0
    if _LEGACY_COUNTS.get(hard_key) == t.key:
        return 1
    if t.key != "persistentvolumeclaims":
        return 0
    sc = (obj.get("spec") or {}).get("storageClassName") or ""
    if hard_key == "requests.storage":
        return _pvc_storage(obj)
    if _SC_SUFFIX in hard_key:
        cls, _, what = hard_key.partition(_SC_SUFFIX)
        if cls != sc:
            return 0
        if what == "requests.storage":
            return _pvc_storage(obj)
        if what == "persistentvolumeclaims":
            return 1
    return 0


def _resource_for(registry, hard_key):
    if hard_key.startswith("count/"):
        try:
            return registry.resolve(hard_key[len("count/"):])
        except KeyError:
            return None
    if hard_key in _LEGACY_COUNTS:
        return registry.resolve(_LEGACY_COUNTS[hard_key])
    if hard_key == "requests.storage" or _SC_SUFFIX in hard_key:
        return registry.resolve("persistentvolumeclaims")
    return None


def _fmt(key, value):
    if "storage" in key:
        return quantity.format_quantity(value)
    return str(int(value)) if fractions.Fraction(value).denominator == 1 else quantity.format_quantity(value)


class Quota:
    def __init__(self, sim):
        self.sim = sim
        self.store = sim.store
        self._last_writes = -1

    def usage(self, namespace, hard_keys, exclude=None):
        used = {}
        for key in hard_keys:
            t = _resource_for(self.sim.registry, key)
            total = fractions.Fraction(0)
            if t is not None:
                for rec in self.store.all_records(t.key, namespace):
                    meta = rec.obj["metadata"]
                    if exclude and (t.key, meta["name"]) == exclude:
                        continue
                    total += _usage_of(t, rec.obj, key)
            used[key] = total
        return used

    def admit(self, t, namespace, obj, old):
        """Raise 403 when creating ``obj`` (or growing it from ``old``) exceeds a quota in its namespace."""
        if not t.namespaced or t.key == "resourcequotas" and old is not None:
            return
        with self.store.lock:
            quotas = self.store.all_records("resourcequotas", namespace)
            if not quotas:
                return
            for qrec in sorted(quotas, key=lambda r: r.obj["metadata"]["name"]):
                hard = ((qrec.obj.get("spec") or {}).get("hard") or {})
                requested = {}
                for key in hard:
                    delta = _usage_of(t, obj, key) - (_usage_of(t, old, key) if old is not None else 0)
                    if delta > 0:
                        requested[key] = delta
                if not requested:
                    continue
                used = self.usage(namespace, list(requested),
                                  exclude=(t.key, obj["metadata"].get("name")) if old is not None else None)
                if old is not None:
                    for key in requested:
                        used[key] += _usage_of(t, old, key)
                over = [k for k in sorted(requested) if used[k] + requested[k] > quantity.parse(hard[k])]
                if over:
                    req = ",".join(f"{k}={_fmt(k, requested[k])}" for k in over)
                    use = ",".join(f"{k}={_fmt(k, used[k])}" for k in over)
                    lim = ",".join(f"{k}={hard[k]}" for k in over)
                    raise errors.forbidden(t.plural, t.group, obj["metadata"].get("name", ""),
                                           f"exceeded quota: {qrec.obj['metadata']['name']}, requested: {req}, "
                                           f"used: {use}, limited: {lim}")


class QuotaController:
    """Recomputes every ResourceQuota's status (hard and used) when anything was written."""

    def __init__(self, sim):
        self.sim = sim
        self.store = sim.internal
        self._last_writes = -1

    def admit(self, op, resource, obj, old, user):
        return obj

    def reconcile(self, now):
        if self.store.writes == self._last_writes:
            return False
        changed = False
        for qrec in self.store.all_records("resourcequotas"):
            q = qrec.obj
            hard = (q.get("spec") or {}).get("hard") or {}
            ns = q["metadata"]["namespace"]
            used = self.sim.quota.usage(ns, list(hard))
            status = {"hard": dict(hard), "used": {k: _fmt(k, v) for k, v in used.items()}}
            if q.get("status") != status:
                self.store.patch("resourcequotas", ns, q["metadata"]["name"], {"status": status},
                                 subresource="status")
                changed = True
        self._last_writes = self.store.writes
        return changed

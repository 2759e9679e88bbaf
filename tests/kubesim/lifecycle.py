"""What kube-controller-manager does for the generic API: the garbage collector (ownerReferences, foreground and
orphan deletion) and the namespace controller (the objects every namespace gets; emptying a terminating namespace,
then removing it)."""

from . import tls
from .errors import ApiError
from .rbac import UserInfo


class GarbageCollector:
    """Deletes dependents whose owners are all gone, drops dangling references when some owner remains, and
    finishes foreground and orphan deletions.  An ownerReference is looked up in the dependent's own namespace (or
    cluster scope), so a reference to an owner in another namespace never resolves, as in the real GC."""

    def __init__(self, sim):
        self.sim = sim
        self.store = sim.internal
        self._finalizing = set()

    def admit(self, op, resource, obj, old, user):
        return obj

    def reconcile(self, now):
        changed = False
        store = self.store
        with store.lock:
            work = list(store.gc_queue)
            store.gc_queue.clear()
        for kind, item in work:
            if kind == "owner-gone":
                for dep in sorted(store.dependents_of(item)):
                    changed |= self._check_dependent(dep)
                # An owner waiting in foreground deletion may now be free.
                changed |= self._recheck_finalizing()
            elif kind == "dependent":
                changed |= self._check_dependent(item)
            elif kind == "owner-finalizing":
                self._finalizing.add(item)
        changed |= self._recheck_finalizing()
        return changed

    def _owner_state(self, dep_type, dep_ns, ref):
        """'solid', 'waiting' (owner in foreground deletion, blocking) or 'dangling'."""
        reg = self.sim.registry
        otype = reg.by_api_version_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
        if otype is None:
            return "unknown"
        if otype.namespaced and not dep_type.namespaced:
            return "dangling"
        orec = self.store.get_record(otype, dep_ns if otype.namespaced else "", ref.get("name", ""))
        if orec is None or orec.obj["metadata"].get("uid") != ref.get("uid"):
            return "dangling"
        ometa = orec.obj["metadata"]
        if ometa.get("deletionTimestamp") and "foregroundDeletion" in (ometa.get("finalizers") or ()):
            return "waiting"
        return "solid"

    def _check_dependent(self, key):
        rkey, ns, name = key
        store = self.store
        t = self.sim.registry.resolve(rkey)
        rec = store.get_record(t, ns, name)
        if rec is None:
            return False
        meta = rec.obj["metadata"]
        refs = meta.get("ownerReferences") or []
        if not refs:
            return False
        states = [self._owner_state(t, ns, r) for r in refs]
        if "solid" in states or "unknown" in states:
            dangling = [r for r, s in zip(refs, states) if s == "dangling"]
            if dangling and not meta.get("deletionTimestamp"):
                keep = [r for r, s in zip(refs, states) if s != "dangling"]
                store.patch(rkey, ns, name, {"metadata": {"ownerReferences": keep}})
                return True
            return False
        if meta.get("deletionTimestamp"):
            return False
        propagation = "Foreground" if "waiting" in states else "Background"
        store.delete(rkey, ns, name, propagation=propagation)
        return True

    def _recheck_finalizing(self):
        changed = False
        store = self.store
        for key in sorted(self._finalizing):
            rkey, ns, name = key
            t = self.sim.registry.resolve(rkey)
            rec = store.get_record(t, ns, name)
            if rec is None or not rec.obj["metadata"].get("deletionTimestamp"):
                self._finalizing.discard(key)
                continue
            meta = rec.obj["metadata"]
            fins = meta.get("finalizers") or ()
            deps = sorted(store.dependents_of(meta["uid"]))
            if "orphan" in fins:
                for dkey in deps:
                    drkey, dns, dname = dkey
                    drec = store.get_record(self.sim.registry.resolve(drkey), dns, dname)
                    if drec is None:
                        continue
                    keep = [r for r in drec.obj["metadata"].get("ownerReferences") or [] if r.get("uid") != meta["uid"]]
                    store.patch(drkey, dns, dname, {"metadata": {"ownerReferences": keep or None}})
                store.remove_finalizer(rkey, ns, name, "orphan")
                self._finalizing.discard(key)
                changed = True
            elif "foregroundDeletion" in fins:
                blocking = 0
                for dkey in deps:
                    drkey, dns, dname = dkey
                    dt = self.sim.registry.resolve(drkey)
                    drec = store.get_record(dt, dns, dname)
                    if drec is None:
                        continue
                    blocking += 1
                    if not drec.obj["metadata"].get("deletionTimestamp"):
                        # Dependents of a foreground deletion are themselves deleted in the foreground.
                        store.delete(drkey, dns, dname, propagation="Foreground")
                        changed = True
                if not blocking:
                    store.remove_finalizer(rkey, ns, name, "foregroundDeletion")
                    self._finalizing.discard(key)
                    changed = True
            else:
                self._finalizing.discard(key)
        return changed


ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
_ROOT_CA_DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
                        "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
                        "guaranteed across distributions of Kubernetes clusters.")
_SA_CONTROLLER = UserInfo("system:serviceaccount:kube-system:service-account-controller",
                          ("system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"))
_CA_PUBLISHER = UserInfo("system:serviceaccount:kube-system:root-ca-cert-publisher",
                         ("system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"))


class NamespaceController:
    """What kube-controller-manager does per namespace: the service-account controller's ``default``
    ServiceAccount and the root-CA publisher's ``kube-root-ca.crt`` ConfigMap in every active namespace (created
    through the API's admission, so ResourceQuota counts and may refuse them, recreated when deleted); and emptying a
    terminating namespace (its objects go through normal deletion, so their finalizers hold it), then removing it."""

    def __init__(self, sim):
        self.sim = sim
        self.store = sim.internal
        self._refused = {}      # (namespace, resource) -> store revision at which quota refused it

    def admit(self, op, resource, obj, old, user):
        return obj

    def _ensure(self, ns, resource, obj, user):
        t = self.sim.registry.resolve(resource)
        if self.store.get_record(t, ns, obj["metadata"]["name"]) is not None:
            return False
        rv = self.store.resource_version
        if self._refused.get((ns, resource)) == rv:
            return False            # nothing changed since quota refused it: retry on the next change
        try:
            self.sim.pipeline.create(t, ns, obj, user, manager="kube-controller-manager")
        except ApiError:
            self._refused[(ns, resource)] = self.store.resource_version
            return False
        self._refused.pop((ns, resource), None)
        return True

    def _populate(self, ns):
        changed = self._ensure(ns, "serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                                                        "metadata": {"name": "default"}}, _SA_CONTROLLER)
        ca = tls.credentials()[0].decode()
        changed |= self._ensure(ns, "configmaps", {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": ROOT_CA_CONFIGMAP, "annotations": {"kubernetes.io/description": _ROOT_CA_DESCRIPTION}},
            "data": {"ca.crt": ca}}, _CA_PUBLISHER)
        return changed

    def reconcile(self, now):
        store = self.store
        changed = False
        for rec in store.all_records("namespaces"):
            if not rec.obj["metadata"].get("deletionTimestamp"):
                changed |= self._populate(rec.obj["metadata"]["name"])
        terminating = [r.obj["metadata"]["name"] for r in store.all_records("namespaces")
                       if r.obj["metadata"].get("deletionTimestamp")]
        for ns in terminating:
            remaining = 0
            for t in store.namespaced_types():
                for rec in store.all_records(t.key, ns):
                    remaining += 1
                    if not rec.obj["metadata"].get("deletionTimestamp"):
                        store.delete(t.key, ns, rec.obj["metadata"]["name"])
                        changed = True
            if not remaining:
                store.finalize_namespace(ns)
                changed = True
        return changed


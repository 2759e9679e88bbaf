"""The one door kubesim's own controllers (KubeVirt, CDI, storage, garbage collector, namespace and RBAC
aggregation controllers) write through when they do not go through the request pipeline (``api.Pipeline``).

What a write through here skips, and why:

- authentication and RBAC: the controllers are privileged in-process identities (their real counterparts hold
  ClusterRoles that allow these writes);
- decoding, defaulting and validation, CRD schema pruning: the controllers write objects they built or read from the
  store, already valid; a controller that creates a user-visible object whose validity matters uses the pipeline;
- admission: the controllers' own admission hooks (KubeMacPool, CDI's and KubeVirt's webhooks) and ResourceQuota,
  except ``create_admitted``, which applies quota as the API server does to a controller's create;
- managedFields: status written here keeps the object's field managers as they were.

What it keeps (it is the store's write path): resourceVersions and stale-resourceVersion conflicts, status
subresource semantics, generation, finalizers and deletionTimestamp, ownerReference bookkeeping for the garbage
collector, watch events.  Reads go straight to the store (``get``, ``all_records``, ``lock``, ...), as an informer
cache would serve them."""


class InternalWriter:
    def __init__(self, sim):
        self._sim = sim
        self._store = sim.store

    def __getattr__(self, name):
        # Reads and helpers (get, get_record, all_records, lock, resolve, peek, ...) are the store's.
        return getattr(self._store, name)

    def type_of(self, obj):
        return self._store.type_of(obj)

    def create(self, obj, dry_run=False):
        return self._store.create(obj, dry_run=dry_run)

    def create_admitted(self, obj):
        """Create as a controller does through the API server: ResourceQuota admission applies (a CDI temporary
        claim counts against its namespace's quota), so a full quota refuses it with the 403 ``exceeded quota``."""
        with self._store.lock:
            quota = getattr(self._sim, "quota", None)
            if quota is not None:
                quota.admit(self._store.type_of(obj), (obj.get("metadata") or {}).get("namespace", ""), obj, None)
            return self._store.create(obj)

    def update(self, obj, subresource=None, dry_run=False, merged=False):
        return self._store.update(obj, subresource=subresource, dry_run=dry_run, merged=merged)

    def update_status(self, obj, status):
        """Write ``status`` (through the status subresource when the kind has one) when it differs; True if
        written."""
        if obj.get("status") == status:
            return False
        new = dict(obj)
        new["status"] = status
        self._store.update(new, subresource="status" if self._store.type_of(new).status else None)
        return True

    def patch(self, resource, namespace, name, patch, patch_type="merge", subresource=None, dry_run=False):
        return self._store.patch(resource, namespace, name, patch, patch_type, subresource, dry_run)

    def delete(self, resource, namespace, name, propagation="Background", preconditions=None, dry_run=False):
        return self._store.delete(resource, namespace, name, propagation=propagation, preconditions=preconditions,
                                  dry_run=dry_run)

    def remove_finalizer(self, resource, namespace, name, finalizer):
        return self._store.remove_finalizer(resource, namespace, name, finalizer)

    def finalize_namespace(self, name):
        return self._store.finalize_namespace(name)

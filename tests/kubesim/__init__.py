"""kubesim: an emulated Kubernetes cluster (API server + KubeVirt/CDI/storage controllers) on 127.0.0.1.

    with KubeSim(speed=50) as sim:
        sim.apply(builders.vm("vm1", "ns1"))
        subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig_path, "get", "vm", "-n", "ns1"])

Layout: ``store`` (objects, resourceVersions, finalizers, watch history), ``api`` (the write pipeline: validation,
admission, quota), ``server`` + ``watch`` (HTTP), ``rbac``, ``quota``, ``lifecycle`` (garbage collector, namespace
controller), ``faults``, ``requestlog``; the KubeVirt/CDI/storage controllers live in ``controllers``.
"""

import base64
import hashlib
import os
import tempfile
import threading
import time

import yaml

from . import tls
from .api import Pipeline
from .clock import SimClock
from .errors import ApiError
from .faults import Faults
from .internal import InternalWriter
from .lifecycle import GarbageCollector, NamespaceController
from .quota import Quota, QuotaController
from .rbac import ADMIN, Attributes, Authorizer, ClusterRoleAggregator, UserInfo, default_cluster_roles, user_groups
from .requestlog import RequestLog
from .resources import Registry
from .store import Store

__all__ = ["KubeSim", "ApiError", "UserInfo"]

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class KubeSim:
    def __init__(self, served_groups=None, speed=1.0, seed=0, tls=True, kubemacpool="allow", history=10000,
                 bookmark_interval=1.0, controllers=True, tick=0.02, clock_start=None, unserved_resources=()):
        self.seed = seed
        self.tls = tls
        self.kubemacpool = kubemacpool
        self.bookmark_interval = bookmark_interval
        self.registry = Registry(served_groups, unserved_resources)
        self.clock = SimClock(speed, start=clock_start)  # clock_start: e.g. "now" for a demo read by humans
        self.store = Store(self.registry, self.clock, seed=seed, history=history)
        self.internal = InternalWriter(self)    # what controllers write through (internal.py says what it skips)
        self.requests = RequestLog()
        self.faults = Faults(seed)
        self.authorizer = Authorizer(self.store)
        self.pipeline = Pipeline(self)
        self.quota = Quota(self)
        self.controllers = []
        self._subresources = {}
        self._subresource_methods = {}
        self._tokens = {}
        self._streams = set()
        self._streams_lock = threading.Lock()
        self._reconcile_lock = threading.RLock()
        self._wake = threading.Event()
        self._tick = tick
        self.stopping = False
        self._server = None
        self._threads = []
        self._tmpdir = None
        self.port = None
        self.url = None
        self.kubeconfig_path = None
        self.admin_token = self.add_user("admin", ("system:masters",))
        self._bootstrap()
        self.add_controller(GarbageCollector(self))
        self.add_controller(NamespaceController(self))
        self.add_controller(QuotaController(self))
        self.add_controller(ClusterRoleAggregator(self))
        self.store.subscribe(lambda *_: self._wake.set())
        if controllers:
            self._install_domain_controllers()
        self.settle(timeout=5)

    # ------------------------------------------------------------------ setup
    def _bootstrap(self):
        store = self.store
        for ns in DEFAULT_NAMESPACES:
            self.pipeline.create(self.registry.resolve("namespaces"), None,
                                 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        roles, bindings = default_cluster_roles()
        for obj in roles + bindings:
            store.create(obj)

    def _install_domain_controllers(self):
        try:
            from .controllers import install_controllers
        except ImportError:
            return
        install_controllers(self)

    def add_controller(self, ctrl):
        """Register a controller: ``admit(op, resource, obj, old, user)`` and ``reconcile(now) -> bool``."""
        self.controllers.append(ctrl)

    def add_subresource(self, group, version, plural, name, handler, method="PUT"):
        """Serve ``<method> /apis/<group>/<version>/namespaces/<ns>/<plural>/<name>/<sub>`` (the only method that
        path accepts, as virt-api registers it) with ``handler(sim, namespace, name, body, user) -> (status_code,
        response_dict)``."""
        self._subresources[(group, version, plural, name)] = handler
        self._subresource_methods[(group, plural, name)] = method

    def subresource_method(self, group, plural, name):
        return self._subresource_methods.get((group, plural, name), "PUT")

    def subresource_handler(self, group, version, plural, name):
        h = self._subresources.get((group, version, plural, name))
        if h is None:
            h = next((fn for (g, _, p, n), fn in self._subresources.items() if (g, p, n) == (group, plural, name)),
                     None)
        return h

    # ------------------------------------------------------------------ users
    def add_user(self, name, groups=()):
        """A bearer token for user ``name`` (deterministic for the seed); service accounts get their groups."""
        token = "kubesim-" + hashlib.sha256(f"{self.seed}:{name}".encode()).hexdigest()[:32]
        self._tokens[token] = UserInfo(name, user_groups(name, groups))
        return token

    def user_for_token(self, token):
        return self._tokens.get(token)

    def user(self, name):
        """The UserInfo of a user added with ``add_user``."""
        for u in self._tokens.values():
            if u.name == name:
                return u
        return UserInfo(name, user_groups(name))

    def authorize(self, user, verb, group, resource, subresource="", namespace="", name=""):
        """RBAC decision for controllers (e.g. CDI's datavolumes/source check); ``user`` is a name or UserInfo."""
        if isinstance(user, str):
            user = self.user(user)
        return self.authorizer.allowed(user, Attributes(verb, group, resource, subresource or "", namespace or "",
                                                        name or ""))

    # ------------------------------------------------------------------ server
    def start(self, port=0):
        from .server import Server
        ctx = tls.server_context() if self.tls else None
        self._server = Server(self, ctx, port)
        self.port = self._server.server_address[1]
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"
        t = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                             name="kubesim-http", daemon=True)
        t.start()
        self._threads.append(t)
        c = threading.Thread(target=self._controller_loop, name="kubesim-controllers", daemon=True)
        c.start()
        self._threads.append(c)
        self._tmpdir = tempfile.mkdtemp(prefix="kubesim-")
        self.kubeconfig_path = self.write_kubeconfig(os.path.join(self._tmpdir, "kubeconfig"))
        return self

    def write_kubeconfig(self, path, user="admin", namespace=None, context="kubesim"):
        """Write a kubeconfig for ``user`` (added on the fly if unknown) and return its path."""
        token = next((tok for tok, u in self._tokens.items() if u.name == user), None) or self.add_user(user)
        cluster = {"server": self.url}
        if self.tls:
            cluster["certificate-authority-data"] = base64.b64encode(tls.credentials()[0]).decode()
        ctx = {"cluster": "kubesim", "user": user}
        ctx["namespace"] = namespace or "default"
        cfg = {"apiVersion": "v1", "kind": "Config", "current-context": context, "preferences": {},
               "clusters": [{"name": "kubesim", "cluster": cluster}],
               "contexts": [{"name": context, "context": ctx}],
               "users": [{"name": user, "user": {"token": token}}]}
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(cfg, f, sort_keys=False)
        os.chmod(path, 0o600)
        return path

    def register_stream(self, watcher):
        with self._streams_lock:
            self._streams.add(watcher)

    def unregister_stream(self, watcher):
        with self._streams_lock:
            self._streams.discard(watcher)

    def stop(self):
        self.stopping = True
        self._wake.set()
        self.store.close_all_watches()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []
        if self._tmpdir:
            for name in os.listdir(self._tmpdir):
                os.unlink(os.path.join(self._tmpdir, name))
            os.rmdir(self._tmpdir)
            self._tmpdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ controllers
    def reconcile_once(self):
        """One pass over every controller; True if any changed something."""
        changed = False
        with self._reconcile_lock:
            now = self.clock.now()
            for ctrl in list(self.controllers):
                try:
                    changed |= bool(ctrl.reconcile(now))
                except ApiError:
                    # A controller losing a race (conflict, not found) retries on its next pass, as real ones do.
                    changed = True
        return changed

    def settle(self, timeout=10.0):
        """Run the controllers until a pass changes nothing; False if still busy after ``timeout`` real seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.reconcile_once():
                return True
        return False

    def _controller_loop(self):
        while not self.stopping:
            self._wake.wait(self._tick)
            self._wake.clear()
            if self.stopping:
                break
            for _ in range(50):
                if not self.reconcile_once() or self.stopping:
                    break

    # ------------------------------------------------------------------ convenience for tests
    def _docs(self, objs):
        if isinstance(objs, str):
            docs = [d for d in yaml.safe_load_all(objs) if d]
        elif isinstance(objs, dict):
            docs = [objs]
        else:
            docs = list(objs)
        out = []
        for d in docs:
            if d.get("kind") == "List" or (d.get("kind", "").endswith("List") and "items" in d):
                out.extend(d.get("items") or [])
            else:
                out.append(d)
        return out

    def apply(self, objs):
        """Create or replace objects as cluster admin, through defaulting, validation and admission."""
        results = []
        for obj in self._docs(objs):
            t = self.registry.by_api_version_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
            if t is None:
                raise ApiError(404, "NotFound", f'no matches for kind "{obj.get("kind")}" in version '
                                                f'"{obj.get("apiVersion")}"')
            meta = obj.get("metadata") or {}
            ns = (meta.get("namespace") or "default") if t.namespaced else None
            version = obj["apiVersion"].rpartition("/")[2]
            existing = self.store.get_record(t, ns, meta.get("name", "")) if meta.get("name") else None
            if existing is None:
                result, _ = self.pipeline.create(t, ns, obj, ADMIN, version=version)
            else:
                body = dict(obj)
                body["metadata"] = dict(meta, resourceVersion=existing.obj["metadata"]["resourceVersion"])
                result, _ = self.pipeline.update(t, ns, meta["name"], body, ADMIN, version=version)
            results.append(result)
        self._wake.set()
        return results

    def get(self, resource, name, namespace=None):
        return self.store.get(resource, namespace, name)

    def list(self, resource, namespace=None, label_selector=None):
        return self.store.list(resource, namespace, label_selector)[0]

    def delete(self, resource, name, namespace=None, propagation=None):
        t = self.registry.resolve(resource)
        result = self.pipeline.delete(t, namespace if t.namespaced else None, name, ADMIN, propagation)
        self._wake.set()
        return result

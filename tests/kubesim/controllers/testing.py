"""Helpers for tests that drive the controllers: simulated-time stepping, raw HTTP calls to a started sim, RBAC."""

import base64
import json
import ssl
import urllib.error
import urllib.request

import yaml


def run_for(sim, seconds, step=5.0):
    """Advance simulated time by ``seconds`` in ``step``-second ticks, letting the controllers settle each tick."""
    sim.settle()
    elapsed = 0.0
    while elapsed < seconds:
        sim.clock.advance(step)
        elapsed += step
        sim.settle()


def run_until(sim, predicate, max_seconds=3600.0, step=5.0):
    """Advance simulated time until ``predicate()`` holds; returns the simulated seconds it took (or fails)."""
    sim.settle()
    elapsed = 0.0
    while not predicate():
        assert elapsed < max_seconds, f"condition not reached within {max_seconds} simulated seconds"
        sim.clock.advance(step)
        elapsed += step
        sim.settle()
    return elapsed


def http(sim, method, path, body=None, user="admin"):
    """(status, decoded JSON body) of a request to a started sim as ``user``."""
    cfg = yaml.safe_load(open(sim.kubeconfig_path, encoding="utf-8"))
    ctx = None
    if sim.url.startswith("https"):
        ca = base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
        ctx = ssl.create_default_context(cadata=ca)
    token = cfg["users"][0]["user"]["token"] if user == "admin" else sim.add_user(user)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(sim.url + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else {}


def vm_action(sim, namespace, name, action, body=None, user="admin"):
    return http(sim, "PUT", f"/apis/subresources.kubevirt.io/v1/namespaces/{namespace}/virtualmachines/{name}/"
                            f"{action}", body or {}, user)


def grant(sim, namespace, user, rules, name="grant"):
    """A Role with ``rules`` in ``namespace`` bound to ``user`` (a user name or ``system:serviceaccount:...``)."""
    if user.startswith("system:serviceaccount:"):
        _, _, sa_ns, sa = user.split(":")
        subject = {"kind": "ServiceAccount", "name": sa, "namespace": sa_ns}
    else:
        subject = {"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}
    sim.apply([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": name, "namespace": namespace}, "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": name, "namespace": namespace},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [subject]},
    ])


def event_reasons(sim, obj):
    from .events import events_for
    return [e["reason"] for e in events_for(sim.store, obj)]

"""Node port allocation as kube-apiserver does it (default --service-node-port-range 30000-32767).

A port given in the Service is taken as asked, or refused with 422 "provided port is already allocated" when another
Service holds it. A port left out is picked at random: kube-apiserver's port allocator
(pkg/registry/core/service/portallocator, allocator.go `calculateRangeOffset`; allocator/bitmap.go
`randomScanStrategyWithOffset`, ServiceNodePortStaticSubrange, on by default since v1.27) reserves the lowest
min(max(16, size/32), 128) ports of the range for ports users choose: it starts at a random port of the upper band
and scans forward (wrapping inside that band), and only when the upper band is full does the same in the lower band.
With the default range that is 86 ports, so a dynamically allocated port is in 30086-32767 while any is free there.
"""

import random
from typing import Iterable, Optional

from . import errors
from .errors import ApiError

RANGE_BASE = 30000
RANGE_SIZE = 2768   # 30000-32767


def static_band(size: int = RANGE_SIZE) -> int:
    """How many ports at the bottom of the range dynamic allocation leaves for ports users choose."""
    if size <= 16:
        return 0
    return min(max(16, size // 32), 128)


def allocate(used: Iterable[int], rng: random.Random, base: int = RANGE_BASE, size: int = RANGE_SIZE) -> Optional[int]:
    """A free port as the real allocator picks one, or None when the whole range is taken."""
    taken = {p - base for p in used if base <= p < base + size}
    offset = static_band(size)
    upper = size - offset
    start = rng.randrange(upper)
    for i in range(upper):
        at = offset + (start + i) % upper
        if at not in taken:
            return base + at
    if offset:
        start = rng.randrange(offset)
        for i in range(offset):
            at = (start + i) % offset
            if at not in taken:
                return base + at
    return None


def held(services) -> set:
    """Every node port the given Services hold: their ports' and their health-check node ports."""
    out = set()
    for svc in services:
        spec = svc.get("spec") or {}
        out.update(p["nodePort"] for p in spec.get("ports") or () if p.get("nodePort"))
        if spec.get("healthCheckNodePort"):
            out.add(spec["healthCheckNodePort"])
    return out


def _next(used: set, rng: random.Random, what: str) -> int:
    port = allocate(used, rng)
    if port is None:   # kube-apiserver: an InternalError, "range is full"
        raise ApiError(500, "InternalError", f"Internal error occurred: failed to allocate a {what}: range is full")
    return port


def assign(obj: dict, old_spec: dict, used: set, rng: random.Random) -> None:
    """Give a NodePort/LoadBalancer Service its node ports as kube-apiserver's allocators do (storage/alloc.go):
    a requested port must be free (422 on spec.ports[i].nodePort), a missing one is allocated. A LoadBalancer with
    externalTrafficPolicy Local also gets a health-check node port from the same range (`allocHealthCheckNodePort`:
    a requested one that is taken is a 500, "failed to allocate requested HealthCheck NodePort N: provided port is
    already allocated"); on update a Service that still needs one keeps its old one when the request leaves it out
    (`patchAllocatedValues`)."""
    spec = obj["spec"]
    used = set(used)
    _keep_allocated(spec, old_spec)
    for i, p in enumerate(spec.get("ports") or []):
        if p.get("nodePort") in used:
            raise errors.invalid("Service", "", obj["metadata"].get("name", ""),
                                 [(f"spec.ports[{i}].nodePort",
                                   f"Invalid value: {p['nodePort']}: provided port is already allocated")])
        if not p.get("nodePort"):
            p["nodePort"] = _next(used, rng, "nodePort")
        used.add(p["nodePort"])
    if spec.get("type") != "LoadBalancer" or spec.get("externalTrafficPolicy") != "Local":
        return
    if not spec.get("healthCheckNodePort") and old_spec.get("healthCheckNodePort") and \
            old_spec.get("type") == "LoadBalancer" and old_spec.get("externalTrafficPolicy") == "Local":
        spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]
    wanted = spec.get("healthCheckNodePort")
    if wanted in used:
        raise ApiError(500, "InternalError", f"Internal error occurred: failed to allocate requested HealthCheck "
                                             f"NodePort {wanted}: provided port is already allocated")
    if not wanted:
        spec["healthCheckNodePort"] = _next(used, rng, "HealthCheck NodePort 0")


def _keep_allocated(spec: dict, old_spec: dict) -> None:
    """An update that leaves a port's nodePort out keeps the port of the same name had, unless another port of the
    update asks for it (storage.go `patchAllocatedValues`)."""
    if old_spec.get("type") not in ("NodePort", "LoadBalancer"):
        return
    ports = spec.get("ports") or []
    asked = {p.get("nodePort") for p in ports if p.get("nodePort")}
    held = {p.get("nodePort") for p in old_spec.get("ports") or () if p.get("nodePort")}
    by_name = {p.get("name") or "": p.get("nodePort") for p in old_spec.get("ports") or ()}
    for p in ports:
        if not p.get("nodePort"):
            old = by_name.get(p.get("name") or "")
            if old and old not in (held & asked):
                p["nodePort"] = old

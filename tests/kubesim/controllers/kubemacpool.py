"""KubeMacPool: the ``mutatevirtualmachines.kubemacpool.io`` webhook that allocates MAC addresses to VM interfaces
from a cluster-wide pool, and the controllers that commit, release and watch them.

``mode="reject"`` is KubeMacPool <= v0.50 (a VM asking for a MAC that another VM holds is refused); ``"allow"`` is
>= v0.51 (accepted; running duplicates raise ``MACCollision`` Warning events on the VMIs).  A namespace labelled
``mutatevirtualmachines.kubemacpool.io=ignore`` is neither allocated from nor tracked.
"""

import threading

from .base import Reconciler, is_deleting, rfc3339_nano, webhook_denied

VM = "virtualmachines.kubevirt.io"
VMI = "virtualmachineinstances.kubevirt.io"
NS = "namespaces"
OPT_OUT_LABEL = "mutatevirtualmachines.kubemacpool.io"
TRANSACTION_ANN = "kubemacpool.io/transaction-timestamp"
WEBHOOK = "mutatevirtualmachines.kubemacpool.io"
PENDING_SECONDS = 30.0


def mac_to_int(mac):
    return int(mac.replace(":", "").replace("-", ""), 16)


def int_to_mac(n):
    h = f"{n:012x}"
    return ":".join(h[i:i + 2] for i in range(0, 12, 2))


def normalise(mac):
    """Lower-case colon form, or None when it is not a MAC address."""
    parts = mac.replace("-", ":").split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        return None
    try:
        return int_to_mac(int("".join(parts), 16))
    except ValueError:
        return None


def vm_interfaces(vm):
    spec = ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}
    return ((spec.get("domain") or {}).get("devices") or {}).get("interfaces") or []


class KubeMacPool(Reconciler):
    name = "kubemacpool"
    component = "kubemacpool"
    watches = (VM, VMI)

    def __init__(self, sim, mode="allow", range_start="02:00:00:00:00:00", range_end="02:FF:FF:FF:FF:FF"):
        super().__init__(sim)
        self.mode = mode
        self.start_int, self.end_int = mac_to_int(range_start), mac_to_int(range_end)
        self._lock = threading.Lock()
        self.pool = {}          # mac -> owner "vm/<ns>/<name>"
        self.pending = {}       # owner -> (expiry epoch seconds, [macs]) for webhook allocations not yet seen
        self._next = self.start_int
        self._collisions = {}   # (ns, vmi) -> frozenset of (mac, others) already reported

    # ---------------------------------------------------------------- namespaces
    def managed(self, namespace):
        ns = self.peek(NS, "", namespace)
        return ((ns or {}).get("metadata", {}).get("labels") or {}).get(OPT_OUT_LABEL) != "ignore"

    # ---------------------------------------------------------------- webhook
    def admit(self, op, resource, obj, old, user):
        rkey = getattr(resource, "key", resource)
        if rkey != VM or op not in ("CREATE", "UPDATE") or is_deleting(obj):
            return obj
        ns = obj["metadata"].get("namespace", "")
        if not self.managed(ns):
            return obj
        owner = f"vm/{ns}/{obj['metadata']['name']}"
        interfaces = vm_interfaces(obj)
        old_macs = {i.get("name"): normalise(i.get("macAddress", "")) for i in vm_interfaces(old or {})
                    if i.get("macAddress")}
        now = self.sim.clock.now()
        with self._lock:
            self._expire(now.timestamp())
            seen = set()
            allocated = []
            for iface in interfaces:
                mac = iface.get("macAddress")
                if mac:
                    norm = normalise(mac)
                    if norm is None:
                        raise webhook_denied(WEBHOOK, f"Failed to create virtual machine allocation error: Failed to "
                                                      f"allocate mac to the vm object: failed to parse mac address "
                                                      f"'{mac}'", code=500)
                    if norm in seen:
                        raise webhook_denied(WEBHOOK, "Failed to create virtual machine allocation error: Failed to "
                                                      "allocate mac to the vm object: failed to allocate requested "
                                                      "mac address", code=500)
                    seen.add(norm)
                    holder = self._holder(norm)
                    if holder and holder != owner and self.mode == "reject" and old_macs.get(iface.get("name")) != norm:
                        verb = "create" if op == "CREATE" else "update"
                        raise webhook_denied(WEBHOOK, f"Failed to {verb} virtual machine allocation error: Failed to "
                                                      f"allocate mac to the vm object: failed to allocate requested "
                                                      f"mac address", code=500)
                    allocated.append(norm)
                    continue
                if old_macs.get(iface.get("name")):
                    iface["macAddress"] = old_macs[iface["name"]]
                    allocated.append(old_macs[iface["name"]])
                    continue
                fresh = self._allocate(owner, seen)
                if fresh is None:
                    raise webhook_denied(WEBHOOK, "Failed to create virtual machine allocation error: Failed to "
                                                  "allocate mac to the vm object: the range is full", code=500)
                iface["macAddress"] = fresh
                seen.add(fresh)
                allocated.append(fresh)
            if interfaces:
                self.pending[owner] = (now.timestamp() + PENDING_SECONDS, allocated)
                obj["metadata"].setdefault("annotations", {})[TRANSACTION_ANN] = rfc3339_nano(now)
        return obj

    def _holder(self, mac):
        if mac in self.pool:
            return self.pool[mac]
        for owner, (_, macs) in self.pending.items():
            if mac in macs:
                return owner
        return None

    def _allocate(self, owner, taken):
        span = self.end_int - self.start_int + 1
        for i in range(span):
            n = self.start_int + (self._next - self.start_int + i) % span
            mac = int_to_mac(n)
            if mac in taken or self._holder(mac) is not None:
                continue
            self._next = n + 1
            return mac
        return None

    def _expire(self, t):
        for owner in [o for o, (exp, _) in self.pending.items() if exp < t]:
            del self.pending[owner]

    # ---------------------------------------------------------------- controllers
    def observe(self, etype, rkey, obj):
        if rkey != VM:
            return
        m = obj["metadata"]
        owner = f"vm/{m.get('namespace', '')}/{m['name']}"
        deleting = etype == "DELETED" or is_deleting(obj)
        if not deleting and not self.managed(m.get("namespace", "")):
            return
        with self._lock:
            if deleting:
                self.pending.pop(owner, None)
                for mac in [k for k, v in self.pool.items() if v == owner]:
                    del self.pool[mac]
                return
            # The VM controller commits what the persisted VM holds (and drops what it no longer holds).
            macs = {normalise(i["macAddress"]) for i in vm_interfaces(obj) if i.get("macAddress")}
            macs.discard(None)
            self.pending.pop(owner, None)
            for mac in [k for k, v in self.pool.items() if v == owner and k not in macs]:
                del self.pool[mac]
            for mac in macs:
                self.pool.setdefault(mac, owner)

    def keys_for(self, etype, rkey, obj):
        if rkey == VMI and etype != "DELETED":
            return [(VMI, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])]
        if rkey == VMI:
            self._collisions.pop((obj["metadata"].get("namespace", ""), obj["metadata"]["name"]), None)
        return []

    def start(self, subscribe=True):
        super().start(subscribe)
        # VMs that existed before the pool started are committed (KubeMacPool's startup scan).
        for vm in self.records(VM):
            self.observe("ADDED", VM, vm)

    def sync(self, key, now):
        if self.mode != "allow":
            return False
        _, ns, name = key
        vmi = self.peek(VMI, ns, name)
        if vmi is None or (vmi.get("status") or {}).get("phase") != "Running" or not self.managed(ns):
            self._collisions.pop((ns, name), None)
            return False
        changed = False
        mine = {normalise(i.get("mac", "")) for i in (vmi.get("status") or {}).get("interfaces") or ()
                if i.get("mac")}
        mine.discard(None)
        found = set()
        for other in self.records(VMI):
            om = other["metadata"]
            if om["uid"] == vmi["metadata"]["uid"] or (other.get("status") or {}).get("phase") != "Running":
                continue
            if not self.managed(om.get("namespace", "")):
                continue
            theirs = {normalise(i.get("mac", "")) for i in (other.get("status") or {}).get("interfaces") or ()}
            for mac in sorted(mine & theirs):
                found.add((mac, f"vmi/{om['namespace']}/{om['name']}", om["namespace"], om["name"]))
        report = frozenset(found)
        if report and self._collisions.get((ns, name)) != report:
            by_mac = {}
            for mac, ref, ons, oname in sorted(found):
                by_mac.setdefault(mac, []).append((ref, ons, oname))
            for mac, others in sorted(by_mac.items()):
                refs = sorted([f"vmi/{ns}/{name}"] + [r for r, _, _ in others])
                message = f"MAC {mac}: Collision between {', '.join(refs)}"
                self.event(vmi, "Warning", "MACCollision", message, now)
                for _, ons, oname in others:
                    other = self.peek(VMI, ons, oname)
                    if other is not None:
                        self.event(other, "Warning", "MACCollision", message, now)
            changed = True
        self._collisions[(ns, name)] = report
        return changed

"""Fault injection, deterministic from the seed: error statuses (500/503/429 with Retry-After), connection resets,
added latency and dropped watch streams, matched per verb and resource."""

import dataclasses
import random
import threading


@dataclasses.dataclass
class Rule:
    verb: str = None
    resource: str = None
    status: object = 503          # int, "reset" or "latency"
    rate: float = 1.0
    times: int = None             # stop after this many hits (None = forever)
    retry_after: int = None
    seconds: float = 0.0          # for "latency"
    hits: int = 0
    name: str = None              # only requests for the object of this name
    skip: int = 0                 # let this many matching requests through first
    seen: int = 0

    def matches(self, verb, group, resource, name=None):
        if self.verb is not None and self.verb != verb:
            return False
        if self.name is not None and self.name != name:
            return False
        if self.resource is not None:
            qualified = f"{resource}.{group}" if group else resource
            if self.resource not in (resource, qualified):
                return False
        return self.times is None or self.hits < self.times


@dataclasses.dataclass(frozen=True)
class Fault:
    kind: str                     # "status", "reset" or "latency"
    status: int = 0
    retry_after: int = None
    seconds: float = 0.0


class Faults:
    def __init__(self, seed=0):
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.rules = []
        self.watch_drop_rate = 0.0
        self.stalled_watches = set()  # resources whose watches never deliver (see stall_watches)
        self.clone_failures = {}      # name -> (at_percent, message), read by the CDI controller

    def inject(self, verb=None, resource=None, status=503, rate=1.0, times=None, retry_after=None, seconds=0.0,
               name=None, skip=0):
        """Answer matching requests with ``status`` (an HTTP code, "reset" or "latency" with ``seconds``); ``name``
        limits the rule to one object, ``skip`` lets that many matching requests through first."""
        rule = Rule(verb, resource, status, rate, times, retry_after, seconds, name=name, skip=skip)
        with self._lock:
            self.rules.append(rule)
        return rule

    def drop_watches(self, rate=1.0):
        """Each watch event has this chance of ending the stream abruptly (as a proxy or apiserver restart does)."""
        self.watch_drop_rate = rate

    def stall_watches(self, resource):
        """Watches of ``resource`` (plural, or plural.group) answer 200 and then never send anything nor end, as
        behind a proxy that buffers the stream or on a half-open connection: only a client-side read timeout
        notices."""
        with self._lock:
            self.stalled_watches.add(resource)

    def watch_stalls(self, group, resource):
        qualified = f"{resource}.{group}" if group else resource
        with self._lock:
            return bool({resource, qualified} & self.stalled_watches)

    def fail_clone(self, pvc_or_dv_name, at_percent=50, message="clone failed"):
        self.clone_failures[pvc_or_dv_name] = (at_percent, message)

    def clear(self):
        with self._lock:
            self.rules = []
            self.watch_drop_rate = 0.0
            self.stalled_watches = set()
            self.clone_failures = {}

    def pick(self, verb, group, resource, name=None):
        """The faults to apply to one request: any latency first, then at most one error or reset."""
        out = []
        with self._lock:
            for rule in self.rules:
                if not rule.matches(verb, group, resource, name):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                    continue
                rule.hits += 1
                if rule.status == "latency":
                    out.append(Fault("latency", seconds=rule.seconds))
                elif rule.status == "reset":
                    out.append(Fault("reset"))
                    break
                else:
                    out.append(Fault("status", status=int(rule.status), retry_after=rule.retry_after))
                    break
        return out

    def drop_watch_now(self):
        if not self.watch_drop_rate:
            return False
        with self._lock:
            return self._rng.random() < self.watch_drop_rate

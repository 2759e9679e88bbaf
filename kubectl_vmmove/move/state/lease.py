"""The journal's lease: at most one kubectl-vmmove process works on a move at a time.

`run`, `rollback` and `cleanup` hold the lease (key `lease` of the journal ConfigMap) while they change anything:
who holds it (user, host, pid, a random token, the command), when it was taken and last renewed, and for how long a
renewal counts. A heartbeat renews it every quarter of that time; every journal write the holder makes also checks
that the lease is still its own, so a takeover is noticed at once and the old holder stops. Renewals that keep
failing (API errors) are retried at each beat until three quarters of the duration passed without one; then the
holder stops as if taken over, before anyone else may take the lease.

Clock skew: timestamps in the lease are the holder's wall clock, and no two clients are assumed to agree. So:

- a holder on this host (same hostname) is judged by its pid: a process that no longer exists holds nothing, so a
  run killed with SIGKILL (or a closed terminal) is taken over at once by the next run on the same machine; when the
  pid exists, the lease is judged by time, on the one clock the two processes share;
- a holder on another host whose last renewal looks recent by our clock (less than the lease duration ago, either
  way) is live: the contender refuses at once, naming the holder;
- a lease that looks expired by our clock might only look so because our clock runs ahead; the contender watches the
  journal for half the lease duration (two renewals of a live holder) and takes the lease over only if it was not
  renewed in that time. A dead holder on another host thus costs at most that wait, never a comparison of clocks.

Every write of the lease is conditional (JSON patch `test` of the lease value seen, or the resourceVersion when
there is none), so two contenders never both win.
"""

import json
import logging
import os
import secrets
import socket
import threading
import time
from typing import Callable, Optional

from ...errors import UserError
from ...kube import errors as kerr
from ...kube import kinds
from . import journal as journalmod

log = logging.getLogger(__name__)

LEASE_KEY = "lease"
DURATION_SECONDS = 60.0
RENEWAL_ATTEMPTS = 3          # tries of one renewal; the heartbeat beats again well before the lease expires
LIVE, STALE, UNCERTAIN, FREE = "live", "stale", "uncertain", "free"


class LeaseHeld(UserError):
    """Another live process works on this move."""


class LeaseLost(UserError):
    """This process's lease was taken over; it must stop changing anything."""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True   # a process of another user exists under that pid
    return True


def parse_time(text: Optional[str]) -> Optional[float]:
    import datetime as _dt

    if not text:
        return None
    try:
        return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


def verdict(record: Optional[dict], now: float, host: str, alive: Callable[[int], bool] = pid_alive) -> str:
    """FREE, LIVE, STALE or UNCERTAIN (see the module docstring) for a lease record, as seen at wall time `now`."""
    if not record or not record.get("token"):
        return FREE
    duration = float(record.get("durationSeconds") or DURATION_SECONDS)
    renewed = parse_time(record.get("renewed"))
    age = None if renewed is None else now - renewed
    if record.get("host") == host:
        if not alive(record.get("pid") or -1):
            return STALE
        return LIVE if age is not None and age < duration else STALE
    if age is not None and -duration < age < duration:
        return LIVE
    return UNCERTAIN


def describe(record: dict) -> str:
    return (f'"{record.get("command", "run")}" of {record.get("user") or "an unknown user"} on host '
            f'{record.get("host", "?")} (pid {record.get("pid", "?")})')


def ago(record: dict, now: float) -> str:
    from ...printers import human_duration

    renewed = parse_time(record.get("renewed"))
    if renewed is None:
        return "never renewed"
    age = now - renewed
    return f"renewed {human_duration(age)} ago" if age >= 0 else "renewed just now"


def _text(obj: dict) -> Optional[str]:
    return (obj.get("data") or {}).get(LEASE_KEY)


def _record(text: Optional[str]) -> Optional[dict]:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


class Lease:
    """One process's claim on a move's journal. `acquire()` before changing anything, `release()` at the end."""

    def __init__(self, journal, command: str, user: str = "", duration: Optional[float] = None,
                 wall: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
                 host: Optional[str] = None, pid: Optional[int] = None, alive: Callable[[int], bool] = pid_alive,
                 notice: Optional[Callable[[str], None]] = None):
        self.journal = journal
        self.command = command
        self.user = user
        self.duration = float(DURATION_SECONDS if duration is None else duration)
        self.wall = wall
        self.monotonic = monotonic
        self.host = host or socket.gethostname()
        self.pid = os.getpid() if pid is None else pid
        self.alive = alive
        self.notice = notice or (lambda text: None)
        self.token = secrets.token_hex(8)
        self.held_text: Optional[str] = None
        self.lost_to: Optional[dict] = None
        self.lost_reason = ""          # set when the lease could not be renewed in time (no one took it over)
        self._renewed_at = 0.0         # self.monotonic() of the last write of the lease
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._on_lost: Optional[Callable[[dict], None]] = None

    # ------------------------------------------------------------------------------------------ records

    def _new_record(self, acquired: Optional[str] = None) -> str:
        now = journalmod.now_text(_utc(self.wall()))
        return json.dumps({"user": self.user, "host": self.host, "pid": self.pid, "token": self.token,
                           "command": self.command, "acquired": acquired or now, "renewed": now,
                           "durationSeconds": self.duration}, sort_keys=True)

    def _patch_if(self, expected: Optional[str], new: Optional[str], resource_version: Optional[str],
                  attempts: Optional[int] = None) -> bool:
        """Write the lease key only if it still holds `expected`; False when someone else changed it first.
        `attempts`: tries of the patch without the client's outage budget (renewals: the next beat tries again)."""
        jr = self.journal
        try:
            if expected is None:
                body = {"metadata": {"resourceVersion": resource_version}, "data": {LEASE_KEY: new}}
                obj = jr.api.patch(kinds.CONFIGMAP, jr.name, body, namespace=jr.namespace, attempts=attempts)
            else:
                ops = [{"op": "test", "path": f"/data/{LEASE_KEY}", "value": expected}]
                ops.append({"op": "replace", "path": f"/data/{LEASE_KEY}", "value": new} if new is not None else
                           {"op": "remove", "path": f"/data/{LEASE_KEY}"})
                obj = jr.api.patch(kinds.CONFIGMAP, jr.name, ops, namespace=jr.namespace, patch_type="json",
                                   attempts=attempts)
        except (kerr.Conflict, kerr.Invalid):
            # A retried request whose first attempt went through fails its own test: look before giving up.
            obj = jr.api.get(kinds.CONFIGMAP, jr.name, jr.namespace)
            jr.adopt(obj)
            return _text(obj) == new
        jr.adopt(obj)
        return True

    # ------------------------------------------------------------------------------------------ acquiring

    def acquire(self, force: bool = False) -> None:
        """Take the lease, or raise LeaseHeld naming the live holder. A stale lease is taken over; `force` takes
        a live one too (its holder stops at its next journal write)."""
        jr = self.journal
        for _ in range(20):
            obj = jr.api.get(kinds.CONFIGMAP, jr.name, jr.namespace)
            jr.adopt(obj)
            text = _text(obj)
            record = _record(text)
            state = verdict(record, self.wall(), self.host, self.alive)
            if record and record.get("token") == self.token:
                state = FREE
            if record is not None:      # else FREE
                if state == LIVE and not force:
                    raise self._held(record)
                if state == UNCERTAIN and not force:
                    self.notice(f"The lease of move {jr.move_id} held by {describe(record)} looks expired "
                                f"({ago(record, self.wall())}); watching for {self.duration / 2:g}s whether it is "
                                "still renewed before taking it over.")
                    if self._renewed_while_watching(text):
                        continue
                if state in (STALE, UNCERTAIN) or (state == LIVE and force):
                    self.notice(f"Taking over the lease of move {jr.move_id} from {describe(record)} "
                                f"({ago(record, self.wall())}).")
            new = self._new_record()
            if self._patch_if(text if text else None, new, obj["metadata"].get("resourceVersion")):
                with self._lock:
                    self.held_text = new
                    self._renewed_at = self.monotonic()
                jr.lease_token = self.token
                jr.on_lease_change = self._seen
                # The parts of a split journal refuse the writes of the previous holder from now on.
                jr.fence(self.token)
                return
        raise UserError(f"could not take the lease of move {jr.move_id}: it keeps changing; is another "
                        "kubectl-vmmove starting on the same move? Retry when it is done")

    def _held(self, record: dict) -> LeaseHeld:
        move_id = self.journal.move_id
        now = self.wall()
        renewed = parse_time(record.get("renewed"))
        duration = float(record.get("durationSeconds") or DURATION_SECONDS)
        left = "" if renewed is None else \
            f"wait {max(1, int(renewed + duration - now + 0.999))}s for its lease to expire, or "
        return LeaseHeld(f"move {move_id} is being worked on by {describe(record)} since {record.get('acquired')} "
                         f"(lease {ago(record, now)}); follow it with 'kubectl vmmove status {move_id} --watch'. "
                         f"If that process is gone, {left}take the move over with --force-takeover")

    def _renewed_while_watching(self, text: Optional[str]) -> bool:
        from ...kube.wait import WaitTimeout, wait_for

        jr = self.journal
        try:
            wait_for(jr.api, kinds.CONFIGMAP, jr.name, jr.namespace, lambda o: o is None or _text(o) != text,
                     self.duration / 2, what="renew its lease", clock=self.monotonic)
        except WaitTimeout:
            return False
        return True

    # ------------------------------------------------------------------------------------------ holding

    def _seen(self, obj: dict) -> None:
        """Called with every journal object this process reads or writes: a changed token means a takeover."""
        record = _record(_text(obj))
        with self._lock:
            if self.held_text is None or self.lost_to is not None:
                return
            if record is not None and record.get("token") == self.token:
                return
            self.lost_to = record or {}
            on_lost = self._on_lost
        if on_lost is not None:
            on_lost(self.lost_to)

    def renew(self) -> bool:
        """Renew the lease; False when it is no longer ours."""
        with self._lock:
            held = self.held_text
            if held is None or self.lost_to is not None:
                return False
        acquired = (_record(held) or {}).get("acquired")
        new = self._new_record(acquired)
        # A few quick tries only: a renewal stuck in the client's outage budget (minutes) would outlive the lease.
        if self._patch_if(held, new, None, attempts=RENEWAL_ATTEMPTS):
            with self._lock:
                self.held_text = new
                self._renewed_at = self.monotonic()
            return True
        current = _text(self.journal.obj)       # _patch_if read the journal again
        if (_record(current) or {}).get("token") == self.token:
            # Still ours, in other words (a renewal retried after its first attempt went through): the next beat
            # renews from what is there now.
            with self._lock:
                self.held_text = current
            return True
        self._seen(self.journal.obj)
        return False

    def _give_up(self, reason: str) -> None:
        """The lease could not be renewed and is about to expire: stop, as if taken over, before anyone may."""
        with self._lock:
            if self.lost_to is not None:
                return
            self.lost_to, self.lost_reason = {}, reason
            on_lost = self._on_lost
        if on_lost is not None:
            on_lost({})

    def _beat_once(self) -> bool:
        """One renewal; False once the lease is lost for good (the holder was told through `on_lost`)."""
        try:
            if self.renew():
                return True
        except Exception as err:    # noqa: BLE001 - an API error, or one of the journal's: try again next beat
            # Before three quarters of the lease duration passed without a renewal, the next beats try again; after
            # that, another process could take the lease any moment, so this one stops.
            log.info("could not renew the lease of move %s: %s", self.journal.move_id, err)
            unrenewed = self.monotonic() - self._renewed_at
            if unrenewed < self.duration * 0.75:
                return True
            from ...printers import human_duration

            self._give_up(f"it could not be renewed for {human_duration(unrenewed)}: {err}")
            return False
        if self.lost_to is None and not self._stop.is_set():    # (released meanwhile: nothing was lost)
            self._give_up("its renewal was refused")
        return False

    def start_heartbeat(self, on_lost: Optional[Callable[[dict], None]] = None) -> None:
        """Renew every quarter of the duration until `release`; `on_lost` is called (from the heartbeat thread)
        when the lease is lost: taken over, or not renewable before it would expire."""
        self._on_lost = on_lost
        interval = self.duration / 4

        def beat():
            while not self._stop.wait(interval):
                if not self._beat_once():
                    return

        self._thread = threading.Thread(target=beat, name="vmmove-lease", daemon=True)
        self._thread.start()

    def lost_message(self) -> str:
        jr = self.journal
        if self.lost_reason:
            return (f"this {self.command} of move {jr.move_id} lost its lease ({self.lost_reason}) and stopped "
                    "changing anything, so that another kubectl-vmmove may take the move over safely. Run it again "
                    f"when the cluster answers; 'kubectl vmmove status {jr.move_id}' shows where the move is")
        return (f"move {jr.move_id} was taken over by {describe(self.lost_to or {})}; this {self.command} stopped "
                f"changing anything. Follow the move with 'kubectl vmmove status {jr.move_id} --watch'")

    def release(self) -> None:
        """Stop the heartbeat and give the lease up (unless someone took it over meanwhile)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with self._lock:
            held, self.held_text = self.held_text, None
        self.journal.on_lease_change = None
        if held is None or self.lost_to is not None:
            return
        try:
            self._patch_if(held, None, None)
        except kerr.ApiError as err:
            log.info("could not release the lease of move %s: %s", self.journal.move_id, err)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def _utc(ts: float):
    import datetime as _dt

    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)


def holder(jr) -> Optional[dict]:
    """The lease record of a journal, for `status` (None when nobody holds it)."""
    return _record(_text(jr.obj))

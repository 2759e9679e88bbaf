"""Simulated time: controllers and timestamps read ``now()``; tests move it with ``advance()``."""

import datetime
import threading
import time


class SimClock:
    """Wall time that runs ``speed`` times faster than real time, plus whatever ``advance`` added.

    Starts at a fixed instant so that results for a given seed are reproducible.
    """

    EPOCH = datetime.datetime(2025, 1, 1, 0, 0, 0, tzinfo=datetime.timezone.utc)

    def __init__(self, speed=1.0, start=None):
        self._lock = threading.Lock()
        self._base = start or self.EPOCH
        self._real0 = time.monotonic()
        self._offset = 0.0
        self._speed = float(speed)

    @property
    def speed(self):
        return self._speed

    @speed.setter
    def speed(self, value):
        with self._lock:
            # Re-anchor so that changing the speed does not make time jump.
            self._offset = self._elapsed_locked()
            self._real0 = time.monotonic()
            self._speed = float(value)

    def _elapsed_locked(self):
        return self._offset + (time.monotonic() - self._real0) * self._speed

    def elapsed(self):
        """Simulated seconds since the clock started."""
        with self._lock:
            return self._elapsed_locked()

    def now(self):
        return self._base + datetime.timedelta(seconds=self.elapsed())

    def advance(self, seconds):
        with self._lock:
            self._offset += float(seconds)

    def timestamp(self):
        """RFC 3339 with second precision, as metadata timestamps are."""
        return rfc3339(self.now())


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)

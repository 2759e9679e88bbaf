"""Progress while work runs: a live table redrawn in place on a terminal, one plain line per change otherwise.

Callers report state with `update(key, **fields)` from any thread; the reporter decides how to show it. Plain mode
prints a line when a row's visible state changes (not for every progress tick), so logs of CI jobs stay short, and
while a row shows progress (a copy) at least every `plain_every` seconds, so a long copy is seen to go on (or to
stall); `tick()`, called now and then by the caller's loop, prints those lines when no update came.
"""

import sys
import threading
import time
from typing import Callable, Dict, List, Optional

from .printers import Column, Table, human_duration, render_table

# Fields that change with every progress report: not a change of state worth a plain line of their own.
PROGRESS_FIELDS = ("PROGRESS", "COPIED", "RATE", "ELAPSED", "ETA")


class Progress:
    def __init__(self, columns: List[str], stream=None, live: Optional[bool] = None,
                 clock: Callable[[], float] = time.monotonic, min_redraw: float = 0.2,
                 plain_keys: Optional[List[str]] = None, wall: Callable[[], float] = time.time,
                 plain_every: float = 30.0):
        self.columns = columns
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.clock = clock
        self.min_redraw = min_redraw
        # Which fields count as a "state change" worth a plain line (progress % alone does not).
        self.plain_keys = plain_keys or [c for c in columns if c not in PROGRESS_FIELDS]
        self.wall = wall
        self.plain_every = plain_every
        self._last_line_at: Dict[str, float] = {}
        self._rows: Dict[str, Dict[str, str]] = {}
        self._order: List[str] = []
        self._lock = threading.Lock()
        self._drawn_lines = 0
        self._last_draw = 0.0
        self._last_plain: Dict[str, tuple] = {}

    def update(self, key: str, at: Optional[float] = None, **fields) -> None:
        """Set fields of row `key`; `at`: when the change happened (wall time), to stamp its plain line with."""
        with self._lock:
            if key not in self._rows:
                self._rows[key] = {}
                self._order.append(key)
            row = self._rows[key]
            row.update({k.upper(): "" if v is None else str(v) for k, v in fields.items()})
            if self.live:
                now = self.clock()
                if now - self._last_draw >= self.min_redraw:
                    self._draw()
                    self._last_draw = now
            else:
                state = tuple(row.get(k, "") for k in self.plain_keys)
                if self._last_plain.get(key) != state or self._due(key):
                    self._last_plain[key] = state
                    self._line(key, at)

    def tick(self) -> None:
        """Plain mode: a line for each row in the middle of a copy that has had none for `plain_every` seconds."""
        if self.live:
            return
        with self._lock:
            for key in self._order:
                if self._due(key):
                    self._line(key)

    def _due(self, key: str) -> bool:
        progress = self._rows[key].get("PROGRESS", "")
        active = progress not in ("", "-", "100%")
        return active and self.clock() - self._last_line_at.get(key, float("-inf")) >= self.plain_every

    def _line(self, key: str, at: Optional[float] = None) -> None:
        row = self._rows[key]
        self._last_line_at[key] = self.clock()
        shown = "  ".join(f"{c.lower()}={row[c]}" for c in self.columns if row.get(c))
        stamp = time.strftime("%H:%M:%S", time.localtime(self.wall() if at is None else at))
        self.stream.write(f"{stamp} {shown}\n")
        self.stream.flush()

    def _table(self) -> str:
        table = Table([Column(c) for c in self.columns])
        for key in self._order:
            row = self._rows[key]
            table.rows.append([row.get(c, "") or "-" for c in self.columns])
        return render_table(table)

    def _draw(self) -> None:
        text = self._table()
        if self._drawn_lines:
            self.stream.write(f"\x1b[{self._drawn_lines}F\x1b[J")  # back to the table's first line, clear below
        self.stream.write(text)
        self.stream.flush()
        self._drawn_lines = text.count("\n")

    def finish(self) -> None:
        """Draw the final state once more so the last update is never lost to the redraw throttle."""
        with self._lock:
            if self.live and self._rows:
                self._draw()


def eta(done: float, total: float, elapsed: float) -> str:
    """Remaining time from the rate so far; '-' until there is a rate to speak of."""
    if done <= 0 or total <= 0 or elapsed <= 0 or done >= total:
        return "-"
    return human_duration(elapsed * (total - done) / done)

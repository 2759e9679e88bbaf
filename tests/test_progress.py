"""Progress output: a redrawn table on terminals, one line per state change in logs."""

import io

from kubectl_vmmove.progress import Progress, eta


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_plain_mode_prints_one_line_per_state_change_not_per_tick():
    out = io.StringIO()
    p = Progress(["VM", "STEP", "PROGRESS"], stream=out, live=False)
    p.update("web", vm="web", step="stopping")
    p.update("web", vm="web", step="copying disks", progress="1%")
    p.update("web", vm="web", step="copying disks", progress="50%")
    p.update("web", vm="web", step="copying disks", progress="99%")
    p.update("web", vm="web", step="starting", progress="100%")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert "vm=web  step=stopping" in lines[0]
    assert "step=copying disks  progress=1%" in lines[1]
    assert "step=starting" in lines[2]
    assert "\x1b[" not in out.getvalue()


def test_live_mode_redraws_the_table_in_place():
    out, clock = io.StringIO(), Clock()
    p = Progress(["VM", "STEP"], stream=out, live=True, clock=clock, min_redraw=1.0)
    clock.now = 5
    p.update("a", vm="a", step="stopping")
    p.update("b", vm="b", step="waiting")  # throttled: same instant
    clock.now = 10
    p.update("a", vm="a", step="copying")
    p.finish()
    text = out.getvalue()
    assert text.count("\x1b[J") == 2  # two redraws after the first draw, each moving up over the old table
    final = text.rsplit("\x1b[J", 1)[1]
    assert final.splitlines() == ["VM    STEP", "a     copying", "b     waiting"]


def test_eta_from_rate():
    assert eta(25, 100, 30) == "90s"
    assert eta(0, 100, 30) == "-"
    assert eta(100, 100, 30) == "-"

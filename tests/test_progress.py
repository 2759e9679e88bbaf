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


def stamped_lines(out):
    """(seconds since the start, fields) of each plain line; lines are stamped HH:MM:SS by the injected wall clock."""
    rows = []
    for line in out.getvalue().splitlines():
        stamp, rest = line.split(" ", 1)
        h, m, s = (int(x) for x in stamp.split(":"))
        rows.append((h * 3600 + m * 60 + s, dict(part.split("=", 1) for part in rest.split("  ") if "=" in part)))
    return rows


def plain_run(clock):
    from kubectl_vmmove.move.context import RunContext
    from kubectl_vmmove.move.execution.executor import Executor

    out = io.StringIO()
    progress = Progress(["VM", "STEP", "PROGRESS", "COPIED", "RATE", "ELAPSED", "ETA"], stream=out, live=False,
                        clock=clock, wall=lambda: 86400 * 365 + clock())
    executor = Executor(RunContext(api=None, plan={}), progress=progress, clock=clock)
    return out, progress, executor


def test_without_a_terminal_a_long_copy_prints_a_line_at_least_every_30s_with_bytes_rate_and_eta():
    clock = Clock()
    out, progress, executor = plain_run(clock)
    gib, mib = 2 ** 30, 2 ** 20
    executor.report("web", step="clone 1 disk(s)")
    # The copy starts after 20s of scheduling, then goes at 40 MiB/s for 10 GiB; CDI reports every 7s, and the run
    # looks at its progress display every second (the executor's loop does, every half second).
    for t in range(20, 300):
        clock.now = t
        if (t - 20) % 7 == 0:
            done = min(1.0, (t - 20) * 40 * mib / (10 * gib))
            executor.report("web", step="clone 1 disk(s)", progress=100 * done, total_bytes=10 * gib)
        progress.tick()
    lines = stamped_lines(out)
    stamps = [s for s, _ in lines]
    assert all(b - a <= 30 for a, b in zip(stamps, stamps[1:])), stamps
    assert len(lines) >= 9
    start = stamps[0]
    for t, fields in lines[1:]:
        assert fields["progress"].endswith("%") and fields["copied"].endswith("/10Gi"), fields
        reported = 20 + 7 * ((t - start - 20) // 7)           # the last report before this line
        copied = min(10 * gib, (reported - 20) * 40 * mib)
        if copied and copied < 10 * gib:
            assert fields["rate"] == "40Mi/s", fields      # observed: the 20s before the copy do not count
            assert fields["eta"] == human((10 * gib - copied) / (40 * mib)), (t, fields)


def human(seconds):
    from kubectl_vmmove.printers import human_duration

    return human_duration(seconds)


def test_a_stalled_copy_still_prints_a_line_every_30s():
    clock = Clock()
    out, progress, executor = plain_run(clock)
    executor.report("web", step="clone 1 disk(s)")
    clock.now = 5
    executor.report("web", step="clone 1 disk(s)", progress=10.0, total_bytes=2 ** 30)
    for t in (10, 20, 34, 50, 66, 70):
        clock.now = t
        progress.tick()
    stamps = [s for s, _ in stamped_lines(out)]
    assert [s - stamps[0] for s in stamps] == [0, 34, 66], stamps

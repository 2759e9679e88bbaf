"""`run` on a terminal: it asks before changing anything, and shows a live table that redraws in place, then the
summary. The CLI runs as a subprocess whose stdin, stdout and stderr are a pseudo-terminal."""

import os
import pty
import re
import select
import subprocess

from tests.move_run_support import VM, names, seed_basic
from tests.test_move_crash import CLI

REDRAW = re.compile(rb"\x1b\[(\d+)F\x1b\[J")    # cursor up N lines to the table's first, clear below


def on_terminal(sim, argv, answer: bytes):
    """(exit code, everything the terminal showed) of the CLI on a pty, typing `answer` at the [y/N] prompt."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([CLI, "--kubeconfig", sim.kubeconfig_path, *argv], stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True)
    os.close(slave)
    shown, answered = b"", False
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            assert ready, f"no output for a minute; so far: {shown!r}"
            try:
                chunk = os.read(master, 65536)
            except OSError:          # EIO: the CLI exited and closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if not answered and b"Continue? [y/N] " in shown:
                os.write(master, answer)
                answered = True
    finally:
        os.close(master)
    assert answered, shown
    return proc.wait(timeout=60), shown.replace(b"\r\n", b"\n")


def test_answering_no_changes_nothing(kubesim):
    seed_basic(kubesim)
    before = kubesim.get(VM, "db", "src")
    code, shown = on_terminal(kubesim, ["run", "-n", "src", "--to", "dst", "db"], b"n\n")
    assert code == 1
    assert b'Move 1 VM(s) from "src" to "dst" (strategy clone)' in shown
    assert b"error: move cancelled; nothing was changed" in shown
    assert not [n for n in names(kubesim, "configmaps", "dst") if n.startswith("vmmove-")]   # no journal
    assert names(kubesim, VM, "dst") == []
    assert kubesim.get(VM, "db", "src")["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_answering_yes_moves_with_a_live_table_then_the_summary(kubesim):
    seed_basic(kubesim)
    code, shown = on_terminal(kubesim, ["run", "-n", "src", "--to", "dst", "--all"], b"y\n")
    assert code == 0, shown.decode(errors="replace")
    text = shown.decode()
    assert names(kubesim, VM, "dst") == ["db", "web"]

    # The live table: drawn once, then redrawn in place, the cursor moved up exactly over the lines drawn before.
    redraws = list(REDRAW.finditer(shown))
    assert redraws, text
    first = shown.index(b"VM ", shown.index(b"Continue? [y/N] "))   # the live table, after the prompt's
    drawn = shown[first:redraws[0].start()]
    assert int(redraws[0].group(1)) == drawn.count(b"\n")
    last_table = shown[redraws[-1].end():].decode()
    rows = {line.split()[0]: line.split() for line in last_table.splitlines()[1:3]}
    assert last_table.splitlines()[0].split() == ["VM", "STEP", "PROGRESS", "COPIED", "RATE", "ELAPSED", "ETA"]
    assert rows["web"][1] == "done" and rows["db"][1] == "done"

    # After the live table, the summary table and what to do next.
    tail = last_table.split("\n", 3)[3]
    summary = [line.split() for line in tail.splitlines() if line.strip()]
    assert summary[0] == ["VM", "RESULT", "DOWNTIME", "MESSAGE"]
    assert {row[0]: row[1] for row in summary[1:3]} == {"web": "Succeeded", "db": "Succeeded"}
    assert text.rstrip().splitlines()[-1].startswith("Next: 'kubectl vmmove verify ")
    assert "\x1b[" not in tail


def test_the_prompt_lists_the_vms_their_downtime_estimates_and_the_warnings(kubesim, capsys):
    import json

    from kubectl_vmmove.move.planning.estimates import human_seconds
    from tests.move_run_support import run_move

    seed_basic(kubesim)
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "-o", "json")
    plan = json.loads(out)
    warnings = [f for f in plan["status"]["findings"] if f["severity"] == "warning"]
    assert warnings     # this seed has some: copies through a pod, a running VM

    code, shown = on_terminal(kubesim, ["run", "-n", "src", "--to", "dst", "--all"], b"n\n")
    prompt = shown.decode().split("Continue? [y/N] ")[0]
    assert code == 1
    rows = {line.split()[0]: line for line in prompt.splitlines() if line.split() and line.split()[0] in ("web", "db")}
    for vm in plan["spec"]["vms"]:
        estimate = human_seconds(vm["estimate"]["downtimeSeconds"])
        assert vm["status"] in rows[vm["name"]].split() and estimate in rows[vm["name"]].split(), prompt
    assert f"{len(warnings)} warning(s)" in prompt
    for f in warnings:
        assert f["message"] in prompt, prompt

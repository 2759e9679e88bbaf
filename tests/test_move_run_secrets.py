"""Seeded secret values never appear in any output, log, plan, journal or event of a whole move."""

import base64
import gzip
import json

from tests.move_run_support import SECRET_VALUE, journal, move_id, run_move, seed_basic


def test_secret_values_stay_out_of_every_output_plan_journal_and_event(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    outputs = []
    code, plan_text, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "-o", "yaml")
    assert code == 0
    outputs += [plan_text, err]
    path = tmp_path / "plan.yaml"
    path.write_text(plan_text)
    for argv in (("run", "-f", str(path), "--yes", "-v", "6"), ("status",), ("status", "-o", "yaml"),
                 ("verify", "PLACEHOLDER", "-o", "json"), ("verify", "PLACEHOLDER", "-v", "6"),
                 ("cleanup", "PLACEHOLDER", "--yes")):
        argv = tuple(move_id(kubesim) if a == "PLACEHOLDER" else a for a in argv)
        code, out, err = run_move(kubesim, capsys, *argv)
        assert code == 0, (argv, err)
        outputs += [out, err]
    cm = journal(kubesim)
    outputs.append(json.dumps(cm))
    outputs += [gzip.decompress(base64.b64decode(v)).decode() for v in cm["binaryData"].values()]
    outputs.append(json.dumps(kubesim.list("events", "dst")))
    # The copy itself carries the value: it was moved, just never shown.
    assert base64.b64decode(kubesim.get("secrets", "web-ci", "dst")["data"]["password"]).decode() == SECRET_VALUE
    for text in outputs:
        assert SECRET_VALUE not in text
        assert encoded not in text

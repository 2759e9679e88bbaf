"""Old move records: `status` lists the newest move first, and `prune --older-than AGE` removes the journals of
moves whose cleanup or rollback finished at least AGE ago, listing them and asking first."""

import datetime as dt
import json

import yaml

from kubectl_vmmove import cli
from kubectl_vmmove.move.state import journal as journalmod
from tests.kubesim import builders as kb
from tests.move_run_support import move_id, run_move, seed_basic


def _stamp(days_ago, hours=0):
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago, hours=hours)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _journal(mid, ns, created_days, cleaned_days=None, rolled_back_days=None, phase="Succeeded"):
    move = {"source": "src", "target": ns, "strategy": "clone", "phase": phase, "createdBy": "admin",
            "created": _stamp(created_days), "vms": ["web"]}
    if cleaned_days is not None:
        move["cleanup"] = {"started": _stamp(cleaned_days), "finished": _stamp(cleaned_days), "user": "admin"}
    if rolled_back_days is not None:
        move["rollback"] = {"started": _stamp(rolled_back_days), "finished": _stamp(rolled_back_days),
                            "user": "admin"}
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": journalmod.name_for(mid), "namespace": ns,
                         "labels": {journalmod.JOURNAL_LABEL: "true", journalmod.MOVE_ID_LABEL: mid}},
            "data": {"move": json.dumps(move), "vm.web": json.dumps({"phase": phase})}}


def _cli(sim, capsys, *argv):
    code = cli.main(["--kubeconfig", sim.kubeconfig_path, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _journals(sim):
    return sorted((c["metadata"]["namespace"], c["metadata"]["name"]) for ns in ("dst", "prod")
                  for c in sim.list("configmaps", ns)
                  if (c["metadata"].get("labels") or {}).get(journalmod.JOURNAL_LABEL))


def _seed_records(sim):
    sim.apply(kb.namespace("src") + kb.namespace("dst") + kb.namespace("prod") + [
        _journal("old-clean", "dst", 50, cleaned_days=40),
        _journal("old-back", "prod", 70, rolled_back_days=45, phase="Failed"),
        _journal("new-clean", "dst", 60, cleaned_days=5),          # planned long ago, finished recently
        _journal("old-open", "dst", 90),                           # never cleaned up nor rolled back
        _journal("old-failed", "prod", 80, phase="Failed"),
    ])


def test_status_lists_the_newest_move_first(kubesim, capsys):
    _seed_records(kubesim)
    code, out, err = _cli(kubesim, capsys, "status")
    assert code == 0, err
    ids = [line.split()[0] for line in out.splitlines()[1:]]
    assert ids == ["old-clean", "new-clean", "old-back", "old-failed", "old-open"]
    code, out, _ = _cli(kubesim, capsys, "status", "-o", "json")
    assert [i["metadata"]["name"] for i in json.loads(out)["items"]] == ids


def test_prune_lists_finished_moves_past_the_age_and_deletes_only_those_after_confirmation(kubesim, capsys):
    _seed_records(kubesim)
    before = _journals(kubesim)

    code, out, err = _cli(kubesim, capsys, "prune", "--older-than", "30d", "-A", "--dry-run")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["MOVE-ID", "NAMESPACE", "SOURCE", "PHASE", "FINISHED", "RESULT"]
    assert [(r[0], r[1], r[3], r[4], " ".join(r[5:])) for r in rows[1:]] == [
        ("old-clean", "dst", "CleanedUp", "40d", "would delete"),
        ("old-back", "prod", "RolledBack", "45d", "would delete")]
    assert "Nothing was deleted (dry run)." in err
    assert _journals(kubesim) == before

    # No terminal to ask on, no --yes: refused, nothing deleted.
    code, out, err = _cli(kubesim, capsys, "prune", "--older-than", "30d", "-A")
    assert code == 1 and err.startswith("error: no terminal to confirm the deletion; add --yes")
    assert _journals(kubesim) == before

    code, out, err = _cli(kubesim, capsys, "prune", "--older-than", "30d", "-A", "--yes", "-o", "name")
    assert code == 0, err
    assert out == "configmap/vmmove-old-clean\nconfigmap/vmmove-old-back\n"
    assert _journals(kubesim) == [("dst", "vmmove-new-clean"), ("dst", "vmmove-old-open"),
                                  ("prod", "vmmove-old-failed")]

    # Again: nothing left that old.
    code, out, err = _cli(kubesim, capsys, "prune", "--older-than", "30d", "-A", "--yes")
    assert code == 0 and out == "" and "No finished moves older than 30d found in any namespace." in err


def test_prune_asks_on_a_terminal_and_keeps_everything_unless_told_yes(kubesim, capsys, monkeypatch):
    import io

    _seed_records(kubesim)
    before = _journals(kubesim)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal("no\n"))
    code, out, err = _cli(kubesim, capsys, "prune", "--older-than", "4d", "-n", "dst")
    assert code == 1 and "prune cancelled; nothing was deleted" in err
    assert "old-clean" in err and "new-clean" in err and "old-back" not in err and 'Type "yes"' in err
    assert _journals(kubesim) == before
    monkeypatch.setattr("sys.stdin", Terminal("yes\n"))
    code, out, err = _cli(kubesim, capsys, "prune", "--older-than", "4d", "-n", "dst", "-o", "yaml")
    assert code == 0, err
    items = yaml.safe_load(out)["items"]
    assert [(i["metadata"]["name"], i["phase"], i["result"]) for i in items] == [
        ("new-clean", "CleanedUp", "deleted"), ("old-clean", "CleanedUp", "deleted")]
    assert ("dst", "vmmove-old-open") in _journals(kubesim) and ("prod", "vmmove-old-back") in _journals(kubesim)


def test_prune_refuses_an_age_it_cannot_read(kubesim, capsys):
    _seed_records(kubesim)
    before = _journals(kubesim)
    for bad in ("30", "30x", "-5d", "d", "1.5d"):
        code, _, err = _cli(kubesim, capsys, "prune", f"--older-than={bad}", "-A", "--yes")
        assert code == 2 and f'error: invalid --older-than value "{bad}"' in err and "30d" in err, (bad, err)
    code, _, err = _cli(kubesim, capsys, "prune", "-A", "--yes")
    assert code == 2 and "--older-than" in err
    code, _, err = _cli(kubesim, capsys, "prune", "--older-than", "1d", "-A", "-n", "dst", "--yes")
    assert code == 2 and "cannot be used together" in err
    assert _journals(kubesim) == before


def test_prune_after_a_real_move_removes_its_whole_journal(kubesim, capsys):
    seed_basic(kubesim)
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes")
    assert code == 0, err
    mid = move_id(kubesim)
    code, out, _ = _cli(kubesim, capsys, "prune", "--older-than", "0s", "-n", "dst", "--yes")
    assert code == 0 and "No finished moves" in capsys.readouterr().err + out + _   # run alone is not finished
    assert _cli(kubesim, capsys, "cleanup", mid, "--yes")[0] == 0
    parts = [c for c in kubesim.list("configmaps", "dst")
             if (c["metadata"].get("labels") or {}).get(journalmod.JOURNAL_LABEL) == "part"]
    assert parts    # the journal is the main ConfigMap and its parts
    code, out, err = _cli(kubesim, capsys, "prune", "--older-than", "0s", "-n", "dst", "--yes")
    assert code == 0, err
    assert out.split()[6:] == [mid, "dst", "src", "CleanedUp", out.split()[10], "deleted"]
    kubesim.settle()
    left = [c["metadata"]["name"] for c in kubesim.list("configmaps", "dst")
            if (c["metadata"].get("labels") or {}).get(journalmod.MOVE_ID_LABEL) == mid
            and (c["metadata"].get("labels") or {}).get(journalmod.JOURNAL_LABEL)]
    assert left == []     # the main journal and the parts it owns
    assert "web-cm" in [c["metadata"]["name"] for c in kubesim.list("configmaps", "dst")]   # the moved VM's own


def test_a_user_who_may_read_but_not_delete_journals_is_told_and_nothing_goes(kubesim, capsys, tmp_path):
    rbac = "rbac.authorization.k8s.io"
    _seed_records(kubesim)
    kubesim.apply([{"apiVersion": f"{rbac}/v1", "kind": "RoleBinding",
                    "metadata": {"name": "alice-view", "namespace": "dst"},
                    "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": "view"},
                    "subjects": [{"apiGroup": rbac, "kind": "User", "name": "alice"}]}])
    before = _journals(kubesim)
    config = kubesim.write_kubeconfig(str(tmp_path / "alice"), user="alice")
    code = cli.main(["--kubeconfig", config, "prune", "--older-than", "30d", "-n", "dst", "--yes"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["old-clean"]
    assert 'kept: you may not delete configmaps in namespace "dst"' in out and "1 journal(s) were kept" in err
    code = cli.main(["--kubeconfig", config, "prune", "--older-than", "30d", "-A", "--yes"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: you may not list the move journals (configmaps) in all namespaces")
    assert _journals(kubesim) == before

"""`status` as a first-time user meets it: AGE by the clock that wrote the move, `-A`, and what to do when the user
may read moves only in some namespaces."""

import datetime as dt
import json

from kubectl_vmmove import cli
from kubectl_vmmove.move.cmd import status as cli_status
from kubectl_vmmove.move.state import journal as journalmod
from kubectl_vmmove.printers import render_table
from tests.kubesim import builders as kb

RBAC = "rbac.authorization.k8s.io"


def _journal_cm(move_id, ns, created, server_stamp="2026-01-01T00:00:00Z"):
    move = {"source": "src", "target": ns, "strategy": "clone", "phase": "Succeeded", "createdBy": "admin",
            "created": created, "vms": ["web"]}
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": journalmod.name_for(move_id), "namespace": ns,
                         "creationTimestamp": server_stamp,
                         "labels": {journalmod.JOURNAL_LABEL: "true", journalmod.MOVE_ID_LABEL: move_id}},
            "data": {"move": json.dumps(move), "vm.web": json.dumps({"phase": "Succeeded"})}}


def test_age_counts_from_when_the_move_was_planned_not_the_servers_clock():
    # The API server's clock runs 5 minutes ahead of this machine: its creationTimestamp is in our future.
    now = dt.datetime.now(dt.timezone.utc)
    ahead = (now + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    planned = (now - dt.timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    jr = journalmod.Journal(None, "dst", "m1", _journal_cm("m1", "dst", planned, server_stamp=ahead))
    text = render_table(cli_status.overview_table([jr]), wide=False, no_headers=True)
    assert text.split()[-1] in ("3m", "3m1s", "3m2s") and "<invalid>" not in text


def _reader_of(ns):
    subjects = [{"apiGroup": RBAC, "kind": "User", "name": "alice"}]
    return [{"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "alice-view", "namespace": ns},
             "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"}, "subjects": subjects}]


def test_a_user_who_reads_one_namespace_is_told_to_name_it(kubesim, capsys, tmp_path):
    kubesim.apply(kb.namespace("src") + kb.namespace("dst") + _reader_of("dst") +
                  [_journal_cm("m1", "dst", "2026-01-01T00:00:00Z")])
    config = kubesim.write_kubeconfig(str(tmp_path / "alice"), user="alice")

    assert cli.main(["--kubeconfig", config, "status"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("No moves found. (you may not list configmaps in all namespaces, so only \"default\" was "
                          "searched: give the move's target namespace with -n)")
    assert cli.main(["--kubeconfig", config, "status", "m1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: no move "m1" found; you may not list configmaps in all namespaces')
    assert "with -n" in err

    # Named, the namespace works for the listing, one move and -A (accepted as kubectl users type it).
    for argv in (["status", "-n", "dst"], ["status", "-A", "-n", "dst"], ["status", "m1", "-n", "dst"]):
        assert cli.main(["--kubeconfig", config, *argv]) == 0, argv
        assert "m1" in capsys.readouterr().out


def test_an_admin_is_told_the_move_exists_nowhere(kubesim, capsys):
    kubesim.apply(kb.namespace("dst") + [_journal_cm("m1", "dst", "2026-01-01T00:00:00Z")])
    assert cli.main(["--kubeconfig", kubesim.kubeconfig_path, "status", "-A"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("m1 ")
    assert cli.main(["--kubeconfig", kubesim.kubeconfig_path, "verify", "m2"]) == 1
    assert capsys.readouterr().err == ('error: no move "m2" found in any namespace (no configmap vmmove-m2); list '
                                       "moves with 'kubectl vmmove status'\n")

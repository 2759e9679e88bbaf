"""Unclear messages of issue 12 item 13, each as a user meets it: what is wrong and what to do, the exit status
kubectl would give, no traceback, nothing changed in the cluster."""

import json

from tests.move_run_support import run_move, seed_basic
from tests.move_run_support import snapshot as full_snapshot

RBAC = "rbac.authorization.k8s.io"


def snapshot(sim):
    """What a user owns, per object: its uid, spec, data, labels and annotations (controllers update status)."""
    return {key: (o["metadata"].get("uid"), o.get("spec"), o.get("data"), o["metadata"].get("labels"),
                  o["metadata"].get("annotations")) for key, o in full_snapshot(sim).items()}


def plan_yaml(sim, capsys, *extra):
    code, text, err = run_move(sim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--move-id", "msg1",
                               "-o", "yaml", *extra)
    assert code == 0, err
    return text


def test_a_negative_timeout_says_a_duration_cannot_be_negative(kubesim, capsys):
    seed_basic(kubesim)
    before = snapshot(kubesim)
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--yes", "--timeout", "-5m")
    assert code == 2
    assert err.startswith('error: invalid --timeout value "-5m": a duration cannot be negative'), err
    assert "expected one argument" not in err and "0 means no limit" in err
    assert snapshot(kubesim) == before


def test_a_plan_file_with_two_documents_is_named_as_such(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    text = plan_yaml(kubesim, capsys)
    plan = tmp_path / "plans.yaml"
    plan.write_text(text + "---\n" + text)
    before = snapshot(kubesim)
    code, out, err = run_move(kubesim, capsys, "run", "-f", str(plan), "--yes")
    assert code == 1
    assert "not valid YAML" not in err
    # named as a plan file of two documents, with what to do (plan again into a file of its own)
    assert f'"{plan}"' in err and "holds 2 YAML documents" in err and "plan again" in err, err
    assert snapshot(kubesim) == before


def test_a_byte_order_mark_in_a_move_list_is_not_part_of_the_first_vm_name(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    names = tmp_path / "vms.txt"
    names.write_bytes("\ufeffweb\r\ndb\r\n".encode("utf-8"))   # as Windows Notepad saves it
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "-f", str(names), "-o", "json")
    doc = json.loads(out)
    assert sorted(vm["name"] for vm in doc["spec"]["vms"]) == ["db", "web"], err


def test_an_invalid_target_namespace_name_is_reported_as_invalid_not_missing(kubesim, capsys):
    seed_basic(kubesim)
    for verb, extra in (("plan", ()), ("run", ("--yes",))):
        code, out, err = run_move(kubesim, capsys, verb, "-n", "src", "--to", "Prod_01", "web", *extra)
        assert code == 2, err
        assert err.startswith('error: --to "Prod_01" is not a valid namespace name'), err
        assert "lower case" in err and "does not exist" not in err


def test_refused_credentials_say_who_was_refused_and_what_to_do(kubesim, capsys):
    seed_basic(kubesim)
    code, out, err = run_move(kubesim, capsys, "--token", "not-a-valid-token", "status")
    assert code == 1
    assert err != "error: Unauthorized\n"
    assert err.startswith("error: You must be logged in to the server (Unauthorized)"), err
    assert "log in again" in err and "--token" in err


def test_a_user_who_may_not_write_the_journal_is_told_which_right_is_missing(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--move-id", "msg2",
                              "--yes")
    assert code == 0, err
    subjects = [{"apiGroup": RBAC, "kind": "User", "name": "bob"}]
    kubesim.apply([
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "bob-view"},
         "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"}, "subjects": subjects}])
    config = kubesim.write_kubeconfig(str(tmp_path / "bob"), user="bob", namespace="src")
    before = snapshot(kubesim)
    for argv in (["cleanup", "msg2", "-n", "dst"], ["rollback", "msg2", "-n", "dst"],
                 ["run", "--resume", "msg2", "--to", "dst"]):
        code = __import__("kubectl_vmmove.cli", fromlist=["main"]).main(["--kubeconfig", config, *argv, "--yes"])
        out, err = capsys.readouterr()
        assert code == 1, err
        last = err.strip().splitlines()[-1]
        assert last.startswith('error: you may not change the journal of move msg2 (configmap vmmove-msg2 in '
                               'namespace "dst")'), err
        assert "kubectl auth can-i patch configmaps -n dst" in err
        assert snapshot(kubesim) == before

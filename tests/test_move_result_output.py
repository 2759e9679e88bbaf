"""`run`, `cleanup` and `rollback` print their result as `-o yaml|json` for scripts, and as `-o name` the objects
they acted on, as `kubectl create|delete|rollout undo -o name` do (`kind.group/name`); progress and hints stay on
stderr so that stdout parses."""

import json

import yaml

from tests.move_run_support import run_move, seed_basic


def move(sim, capsys, *output):
    code, out, err = run_move(sim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--move-id", "out1", "--yes",
                              *output)
    assert code == 0, err
    return out, err


def test_run_prints_its_result_as_yaml(kubesim, capsys):
    seed_basic(kubesim)
    out, err = move(kubesim, capsys, "-o", "yaml")
    doc = yaml.safe_load(out)
    assert doc["apiVersion"] == "vmmove.io/v1alpha1" and doc["kind"] == "MoveRunResult"
    assert doc["metadata"] == {"name": "out1", "namespace": "dst"}
    assert doc["source"] == "src" and doc["phase"] == "Succeeded"
    by_name = {vm["name"]: vm for vm in doc["vms"]}
    assert sorted(by_name) == ["db", "web"] and {vm["phase"] for vm in doc["vms"]} == {"Succeeded"}
    assert by_name["web"]["downtimeSeconds"] >= 0        # web ran: it had downtime; db was stopped
    assert "VM" not in out.split("\n")[0]                 # no table on stdout
    assert "Next: 'kubectl vmmove verify out1'" in err


def test_run_json_and_name(kubesim, capsys):
    seed_basic(kubesim)
    out, _ = move(kubesim, capsys, "-o", "name")
    assert out.splitlines() == ["virtualmachine.kubevirt.io/db", "virtualmachine.kubevirt.io/web"]
    code, out, err = run_move(kubesim, capsys, "run", "--resume", "out1", "--to", "dst", "--yes", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["phase"] == "Succeeded"


def test_run_refuses_an_output_format_it_cannot_print(kubesim, capsys):
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes", "-o", "wide")
    assert code == 2
    assert err.startswith('error: unable to match a printer suitable for the output format "wide", allowed formats '
                          "are: yaml,json,name"), err


def test_cleanup_prints_what_it_deleted_as_json_or_names(kubesim, capsys):
    seed_basic(kubesim)
    move(kubesim, capsys)
    code, out, err = run_move(kubesim, capsys, "cleanup", "out1", "-n", "dst", "--dry-run", "-o", "name")
    assert code == 0, err
    assert "virtualmachine.kubevirt.io/web" in out.splitlines() and "secret/web-ci" in out.splitlines()
    names = out.splitlines()
    code, out, err = run_move(kubesim, capsys, "cleanup", "out1", "-n", "dst", "--yes", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "MoveCleanupResult" and doc["metadata"] == {"name": "out1", "namespace": "dst"}
    deleted = [o for o in doc["objects"] if o["result"] == "deleted"]
    assert {"kind": "VirtualMachine", "name": "web", "namespace": "src", "result": "deleted"} in deleted
    assert len(doc["objects"]) == len(names)


def test_rollback_prints_its_result_as_yaml_or_names(kubesim, capsys):
    seed_basic(kubesim)
    move(kubesim, capsys)
    code, out, err = run_move(kubesim, capsys, "rollback", "out1", "-n", "dst", "--yes", "-o", "yaml")
    assert code == 0, err
    doc = yaml.safe_load(out)
    assert doc["kind"] == "MoveRollbackResult" and doc["metadata"] == {"name": "out1", "namespace": "dst"}
    assert {vm["name"]: vm["result"] for vm in doc["vms"] if vm["name"] != "(shared)"} == \
        {"db": "RolledBack", "web": "RolledBack"}
    code, out, err = run_move(kubesim, capsys, "rollback", "out1", "-n", "dst", "--yes", "-o", "name")
    assert code == 0, err
    assert out.splitlines() == ["virtualmachine.kubevirt.io/db", "virtualmachine.kubevirt.io/web"]

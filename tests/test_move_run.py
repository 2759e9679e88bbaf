"""`kubectl vmmove run` with the clone strategy against kubesim: what a user finds in both namespaces afterwards."""

import base64
import json

import yaml

from kubectl_vmmove.move.cmd.run import execute
from tests.kubesim import builders
from tests.move_run_support import (
    DV,
    PVC,
    SECRET_VALUE,
    VM,
    VMI,
    api_for,
    identity,
    journal,
    move_id,
    names,
    run_move,
    seed_basic,
    snapshot,
    vm_records,
)


def test_run_moves_running_and_stopped_vms_with_everything_they_use(kubesim, capsys):
    seed_basic(kubesim)
    source_vms = {n: kubesim.get(VM, n, "src") for n in ("web", "db")}
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes")
    assert code == 0, err
    assert "Succeeded" in out and "web" in out and "db" in out

    # The VMs are in the target with their identity; web runs again, db stays stopped as it was.
    for name in ("web", "db"):
        moved = kubesim.get(VM, name, "dst")
        assert identity(moved) == identity(source_vms[name])
        assert moved["metadata"]["labels"]["vmmove.io/move-id"] == move_id(kubesim)
    web_vmi = kubesim.get(VMI, "web", "dst")
    assert web_vmi["status"]["phase"] == "Running"
    assert web_vmi["status"]["interfaces"][0]["ipAddress"]
    assert kubesim.get(VM, "web", "dst")["spec"]["runStrategy"] == "Always"
    assert kubesim.get(VM, "db", "dst")["spec"]["runStrategy"] == "Halted"
    assert kubesim.get(VMI, "db", "dst") is None

    # Disks cloned under the same claim names (the state PVC too), each clone from the source claim.
    state_claim = next(n for n in names(kubesim, PVC, "src") if n.startswith("persistent-state-for-web"))
    for claim in ("web-rootdisk", "web-data", "db-rootdisk", state_claim):
        dv = kubesim.get(DV, claim, "dst")
        assert dv["status"]["phase"] == "Succeeded"
        assert dv["spec"]["source"]["pvc"] == {"namespace": "src", "name": claim}
        assert kubesim.get(PVC, claim, "dst")["status"]["phase"] == "Bound"
    assert kubesim.get(PVC, state_claim, "dst")["metadata"]["labels"]["persistent-state-for"] == "web"

    # Dependencies copied; the secret's data arrived without passing through any output.
    assert names(kubesim, "secrets", "dst") == ["db-ssh", "shared-ca", "web-ci"]
    copied = kubesim.get("secrets", "web-ci", "dst")
    assert base64.b64decode(copied["data"]["password"]).decode() == SECRET_VALUE
    assert kubesim.get("configmaps", "web-cm", "dst")["data"] == kubesim.get("configmaps", "web-cm", "src")["data"]
    assert kubesim.get("services", "web-ssh", "dst")["spec"]["selector"] == {"kubevirt.io/domain": "web"}
    assert kubesim.get("network-attachment-definitions.k8s.cni.cncf.io", "db-net", "dst") is not None

    # The source is intact: VMs stopped (Halted), claims and secrets still there.
    for name in ("web", "db"):
        assert kubesim.get(VM, name, "src")["spec"]["runStrategy"] == "Halted"
    for claim in ("web-rootdisk", "web-data", "db-rootdisk", state_claim):
        assert kubesim.get(PVC, claim, "src")["status"]["phase"] == "Bound"
    assert "web-ci" in names(kubesim, "secrets", "src")
    for text in (out, err):
        assert SECRET_VALUE not in text


def test_journal_records_plan_steps_user_and_sources_without_secret_data(kubesim, capsys):
    seed_basic(kubesim)
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes")
    assert code == 0, err
    cm = journal(kubesim)
    assert cm["metadata"]["name"] == f"vmmove-{move_id(kubesim)}"
    records = vm_records(kubesim)
    assert set(records) == {"web", "db"}
    for record in records.values():
        assert record["phase"] == "Succeeded"
        assert record["user"] == "admin"
        assert record["steps"] and all(s["state"] == "Done" and s["finished"] for s in record["steps"])
    assert records["web"]["downtimeSeconds"] >= 0 and "downtimeSeconds" not in records["db"]
    from kubectl_vmmove.move.state.journal import Journal

    jr = Journal(None, "dst", move_id(kubesim), cm)
    assert jr.plan()["spec"]["moveId"] == move_id(kubesim)
    sources = {(o["kind"], o["metadata"]["name"]): o for o in jr.sources("web")}
    assert sources[("VirtualMachine", "web")]["metadata"]["uid"] == kubesim.get(VM, "web", "src")["metadata"]["uid"]
    assert ("PersistentVolumeClaim", "web-rootdisk") in sources
    assert "data" not in sources[("Secret", "web-ci")]
    whole = json.dumps(cm) + json.dumps([jr.plan(), jr.sources("web"), jr.sources("db")])
    assert SECRET_VALUE not in whole
    assert base64.b64encode(SECRET_VALUE.encode()).decode() not in whole
    # Events tell `kubectl describe vm` where the VM came from.
    reasons = {e["reason"] for e in kubesim.list("events", "dst")
               if e["involvedObject"].get("name") == "web" and e.get("source", {}).get("component") == "kubectl-vmmove"}
    assert {"MovedIn", "MoveSucceeded"} <= reasons


def test_rerun_of_a_finished_move_changes_nothing(kubesim, capsys):
    seed_basic(kubesim)
    assert run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes")[0] == 0
    before = {k: v["metadata"]["uid"] for k, v in snapshot(kubesim).items()}
    code, out, err = run_move(kubesim, capsys, "run", "--resume", move_id(kubesim), "--to", "dst")
    assert code == 0, err
    assert "Continuing move" in err
    after = {k: v["metadata"]["uid"] for k, v in snapshot(kubesim).items()}
    assert after == before


def test_saved_plan_runs_with_the_same_move_id_and_a_stale_one_is_refused(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    code, plan_text, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "db", "-o", "yaml")
    assert code == 0, err
    path = tmp_path / "plan.yaml"
    path.write_text(plan_text)
    plan_id = yaml.safe_load(plan_text)["spec"]["moveId"]

    # Someone edits the VM after the plan was written: run refuses and changes nothing.
    vm = kubesim.get(VM, "db", "src")
    vm["spec"]["template"]["spec"]["domain"]["memory"]["guest"] = "3Gi"
    kubesim.apply(vm)
    code, _, err = run_move(kubesim, capsys, "run", "-f", str(path), "--yes")
    assert code == 1
    assert "stale" in err and "virtualmachine/db changed" in err
    assert names(kubesim, VM, "dst") == []

    code, plan_text, _ = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "db", "-o", "yaml")
    path.write_text(plan_text)
    plan_id = yaml.safe_load(plan_text)["spec"]["moveId"]
    code, _, err = run_move(kubesim, capsys, "run", "-f", str(path), "--yes")
    assert code == 0, err
    assert move_id(kubesim) == plan_id
    assert names(kubesim, VM, "dst") == ["db"]


def test_without_a_terminal_run_needs_yes_and_dry_run_changes_nothing(kubesim, capsys):
    seed_basic(kubesim)
    before = snapshot(kubesim)
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all")
    assert code == 1 and "--yes" in err
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--dry-run")
    assert code == 0, err
    assert "dry run" in out and "clone" in out and "datavolume/web-rootdisk" in out
    assert content(snapshot(kubesim)) == content(before)


def content(objects):
    # Controllers keep updating status; what a user owns is the spec (or data) of each object.
    return {k: (v["metadata"]["uid"], v.get("spec"), v.get("data")) for k, v in objects.items()}


def test_an_object_owned_by_someone_else_fails_that_vm_only_and_is_not_overwritten(kubesim, capsys):
    seed_basic(kubesim)
    code, plan_text, _ = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "-o", "yaml")
    assert code == 0
    # The conflicting Secret appears after the plan was checked: the plan's preflight now refuses it...
    kubesim.apply(builders.secret("web-ci", "dst", {"userdata": "theirs"}))
    theirs = kubesim.get("secrets", "web-ci", "dst")
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes")
    assert code == 1 and "error" in err and names(kubesim, VM, "dst") == []
    # ...and a run already under way when it appears fails only that VM, leaving the Secret alone.
    code = execute(api_for(kubesim), yaml.safe_load(plan_text), None, "admin", 2, 60)
    out, err = capsys.readouterr()
    assert code == 1
    records = vm_records(kubesim)
    assert records["db"]["phase"] == "Succeeded"
    assert records["web"]["phase"] == "Failed"
    assert 'secret "web-ci" already exists in namespace "dst"' in records["web"]["message"]
    assert "Failed" in out and "rollback" in err
    assert kubesim.get("secrets", "web-ci", "dst") == theirs
    assert kubesim.get(VM, "web", "dst") is None


def test_status_lists_moves_and_shows_one_per_vm(kubesim, capsys):
    seed_basic(kubesim)
    assert run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes")[0] == 0
    mid = move_id(kubesim)
    code, out, err = run_move(kubesim, capsys, "status")
    assert code == 0, err
    header, row = out.splitlines()[:2]
    assert header.split()[:5] == ["MOVE-ID", "SOURCE", "TARGET", "STRATEGY", "VMS"]
    assert row.split()[:8] == [mid, "src", "dst", "clone", "2", "2", "0", "Succeeded"]
    code, out, err = run_move(kubesim, capsys, "status", mid)
    assert code == 0, err
    assert f"Move {mid}: src -> dst" in out
    lines = [line.split() for line in out.splitlines() if line.startswith(("web", "db"))]
    assert sorted((line[0], line[1], line[2]) for line in lines) == [("db", "Succeeded", "done"),
                                                                      ("web", "Succeeded", "done")]
    code, out, _ = run_move(kubesim, capsys, "status", mid, "-o", "json")
    doc = json.loads(out)
    assert doc["kind"] == "MoveStatus" and doc["vms"]["web"]["phase"] == "Succeeded"
    code, out, _ = run_move(kubesim, capsys, "status", mid, "--watch")
    assert code == 0 and "phase=Succeeded" in out
    code, _, err = run_move(kubesim, capsys, "status", "nosuch")
    assert code == 1 and 'no move "nosuch" found' in err

"""verify, cleanup and rollback after a clone move: checks a user can read, deletions that spare shared objects,
and a rollback that leaves the source as it was."""

import json

from tests.kubesim import builders
from tests.kubesim.controllers.testing import run_until, vm_action
from tests.move_run_support import (
    DV,
    PVC,
    SECRET_VALUE,
    VM,
    VMI,
    journal,
    move_id,
    names,
    run_move,
    seed_basic,
    vm_records,
    wait_vms,
)


def moved(kubesim, capsys, *vms):
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", *(vms or ("--all",)), "--yes")
    assert code == 0, err
    return move_id(kubesim)


def test_verify_passes_after_a_move_and_records_the_result(kubesim, capsys):
    seed_basic(kubesim)
    mid = moved(kubesim, capsys)
    code, out, err = run_move(kubesim, capsys, "verify", mid, "-o", "wide")
    assert code == 0, out + err
    rows = [line.split() for line in out.splitlines()[1:]]
    assert rows and all("pass" in r for r in rows)
    for expected in ("move finished", "MAC addresses", "firmware UUID", "firmware serial", "references resolve",
                     "disk web-rootdisk bound", "disk web-rootdisk size", "disk web-rootdisk datavolume succeeded",
                     "secret/web-ci matches source", "virtualmachine/web matches source"):
        assert any(expected in line for line in out.splitlines()), expected
    assert "running with IP" in out and "stopped as planned" in out
    assert SECRET_VALUE not in out + err
    code, out, _ = run_move(kubesim, capsys, "status", mid, "-o", "json")
    assert json.loads(out)["move"]["verify"]["passed"] is True


def test_verify_table_shows_failures_and_news_and_counts_the_rest(kubesim, capsys):
    seed_basic(kubesim)
    mid = moved(kubesim, capsys)
    code, out, err = run_move(kubesim, capsys, "verify", mid)
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0].split() == ["VM", "CHECK", "RESULT", "REASON"]
    web = [line for line in lines if line.startswith("web ")]
    assert "running with IP" in web[0] and web[0].split()[-1].count(".") == 3   # the address: worth showing
    assert web[-1].split()[1:] == [web[-1].split()[1], "other", "checks", "pass", "-"]
    db = [line.split() for line in lines if line.startswith("db ")]
    assert db == [["db", "all", db[0][2], "checks", "pass", "-"]]
    wide = run_move(kubesim, capsys, "verify", mid, "-o", "wide")[1].splitlines()[1:]
    assert sum(_checks_in(line) for line in lines[1:]) == len(wide)   # every check is shown or counted
    assert f"All {len(wide)} checks passed (-o wide lists each check)" in err
    assert f"'kubectl vmmove cleanup {mid}'" in err

    # A failure is a row of its own, with its reason, next to the count of the rest.
    kubesim.delete("secrets", "web-ci", "dst")
    code, out, err = run_move(kubesim, capsys, "verify", mid)
    assert code == 1
    failed = [line for line in out.splitlines() if " FAIL " in line]
    assert failed and all(line.startswith("web ") for line in failed)
    assert any("secret/web-ci exists" in line and "not found in namespace dst" in line for line in failed)


def _checks_in(row: str) -> int:
    """How many checks a row of the compact table stands for: a count row ("all 12 checks", "9 other checks",
    "1 check") its number, any other row one."""
    words = row.split()
    if words[1] == "all":
        return int(words[2])
    if words[1].isdigit() and words[2] in ("check", "other"):
        return int(words[1])
    return 1


def test_verify_after_cleanup_and_after_rollback_says_what_happened(kubesim, capsys):
    seed_basic(kubesim)
    mid = moved(kubesim, capsys, "web")
    assert run_move(kubesim, capsys, "cleanup", mid, "--yes")[0] == 0
    code, _, err = run_move(kubesim, capsys, "verify", mid)
    assert code == 0 and "The source was deleted by cleanup at " in err and "can be deleted" not in err

    other = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst2", "--create-namespace", "db", "--move-id",
                     "back01", "--yes")
    assert other[0] == 0, other[2]
    assert run_move(kubesim, capsys, "rollback", "back01", "--yes")[0] == 0
    code, out, err = run_move(kubesim, capsys, "verify", "back01")
    assert code == 1 and out == ""
    assert err.startswith("error: move back01 was rolled back at ")
    assert 'its VMs are back in namespace "src" and there is nothing to verify' in err and "--resume" not in err


def test_verify_names_what_is_wrong(kubesim, capsys):
    seed_basic(kubesim)
    mid = moved(kubesim, capsys)
    kubesim.delete("secrets", "web-ci", "dst")
    cm = kubesim.get("configmaps", "web-cm", "dst")
    cm["data"]["app.properties"] = "name=changed\n"
    kubesim.apply(cm)
    code, out, err = run_move(kubesim, capsys, "verify", mid, "-o", "json")
    assert code == 1
    doc = json.loads(out)
    failed = {(r["vm"], r["check"]): r["reason"] for r in doc["checks"] if not r["passed"]}
    assert failed[("web", "secret/web-ci exists")] == "not found in namespace dst"
    assert failed[("web", "configmap/web-cm matches source")] == "its data differs from the source"
    assert "secret/web-ci" in failed[("web", "references resolve")]
    assert not any(vm == "db" for vm, _ in failed)
    assert "3 check(s) of move" in err and "rollback" in err


def test_cleanup_refuses_until_verify_passes_then_deletes_only_what_moved(kubesim, capsys):
    seed_basic(kubesim, extra=builders.vm("stays", "src", disks=(("rootdisk", "1Gi"),), shared_secret="shared-ca"))
    mid = moved(kubesim, capsys, "web", "db")
    # Someone stops the moved VM: it is not where the move left it, so the source must stay.
    assert vm_action(kubesim, "dst", "web", "stop")[0] == 202
    run_until(kubesim, lambda: kubesim.get(VMI, "web", "dst") is None)
    code, _, err = run_move(kubesim, capsys, "cleanup", mid, "--yes")
    assert code == 1 and "cleanup refuses" in err and "running with IP" in err
    assert names(kubesim, VM, "src") == ["db", "stays", "web"]

    # Started again, verify passes and cleanup goes ahead.
    assert vm_action(kubesim, "dst", "web", "start")[0] == 202
    wait_vms(kubesim, "dst", ["web"])
    run_until(kubesim, lambda: (kubesim.get(VMI, "web", "dst") or {}).get("status", {}).get("interfaces"))
    code, out, err = run_move(kubesim, capsys, "cleanup", mid)
    assert code == 1 and "--yes" in err          # no terminal: refuses without --yes
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--yes")
    assert code == 0, err
    assert names(kubesim, VM, "src") == ["stays"]
    for gone in ("web-ci", "db-ssh"):
        assert gone not in names(kubesim, "secrets", "src")
    assert "shared-ca" in names(kubesim, "secrets", "src")        # "stays" still uses it
    assert names(kubesim, "services", "src") == []
    # A plain claim the VM did not own: deleted, gone once the pvc-protection controller lets it go (~6 s).
    run_until(kubesim, lambda: "db-rootdisk" not in names(kubesim, PVC, "src"), step=1, max_seconds=30)
    assert "stays-rootdisk" in names(kubesim, PVC, "src")
    assert "deleted" in out and "VirtualMachine" in out
    # The target is untouched and still verifies; a second cleanup finds nothing left to do.
    assert kubesim.get(VMI, "web", "dst")["status"]["phase"] == "Running"
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--yes")
    assert code == 0 and "deleted" not in out.replace("already gone", "")
    code, _, err = run_move(kubesim, capsys, "rollback", mid, "--yes")
    assert code == 1 and "was cleaned up" in err and "nothing to roll back to" in err


def test_rollback_removes_the_target_copy_and_restarts_the_source(kubesim, capsys):
    seed_basic(kubesim)
    before = {n: kubesim.get(VM, n, "src")["spec"] for n in ("web", "db")}
    mid = moved(kubesim, capsys)
    code, out, err = run_move(kubesim, capsys, "rollback", mid, "--yes")
    assert code == 0, err
    assert "RolledBack" in out
    for resource in (VM, DV, PVC, "secrets", "services"):
        assert names(kubesim, resource, "dst") == [], resource
    # the journal stays, next to the root-CA ConfigMap every namespace has
    assert names(kubesim, "configmaps", "dst") == ["kube-root-ca.crt", f"vmmove-{mid}", f"vmmove-{mid}.vms-0"]
    for name in ("web", "db"):
        assert kubesim.get(VM, name, "src")["spec"] == before[name]
    wait_vms(kubesim, "src", ["web"])
    assert {r["phase"] for r in vm_records(kubesim).values()} == {"RolledBack"}
    code, out, _ = run_move(kubesim, capsys, "rollback", mid, "--yes")
    assert code == 0
    code, out, _ = run_move(kubesim, capsys, "status")
    assert "RolledBack" in out


def test_cleanup_dry_run_shows_what_would_go_and_deletes_nothing(kubesim, capsys):
    seed_basic(kubesim)
    mid = moved(kubesim, capsys)
    before = {n: kubesim.get(VM, n, "src")["metadata"]["uid"] for n in ("web", "db")}
    journal_before = journal(kubesim)["data"]["move"]
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--dry-run")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()[1:]]
    assert ["VirtualMachine", "web", "src", "would", "delete"] in rows
    assert ["VirtualMachine", "db", "src", "would", "delete"] in rows
    assert "Nothing was deleted (dry run)." in err
    assert {n: kubesim.get(VM, n, "src")["metadata"]["uid"] for n in ("web", "db")} == before
    assert journal(kubesim)["data"]["move"] == journal_before       # no cleanup (or verify) recorded
    assert run_move(kubesim, capsys, "cleanup", mid, "--yes")[0] == 0
    assert kubesim.get(VM, "web", "src") is None
    code, out, _ = run_move(kubesim, capsys, "status", mid)
    assert code == 0 and out.startswith(f"Move {mid}: src -> dst") and "phase CleanedUp" in out.splitlines()[0]


def test_verify_by_a_view_only_user_reports_unreadable_checks_as_not_made(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    mid = moved(kubesim, capsys)
    rbac = "rbac.authorization.k8s.io"
    kubesim.apply([{"apiVersion": f"{rbac}/v1", "kind": "RoleBinding",
                    "metadata": {"name": "alice-view", "namespace": ns},
                    "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": "view"},
                    "subjects": [{"apiGroup": rbac, "kind": "User", "name": "alice"}]} for ns in ("src", "dst")])
    config = kubesim.write_kubeconfig(str(tmp_path / "alice"), user="alice")
    before = journal(kubesim)["metadata"]["resourceVersion"]

    code, out, err = run_move(kubesim, capsys, "--kubeconfig", config, "verify", mid, "-n", "dst", "-o", "wide")
    assert code == 1 and "Traceback" not in err
    rows = {line.split()[1]: line for line in out.splitlines()[1:] if line.startswith("web ")}
    secret_row = rows["secret/web-ci"]
    assert " FAIL " in secret_row and " pass " not in secret_row     # a check not made is not a pass
    assert ('not checked: you may not get secrets in namespace "dst"; '
            "check with 'kubectl auth can-i get secrets -n dst'") in secret_row
    assert " pass " in rows["firmware"]          # what alice may read is still checked
    assert "could not be made with your access" in err and "--resume" not in err
    assert "not recorded in the journal: you may not patch configmaps" in err
    assert journal(kubesim)["metadata"]["resourceVersion"] == before
    assert SECRET_VALUE not in out + err


def test_rollback_names_what_it_deleted_as_plan_does_keeps_a_created_namespace_and_says_what_next(kubesim, capsys):
    seed_basic(kubesim, running=())
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "fresh", "--create-namespace", "db",
                            "--move-id", "nsback", "--yes")
    assert code == 0, err
    code, out, err = run_move(kubesim, capsys, "rollback", "nsback", "--yes")
    assert code == 0, err
    db = next(line for line in out.splitlines() if line.startswith("db "))
    assert "virtualmachine/db" in db and "VirtualMachine/" not in out       # the form plan and verify use
    assert "kubectl vmmove plan -n src --to fresh db" in err                 # the next step
    assert 'Namespace "fresh" was created by this move and is kept' in err
    assert "configmap/vmmove-nsback" in err and err.rstrip().endswith("kubectl delete namespace fresh")
    assert "fresh" in names(kubesim, "namespaces", None)

    # Into a namespace that was there before, nothing is said about deleting it.
    mid = moved(kubesim, capsys, "db")
    code, _, err = run_move(kubesim, capsys, "rollback", mid, "--yes")
    assert code == 0 and "kubectl vmmove plan -n src --to dst db" in err and "kubectl delete namespace" not in err

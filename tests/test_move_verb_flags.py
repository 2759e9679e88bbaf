"""Flags of the move verbs as a user meets them: flags that shape a move are refused with -f PLAN, move ids are names
that are unique and looked up where -n says, and `plan --manifests` is stable and says what it found."""

import pytest

from tests.kubesim import builders
from tests.move_run_support import VM, names, run_move, seed_basic


@pytest.mark.parametrize("flag", [
    ["--to", "prod"], ["--strategy", "transfer"], ["--strategy", "clone"], ["--move-id", "abc"],
    ["--target-run-strategy", "Halted"], ["--storage-class-map", "a=b"], ["--mac-policy", "new"],
    ["--no-services"], ["--create-namespace"], ["-l", "app=web"], ["--all"], ["web"], ["--move-list", "vms.txt"],
])
def test_flags_that_shape_a_move_are_a_usage_error_with_a_plan_file(kubesim, capsys, flag):
    code, out, err = run_move(kubesim, capsys, "run", "-f", "plan.yaml", *flag, "--yes")
    assert code == 2, err
    shown = {"web": "VM names", "-l": "-l/--selector"}.get(flag[0], flag[0])
    assert err.startswith("error: ") and shown in err and "-f" in err
    assert "does not exist" not in err          # refused before the file is read


@pytest.mark.parametrize("verb", [["status"], ["verify"], ["cleanup", "--dry-run"], ["rollback", "--yes"],
                                  ["run", "--resume"]])
def test_a_move_id_that_is_no_name_is_a_usage_error(kubesim, capsys, verb):
    code, out, err = run_move(kubesim, capsys, *verb, "x y")
    assert code == 2, err
    assert err.startswith('error: move id "x y" is not valid: ') and "selector" not in err


def test_plan_refuses_a_move_id_that_already_names_a_move(kubesim, capsys):
    seed_basic(kubesim)
    assert run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "db", "--move-id", "taken1", "--yes")[0] == 0
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--move-id", "taken1")
    assert code == 1 and out == ""
    assert 'move id "taken1" already names a move (src -> dst' in err and "--move-id" in err
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--move-id", "taken1",
                              "--yes")
    assert code == 1 and 'move id "taken1" already names a move' in err
    assert names(kubesim, VM, "dst") == ["db"]


def _two_moves(kubesim, capsys):
    seed_basic(kubesim, extra=builders.namespace("other"))
    assert run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--move-id", "dup1", "--yes")[0] == 0
    assert run_move(kubesim, capsys, "run", "-n", "src", "--to", "other", "db", "--move-id", "dup2",
                    "--yes")[0] == 0


def test_namespace_flag_limits_status_verify_cleanup_and_rollback(kubesim, capsys):
    _two_moves(kubesim, capsys)
    code, out, err = run_move(kubesim, capsys, "status", "-n", "other")
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["dup2"]
    for verb in (["status", "dup1"], ["verify", "dup1"], ["cleanup", "dup1", "--dry-run"],
                 ["rollback", "dup1", "--yes"]):
        code, out, err = run_move(kubesim, capsys, *verb, "-n", "other")
        assert code == 1 and out == "", verb
        assert 'no move "dup1" found in namespace "other"' in err, err
    assert names(kubesim, VM, "dst") == ["web"] and names(kubesim, VM, "src") == ["db", "web"]
    code, out, err = run_move(kubesim, capsys, "status", "dup2", "-n", "other")
    assert code == 0 and "db" in out


def test_manifests_are_byte_identical_for_an_unchanged_cluster(kubesim, capsys):
    seed_basic(kubesim)
    first = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--manifests")
    second = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--manifests")
    assert first[0] == 0 and first[1] == second[1]
    assert "vmmove.io/move-id" not in first[1]
    code, out, _ = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--manifests",
                            "--move-id", "gitops1")
    assert code == 0 and "vmmove.io/move-id: gitops1" in out


def test_manifests_print_findings_on_stderr_and_exit_1_naming_errors(kubesim, capsys):
    seed_basic(kubesim, extra=builders.vm("db", "dst", disks=(("rootdisk", "1Gi"),)))
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--manifests")
    assert code == 1
    assert "kind: VirtualMachine" in out and "SlowClone" not in out
    assert "Warning: SlowClone:" in err                 # a warning, as kubectl prints the server's warnings
    assert "NameConflict" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: the plan has ") and "NameConflict" in last

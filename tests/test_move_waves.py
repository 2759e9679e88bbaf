"""Moving VMs in waves: a Secret shared by VMs of two moves is copied by the first and used by the second, as long
as its data still equals the source's; never overwritten, never deleted by the second move's rollback."""

import base64

import yaml

from tests.move_run_support import VM, names, run_move, seed_basic


def _wave(kubesim, capsys, vm, move_id):
    return run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", vm, "--move-id", move_id, "--yes")


def test_second_wave_uses_the_shared_secret_the_first_one_copied(kubesim, capsys):
    seed_basic(kubesim)
    code, out, err = _wave(kubesim, capsys, "web", "wave1")
    assert code == 0, err
    copy = kubesim.get("secrets", "shared-ca", "dst")
    assert copy["metadata"]["labels"]["vmmove.io/move-id"] == "wave1"

    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "db", "-o", "yaml")
    assert code == 0, err
    findings = {f["code"]: f for f in yaml.safe_load(out)["status"]["findings"]}
    assert "NameConflict" not in findings
    assert findings["CopiedEarlier"]["message"] == (
        'Secret "shared-ca" was copied to "dst" from "src" by move wave1; run uses that copy if its data still '
        "equals the source's, and fails the VM if not")

    code, out, err = _wave(kubesim, capsys, "db", "wave2")
    assert code == 0, out + err
    assert kubesim.get(VM, "db", "dst") is not None
    assert kubesim.get("secrets", "shared-ca", "dst")["metadata"]["resourceVersion"] == \
        copy["metadata"]["resourceVersion"]                                       # used as it was, not rewritten
    code, out, err = run_move(kubesim, capsys, "verify", "wave2", "-o", "wide")
    assert code == 0, out + err
    assert any("secret/shared-ca matches source" in line and "the copy an earlier move made" in line
               for line in out.splitlines())

    # Undoing the second wave leaves the first wave's copy, which web still uses.
    assert run_move(kubesim, capsys, "rollback", "wave2", "--yes")[0] == 0
    assert "shared-ca" in names(kubesim, "secrets", "dst")
    assert names(kubesim, VM, "dst") == ["web"]


def test_a_copy_that_no_longer_matches_its_source_fails_the_vm_and_is_left_alone(kubesim, capsys):
    seed_basic(kubesim)
    assert _wave(kubesim, capsys, "web", "wave1")[0] == 0
    source = kubesim.get("secrets", "shared-ca", "src")
    source["data"]["ca.crt"] = base64.b64encode(b"rotated").decode()
    kubesim.apply(source)

    code, out, err = _wave(kubesim, capsys, "db", "wave2")
    assert code == 1
    assert ('secret "shared-ca" in namespace "dst" was copied from "src" by wave1 and its data now differs from the '
            "source; it is left untouched") in out + err
    assert kubesim.get("secrets", "shared-ca", "dst")["metadata"]["labels"]["vmmove.io/move-id"] == "wave1"
    assert kubesim.get(VM, "db", "dst") is None

"""After a transfer, CDI shows the source DataVolumes Pending and KubeVirt the source VMs Provisioning until cleanup:
`status`, `verify` and `assess` say these VMs were moved by transfer and point at cleanup, instead of looking broken."""

from tests.move_run_support import DV, move_id, run_move, seed_basic


def test_status_verify_and_assess_say_the_sources_were_moved_by_transfer(kubesim, capsys):
    seed_basic(kubesim)
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--strategy", "transfer",
                            "--yes")
    assert code == 0, err
    mid = move_id(kubesim)
    kubesim.settle()
    assert {d["status"]["phase"] for d in kubesim.list(DV, "src") if d["metadata"]["name"].startswith("web")} == \
        {"Pending"}
    cleanup = f"kubectl vmmove cleanup {mid}"

    code, out, err = run_move(kubesim, capsys, "status", mid)
    assert code == 0, err
    assert "moved by transfer" in out and cleanup in out

    code, out, err = run_move(kubesim, capsys, "verify", mid)
    assert code == 0, err
    assert "moved by transfer" in err and cleanup in err

    code, out, err = run_move(kubesim, capsys, "assess", "-n", "src", "web", "-o", "wide")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("web "))
    assert "MovedByTransfer" in row
    code, out, err = run_move(kubesim, capsys, "assess", "-n", "src", "web", "-o", "yaml")
    assert f"moved by transfer in move {mid}" in out and cleanup in out
    # db was not moved: nothing said about it.
    code, out, err = run_move(kubesim, capsys, "assess", "-n", "src", "db", "-o", "yaml")
    assert "MovedByTransfer" not in out

"""Nothing left behind: the cluster-scoped ObjectTransfers a move creates are deleted once complete, `verify`
reports any still there, and `rollback` removes them."""

from tests.move_run_support import api_for, move_id, run_move, seed_basic

OT = "objecttransfers.cdi.kubevirt.io"


def leftover(sim, mid, claim):
    """An ObjectTransfer of the move as a run stopped between its completion and its deletion leaves it."""
    api = api_for(sim)
    from kubectl_vmmove.kube import kinds

    api.create(kinds.OBJECTTRANSFER, {
        "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "ObjectTransfer",
        "metadata": {"name": f"vmmove-{mid}-{claim}-left", "labels": {"vmmove.io/move-id": mid}},
        "spec": {"source": {"kind": "PersistentVolumeClaim", "namespace": "src", "name": claim},
                 "target": {"namespace": "dst", "name": claim + "-earlier"}}})


def test_two_runs_and_their_rollbacks_leave_no_objecttransfer(kubesim, capsys):
    seed_basic(kubesim)
    for attempt in ("a1", "a2"):
        code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--strategy", "transfer",
                                "--yes", "--move-id", attempt)
        assert code == 0, err
        assert kubesim.list(OT) == []
        code, _, err = run_move(kubesim, capsys, "rollback", attempt, "--yes")
        assert code == 0, err
    assert kubesim.requests.count(verb="create", resource="objecttransfers") > 0
    assert kubesim.list(OT) == []


def test_verify_reports_a_leftover_objecttransfer_and_rollback_removes_it(kubesim, capsys):
    seed_basic(kubesim)
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "db", "--strategy", "transfer",
                            "--yes")
    assert code == 0, err
    mid = move_id(kubesim)
    leftover(kubesim, mid, "db-rootdisk")
    code, out, err = run_move(kubesim, capsys, "verify", mid)
    assert code == 1
    assert f"objecttransfer/vmmove-{mid}-db-rootdisk-left left by this move" in out
    assert f"kubectl delete objecttransfers -l vmmove.io/move-id={mid}" in out
    code, out, err = run_move(kubesim, capsys, "rollback", mid, "--yes")
    assert code == 0, err
    assert f"objecttransfer/vmmove-{mid}-db-rootdisk-left" in out
    assert kubesim.list(OT) == []


def test_rollback_hands_all_claims_of_a_vm_back_together_and_shows_it(kubesim, capsys):
    """On a real control plane each step of a hand-back waits seconds (pvc-protection, PV binder resync): the
    claims of a VM go through each step together, so all target claims are released before any source claim is
    made again, and the progress says how many claims are done."""
    seed_basic(kubesim)
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--strategy", "transfer",
                            "--yes")
    assert code == 0, err
    mid = move_id(kubesim)
    claims = sorted(p["metadata"]["name"] for p in kubesim.list("persistentvolumeclaims", "dst"))
    assert len(claims) == 3        # two disks and the persistent TPM state
    kubesim.requests.reset()
    code, out, err = run_move(kubesim, capsys, "rollback", mid, "--yes", "--parallel", "2")
    assert code == 0, err
    log = [e for e in kubesim.requests.entries if e.resource == "persistentvolumeclaims" and e.status < 300]
    deletes = [i for i, e in enumerate(log) if e.verb == "delete" and e.namespace == "dst"]
    creates = [i for i, e in enumerate(log) if e.verb == "create" and e.namespace == "src"]
    assert len(deletes) == 3 and len(creates) == 3
    assert max(deletes) < min(creates)
    assert "3/3 claim(s) released in dst" in err and "3/3 claim(s) bound in src" in err

"""`run --strategy transfer`: the volumes themselves change namespace (no copy), through CDI's ObjectTransfer or
the Retain → claimRef → restore rebind; rollback hands them back."""

import pytest
import yaml

from tests.move_run_support import (
    DV,
    PV,
    PVC,
    VM,
    VMI,
    api_for,
    move_id,
    names,
    run_move,
    seed_basic,
    vm_records,
    wait_vms,
)


def volumes(sim, ns):
    return {p["metadata"]["name"]: p["spec"]["volumeName"] for p in sim.list(PVC, ns)}


@pytest.mark.parametrize("object_transfer", [True, False], ids=["objecttransfer", "rebind"])
def test_transfer_moves_the_volumes_and_rollback_hands_them_back(kubesim, capsys, tmp_path, object_transfer):
    seed_basic(kubesim)
    before = volumes(kubesim, "src")
    policies = {p["metadata"]["name"]: p["spec"]["persistentVolumeReclaimPolicy"] for p in kubesim.list(PV)}
    code, text, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--strategy",
                               "transfer", "-o", "yaml")
    assert code == 0, err
    plan = yaml.safe_load(text)
    transfers = [s for v in plan["spec"]["vms"] for s in v["steps"] if s["action"] == "transfer"]
    assert transfers and all(s.get("objectTransfer") for s in transfers)
    if not object_transfer:
        for s in transfers:
            s.pop("objectTransfer")
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    code, out, err = run_move(kubesim, capsys, "run", "-f", str(path), "--yes")
    assert code == 0, err
    # One ObjectTransfer per claim when they are used, each deleted once complete: none is left behind.
    created = kubesim.requests.count(verb="create", resource="objecttransfers")
    assert created == (len(transfers) if object_transfer else 0)
    assert kubesim.list("objecttransfers.cdi.kubevirt.io") == []
    # Said once, before the per-VM lines, when (and only when) the deprecated API is used.
    warning = "Warning: CDI's ObjectTransfer API is deprecated since v1.61 and will be removed; CDI v1.61.0 still"
    assert err.count(warning) == (1 if object_transfer else 0)

    # Same volumes, now claimed in the target; reclaim policies as they were; nothing copied.
    assert volumes(kubesim, "dst") == before
    assert volumes(kubesim, "src") == {}
    assert {p["metadata"]["name"]: p["spec"]["persistentVolumeReclaimPolicy"] for p in kubesim.list(PV)} == policies
    assert all(p["spec"]["claimRef"]["namespace"] == "dst" for p in kubesim.list(PV))
    for claim in before:
        assert kubesim.get(PVC, claim, "dst")["metadata"]["labels"]["vmmove.io/move-id"] == move_id(kubesim)
    assert kubesim.get(VMI, "web", "dst")["status"]["phase"] == "Running"
    mid = move_id(kubesim)
    assert run_move(kubesim, capsys, "verify", mid)[0] == 0

    code, out, err = run_move(kubesim, capsys, "rollback", mid, "--yes")
    assert code == 0, err
    assert volumes(kubesim, "src") == before
    assert names(kubesim, PVC, "dst") == [] and names(kubesim, VM, "dst") == []
    assert {p["metadata"]["name"]: p["spec"]["persistentVolumeReclaimPolicy"] for p in kubesim.list(PV)} == policies
    # The source DataVolumes adopt their claims again and the source VM runs as before.
    wait_vms(kubesim, "src", ["web"])
    for dv in kubesim.list(DV, "src"):
        assert dv["status"]["phase"] == "Succeeded"
        assert "cdi.kubevirt.io/storage.prePopulated" not in (dv["metadata"].get("annotations") or {})
    assert {r["phase"] for r in vm_records(kubesim).values()} == {"RolledBack"}


def test_transfer_then_cleanup_keeps_the_moved_volumes(kubesim, capsys):
    seed_basic(kubesim)
    before = volumes(kubesim, "src")
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--strategy", "transfer",
                            "--yes")
    assert code == 0, err
    code, _, err = run_move(kubesim, capsys, "cleanup", move_id(kubesim), "--yes")
    assert code == 0, err
    assert names(kubesim, VM, "src") == [] and names(kubesim, DV, "src") == []
    assert volumes(kubesim, "dst") == before
    assert all(p["status"]["phase"] == "Bound" for p in kubesim.list(PV))


def test_object_transfer_gives_way_to_the_native_rebind_from_the_cdi_release_that_deletes_it(kubesim, capsys,
                                                                                          monkeypatch):
    from kubectl_vmmove.move.execution import transfer as disks

    seed_basic(kubesim)
    code, text, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--strategy",
                               "transfer", "-o", "yaml")
    plan = yaml.safe_load(text)
    assert disks.object_transfer_choice(api_for(kubesim), plan) == (True, (1, 61, 0))
    monkeypatch.setattr(disks, "OBJECT_TRANSFER_REMOVED_IN", (1, 61))    # as if v1.61 had deleted it
    assert disks.object_transfer_choice(api_for(kubesim), plan) == (False, (1, 61, 0))
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--strategy", "transfer",
                              "--yes")
    assert code == 0, err
    assert "ObjectTransfer" not in err
    assert kubesim.list("objecttransfers.cdi.kubevirt.io") == []
    assert {r["phase"] for r in vm_records(kubesim).values()} == {"Succeeded"}

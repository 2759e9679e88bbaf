"""MAC policies against a KubeMacPool that refuses a VM whose MAC another VM holds (KubeMacPool older than v0.51):
`keep` is refused before anything changes, `opt-out` keeps the MACs in a namespace KubeMacPool ignores, `new`
lets KubeMacPool allocate new ones and verify accepts the change."""

import json

import pytest

from tests.move_run_support import VM, identity, move_id, names, run_move, seed_basic, vm_records

OPT_OUT = "mutatevirtualmachines.kubemacpool.io"
WEB_MAC = "02:aa:bb:cc:dd:01"


@pytest.fixture
def strict(kubesim_factory):
    sim = kubesim_factory(kubemacpool="reject")
    seed_basic(sim)
    return sim


def macs(vm):
    return identity(vm)[0]


def test_keep_is_refused_by_preflight_with_the_finding_and_the_remedy(strict, capsys):
    code, out, err = run_move(strict, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--mac-policy", "keep",
                              "-o", "json")
    doc = json.loads(out)
    finding = next(f for f in doc["status"]["findings"] if f["code"] == "MacRejected")
    assert finding["severity"] == "error"
    assert "failed to allocate requested mac address" in finding["message"]
    assert f"--mac-policy opt-out (labels the target namespace {OPT_OUT}=ignore)" in finding["remedy"]
    assert "--mac-policy new" in finding["remedy"]

    code, out, err = run_move(strict, capsys, "run", "-n", "src", "--to", "dst", "--all", "--mac-policy", "keep",
                              "--yes")
    assert code == 1
    assert "MacRejected" in err and "error: the plan has" in err and "nothing was changed" in err
    assert names(strict, VM, "dst") == []
    assert strict.get(VM, "web", "src")["spec"]["runStrategy"] == "Always"


def test_opt_out_labels_the_target_namespace_and_keeps_the_macs(strict, capsys):
    source = strict.get(VM, "web", "src")
    code, out, err = run_move(strict, capsys, "run", "-n", "src", "--to", "dst", "--all", "--mac-policy", "opt-out",
                              "--yes")
    assert code == 0, out + err
    assert "MAC policy opt-out" in err
    assert strict.get("namespaces", "dst")["metadata"]["labels"][OPT_OUT] == "ignore"
    assert macs(strict.get(VM, "web", "dst")) == [WEB_MAC] == macs(source)
    code, out, err = run_move(strict, capsys, "verify", move_id(strict), "-o", "wide")
    assert code == 0, out + err
    assert row(out, "web", "MAC addresses")[0] == "pass"


def test_new_gets_macs_from_kubemacpool_and_verify_expects_the_change(strict, capsys):
    code, out, err = run_move(strict, capsys, "run", "-n", "src", "--to", "dst", "--all", "--mac-policy", "new",
                              "--yes")
    assert code == 0, out + err
    assert OPT_OUT not in (strict.get("namespaces", "dst")["metadata"].get("labels") or {})
    moved = macs(strict.get(VM, "web", "dst"))
    assert len(moved) == 1 and moved[0] and moved[0] != WEB_MAC       # allocated by KubeMacPool
    assert {r["phase"] for r in vm_records(strict).values()} == {"Succeeded"}
    code, out, err = run_move(strict, capsys, "verify", move_id(strict))
    assert code == 0, out + err
    result, reason = row(out, "web", "MAC addresses")
    assert result == "pass" and reason == f"new addresses by policy: {moved[0]}"


def row(table: str, vm: str, check: str):
    """(result, reason) of one row of verify's table."""
    for line in table.splitlines():
        if line.startswith(vm + " ") and f" {check} " in line:
            rest = line.split(f" {check} ", 1)[1].split(None, 1)
            return rest[0], rest[1].strip() if len(rest) > 1 else ""
    raise AssertionError(f"no row {vm}/{check} in\n{table}")

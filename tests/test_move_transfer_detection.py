"""ObjectTransfer is used only where the resource itself is served (discovery of `objecttransfers` in
cdi.kubevirt.io/v1beta1, not just the group version), decided in `plan` and again in `run`; elsewhere the volumes are
rebound natively. A 404 names the resource that was missing."""

import yaml

from tests.move_run_support import PVC, run_move, seed_basic, vm_records

OT = "objecttransfers.cdi.kubevirt.io"


def volumes(sim, ns):
    return {p["metadata"]["name"]: p["spec"]["volumeName"] for p in sim.list(PVC, ns)}


def transfer_steps(plan):
    return [s for v in plan["spec"]["vms"] for s in v["steps"] if s["action"] == "transfer"]


def test_plan_and_run_on_a_cdi_without_objecttransfers_rebind_natively(kubesim_factory, capsys, tmp_path):
    sim = kubesim_factory(unserved_resources=(OT,))   # CDI serves v1beta1, its ObjectTransfer CRD is absent
    seed_basic(sim)
    before = volumes(sim, "src")
    code, text, err = run_move(sim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--strategy", "transfer",
                               "-o", "yaml")
    assert code == 0, err
    plan = yaml.safe_load(text)
    assert transfer_steps(plan) and not any(s.get("objectTransfer") for s in transfer_steps(plan))
    assert "ObjectTransferDeprecated" not in text

    # A plan made where the resource was served: run looks again and rebinds natively.
    for step in transfer_steps(plan):
        step["objectTransfer"] = True
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    code, out, err = run_move(sim, capsys, "run", "-f", str(path), "--yes")
    assert code == 0, err
    assert "still serves it" not in err and "404" not in err
    assert volumes(sim, "dst") == before and volumes(sim, "src") == {}
    assert {r["phase"] for r in vm_records(sim).values()} == {"Succeeded"}


def test_a_404_from_a_step_names_the_missing_resource(kubesim, capsys):
    seed_basic(kubesim)
    # The resource goes away between run's discovery and the step (the CRD deleted meanwhile).
    kubesim.faults.inject(verb="create", resource=OT, status=404)
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "db", "--strategy", "transfer",
                              "--yes")
    assert code == 1
    assert "the server could not find the requested resource (post objecttransfers.cdi.kubevirt.io)" in out + err

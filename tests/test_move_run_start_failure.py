"""A VM that will not start is explained as soon as the cluster shows why (the VMI's events and conditions), not
after the whole --timeout, with what was seen and the rollback command."""

import yaml

from tests.move_run_support import move_id, run_move, seed_basic, vm_records

NAD = "NetworkAttachmentDefinition"


def test_a_vm_whose_network_attachment_definition_is_missing_fails_early_with_the_cause(kubesim, capsys, tmp_path):
    seed_basic(kubesim, running=("db",))
    code, text, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "db", "-o", "yaml")
    assert code == 0, err
    plan = yaml.safe_load(text)
    # As if the NetworkAttachmentDefinition had been deleted from the target: KubeVirt cannot render the pod.
    for vm in plan["spec"]["vms"]:
        vm["steps"] = [s for s in vm["steps"] if s["kind"] != NAD]
    plan["spec"]["prepare"] = [s for s in plan["spec"].get("prepare") or () if s["kind"] != NAD]
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    # A run that waits for its --timeout instead of reading the VMI says "timed out" after a minute.
    code, out, err = run_move(kubesim, capsys, "run", "-f", str(path), "--yes", "--timeout", "60s")
    assert code == 1
    message = vm_records(kubesim)["db"]["message"]
    assert "failed to locate network attachment definition dst/db-net" in message
    assert "timed out" not in message
    mid = move_id(kubesim)
    assert f"kubectl vmmove rollback {mid}" in message

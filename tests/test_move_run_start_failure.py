"""A VM that will not start is explained as soon as the cluster shows why (the VMI's events and conditions), not
after the whole --timeout, with what was seen and the rollback command."""

from tests.move_run_support import move_id, run_move, seed_basic, vm_records

NADS = "network-attachment-definitions"


class _DeletesTheTargetNad:
    """Someone (a GitOps prune, an operator) deletes the NAD the move copied into the target before the VM starts:
    KubeVirt then cannot render the launcher pod."""

    def __init__(self, sim):
        self.sim = sim

    def admit(self, op, resource, obj, old, user):
        return obj

    def reconcile(self, now):
        gone = False
        for nad in self.sim.list(NADS, "dst"):
            self.sim.delete(NADS, nad["metadata"]["name"], "dst")
            gone = True
        return gone


def test_a_vm_whose_network_attachment_definition_is_missing_fails_early_with_the_cause(kubesim, capsys):
    seed_basic(kubesim, running=("db",))
    kubesim.controllers.insert(0, _DeletesTheTargetNad(kubesim))
    # A run that waits for its --timeout instead of reading the VMI says "timed out" after a minute.
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "db", "--yes", "--timeout", "60s")
    assert code == 1
    message = vm_records(kubesim)["db"]["message"]
    assert "failed to locate network attachment definition dst/db-net" in message
    assert "timed out" not in message
    mid = move_id(kubesim)
    assert f"kubectl vmmove rollback {mid}" in message

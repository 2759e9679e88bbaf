"""The typed views over the plan and the journal: `MovePlan` reads a plan document without changing it, and a VM's
journal record changes only through its transitions (begin, step done, fail, interrupt, succeed, rolled back)."""

import copy
import json

import pytest

from kubectl_vmmove.move.planning.moveplan import MovePlan
from kubectl_vmmove.move.state import records
from kubectl_vmmove.move.state.records import VMRecord
from tests.test_move_plan import make


def test_plan_view_reads_the_document_as_plan_wrote_it():
    _, _, doc = make(["web1", "web2"], mac_policy="keep")
    before = json.dumps(doc, sort_keys=True)
    plan = MovePlan(doc)
    assert (plan.move_id, plan.source, plan.target, plan.strategy, plan.mac_policy) == \
        ("p1", "src", "dst", "clone", "keep")
    assert plan.create_namespace is False and plan.services is True
    assert plan.vm_names == ["web1", "web2"]
    assert plan.vm("web2")["name"] == "web2"
    with pytest.raises(KeyError):
        plan.vm("db")
    assert [(s["action"], s["kind"], s["name"]) for s in plan.prepare] == [
        ("copy", "Secret", "common-ci"), ("create", "Service", "web")]
    assert ("Service", "web") in [(s["kind"], s["name"]) for s in plan.cleanup]
    # run order: prepare first, then each VM's steps; cleanup order: each VM's deletions, then the shared ones
    assert plan.run_steps()[:2] == plan.prepare and plan.run_steps()[2]["action"] == "stop"
    assert plan.cleanup_steps()[0] == {**plan.cleanup_steps()[0], "action": "delete", "kind": "VirtualMachine",
                                       "name": "web1"}
    assert plan.cleanup_steps()[-len(plan.cleanup):] == plan.cleanup
    assert json.dumps(doc, sort_keys=True) == before          # reading never changes the document


def test_plan_view_gives_back_the_options_the_plan_was_made_with():
    _, _, doc = make(["web1"], strategy="transfer", services=False, target_run_strategy="Halted",
                     storage_class_map={"standard": "fast"})
    opts = MovePlan(doc).options()
    assert (opts.source, opts.target, opts.strategy, opts.services, opts.target_run_strategy, opts.move_id) == \
        ("src", "dst", "transfer", False, "Halted", "p1")
    assert opts.storage_class_map == {"standard": "fast"}


STEPS = [{"action": "stop", "kind": "VirtualMachine", "name": "a"},
         {"action": "clone", "kind": "DataVolume", "name": "a-root"},
         {"action": "clone", "kind": "DataVolume", "name": "a-data"},
         {"action": "start", "kind": "VirtualMachine", "name": "a"}]


def test_a_vm_record_goes_through_begin_steps_and_success():
    data = records.new_vm_record()
    rec = VMRecord(data)
    assert rec.phase == records.PENDING and rec.attempts == 0
    rec.begin(STEPS, "alice", "2026-01-01T00:00:00Z")
    assert rec.phase == records.RUNNING and rec.attempts == 1 and data["user"] == "alice"
    assert [s["state"] for s in rec.steps] == [records.STEP_PENDING] * 4
    rec.step_done([0], "stopped", "2026-01-01T00:00:05Z", "clone 2 disk(s)", stopped=True)
    rec.step_done([1, 2], "2 disk(s) cloned", "2026-01-01T00:01:00Z", "start virtualmachine/a")
    rec.step_done([3], "running", "2026-01-01T00:01:30Z", "done", running=True)
    assert [s["state"] for s in rec.steps] == [records.STEP_DONE] * 4
    assert rec.steps[2]["result"] == "2 disk(s) cloned" and rec.step == "done"
    assert (data["stoppedAt"], data["runningAt"]) == ("2026-01-01T00:00:05Z", "2026-01-01T00:01:30Z")
    rec.succeed("2026-01-01T00:01:31Z", 85.5)
    assert rec.phase == records.SUCCEEDED and data["downtimeSeconds"] == 85.5 and data["progress"] == 100.0


def test_a_failed_vm_begins_again_keeping_the_steps_it_had_done():
    rec = VMRecord(records.new_vm_record())
    rec.begin(STEPS, "alice", "2026-01-01T00:00:00Z")
    rec.step_done([0], "stopped", "2026-01-01T00:00:05Z", "clone 2 disk(s)")
    rec.fail("clone timed out", "2026-01-01T01:00:00Z")
    assert rec.phase == records.FAILED and rec.message == "clone timed out"
    rec.begin(STEPS, "bob", "2026-01-02T00:00:00Z")
    assert rec.phase == records.RUNNING and rec.attempts == 2 and rec.message is None
    assert "finished" not in rec.data and rec.data["started"] == "2026-01-01T00:00:00Z"   # the first start stays
    assert [s["state"] for s in rec.steps] == [records.STEP_DONE] + [records.STEP_PENDING] * 3
    assert rec.steps[0]["result"] == "stopped"


def test_an_interrupted_vm_is_pending_again_and_a_rolled_back_one_says_so():
    rec = VMRecord(records.new_vm_record())
    rec.begin(STEPS, "alice", "2026-01-01T00:00:00Z")
    rec.interrupt()
    assert rec.phase == records.PENDING and "re-run" in rec.message
    rec.rolled_back()
    assert (rec.phase, rec.step, rec.message) == (records.ROLLED_BACK, "rolled back", None)


def test_a_record_without_a_phase_reads_as_pending():
    assert VMRecord({}).phase == records.PENDING and VMRecord({}).steps == []


def test_journal_applies_a_transition_to_the_stored_record(kubesim):
    from kubectl_vmmove.kube import kinds
    from kubectl_vmmove.move.state import journal as journalmod
    from tests.move_run_support import api_for

    api = api_for(kubesim)
    api.create(kinds.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dst"}})
    _, _, doc = make(["web1"])
    jr = journalmod.Journal.create(api, copy.deepcopy(doc), "alice")
    jr.vm_change("web1", VMRecord.begin, doc["spec"]["vms"][0]["steps"], "alice", "2026-01-01T00:00:00Z")
    jr.vm_change("web1", VMRecord.fail, "boom", "2026-01-01T00:00:09Z")
    stored = journalmod.find(api, "p1", ["dst"]).vm("web1")
    assert stored["phase"] == records.FAILED and stored["message"] == "boom" and stored["attempts"] == 1

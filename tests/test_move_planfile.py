"""A plan file is a review document, never an instruction set: `run -f` refuses a damaged or edited file, re-derives
every step from the cluster and the plan's inputs, and refuses a finished move; verify and cleanup never take a VM
that is absent from the target for a moved one. Each case compares the cluster before and after."""

import yaml

from tests.kubesim import builders
from tests.kubesim.controllers.testing import run_until
from tests.move_run_support import VM, api_for, move_id, names, run_move, seed_basic

NAMESPACES = ("src", "dst", "kube-system")
DIGEST_ANNOTATION = "vmmove.io/plan-digest"
RESOURCES = (VM, "datavolumes.cdi.kubevirt.io", "persistentvolumeclaims", "secrets", "configmaps", "services",
             "network-attachment-definitions.k8s.cni.cncf.io", "controllerrevisions.apps")


def cluster(sim):
    """kind/namespace/name -> (uid, generation) of every object a move could touch, and the namespaces."""
    out = {("namespaces", "", o["metadata"]["name"]): o["metadata"]["uid"] for o in sim.list("namespaces")}
    for ns in NAMESPACES:
        for resource in RESOURCES:
            for o in sim.list(resource, ns):
                out[(resource, ns, o["metadata"]["name"])] = (o["metadata"]["uid"], o["metadata"].get("generation"))
    return out


def saved_plan(sim, capsys, tmp_path, *vms):
    code, text, err = run_move(sim, capsys, "plan", "-n", "src", "--to", "dst", *(vms or ("web", "db")), "-o", "yaml")
    assert code == 0, err
    return text


def refused(sim, capsys, tmp_path, text, name="plan.yaml"):
    """Run the plan file `text`; assert it is refused with nothing changed; the error text."""
    path = tmp_path / name
    path.write_text(text)
    before = cluster(sim)
    code, out, err = run_move(sim, capsys, "run", "-f", str(path), "--yes")
    assert code == 1, out + err
    assert err.startswith("error: ") and "Traceback" not in err
    assert cluster(sim) == before
    return err


def _vm_entry(doc, name):
    return next(v for v in doc["spec"]["vms"] if v["name"] == name)


def _create_vm_index(entry):
    return next(i for i, s in enumerate(entry["steps"]) if s["action"] == "create" and s["kind"] == "VirtualMachine")


def test_a_plan_cut_short_at_a_step_boundary_is_refused_as_damaged(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    text = saved_plan(kubesim, capsys, tmp_path)
    cut = text[:text.index("    - action: create\n      kind: VirtualMachine\n")]
    assert yaml.safe_load(cut)["spec"]["vms"]                     # still a well-formed plan, only shorter
    err = refused(kubesim, capsys, tmp_path, cut)
    assert 'the plan file "' in err and "is damaged or edited" in err
    assert "plan again with 'kubectl vmmove plan -n src --to dst" in err


def test_two_plans_in_one_file_are_refused_as_damaged(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    text = saved_plan(kubesim, capsys, tmp_path, "web") + "---\n" + saved_plan(kubesim, capsys, tmp_path, "db")
    err = refused(kubesim, capsys, tmp_path, text)
    assert "is damaged or edited" in err and "2 YAML documents" in err and "not valid YAML" not in err


def test_hand_edited_plans_are_refused_and_change_nothing(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    kubesim.apply(builders.namespace("kube-system"))
    original = yaml.safe_load(saved_plan(kubesim, capsys, tmp_path))

    added = yaml.safe_load(yaml.safe_dump(original))
    _vm_entry(added, "web")["steps"].append(
        {"action": "create", "kind": "Secret", "name": "planted", "namespace": "dst",
         "object": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "planted", "namespace": "dst"},
                    "stringData": {"k": "v"}}})
    retargeted = yaml.safe_load(yaml.safe_dump(original))
    retargeted["spec"]["target"]["namespace"] = "kube-system"
    no_create = yaml.safe_load(yaml.safe_dump(original))
    web = _vm_entry(no_create, "web")
    del web["steps"][_create_vm_index(web)]
    unsealed = yaml.safe_load(yaml.safe_dump(original))
    unsealed["metadata"]["annotations"].pop(DIGEST_ANNOTATION, None)

    for i, doc in enumerate((added, retargeted, no_create, unsealed)):
        err = refused(kubesim, capsys, tmp_path, yaml.safe_dump(doc), name=f"edited-{i}.yaml")
        assert "is damaged or edited" in err, err
        assert "plan again with 'kubectl vmmove plan" in err
    assert "planted" not in names(kubesim, "secrets", "dst")
    assert not [c for c in kubesim.list("configmaps", "kube-system") if c["metadata"]["name"].startswith("vmmove-")]


def test_a_resealed_edit_is_refused_naming_the_first_step_that_differs(kubesim, capsys, tmp_path):
    from kubectl_vmmove.move.planning import planfile

    seed_basic(kubesim)
    doc = yaml.safe_load(saved_plan(kubesim, capsys, tmp_path))
    web = _vm_entry(doc, "web")
    index = _create_vm_index(web)
    web["steps"][index]["object"]["spec"]["template"]["spec"]["domain"]["memory"] = {"guest": "64Gi"}
    err = refused(kubesim, capsys, tmp_path, yaml.safe_dump(planfile.seal(doc)))
    assert "the plan's steps differ from what the cluster and the plan's inputs give now" in err
    assert f"VM web step {index + 1} (create virtualmachine/web)" in err

    doc = yaml.safe_load(saved_plan(kubesim, capsys, tmp_path))
    web = _vm_entry(doc, "web")
    del web["steps"][_create_vm_index(web):]
    err = refused(kubesim, capsys, tmp_path, yaml.safe_dump(planfile.seal(doc)))
    assert "the plan's steps differ" in err and "VM web" in err and "create virtualmachine/web" in err


def test_the_same_plan_file_runs_and_runs_again(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    path = tmp_path / "plan.yaml"
    path.write_text(saved_plan(kubesim, capsys, tmp_path))
    code, _, err = run_move(kubesim, capsys, "run", "-f", str(path), "--yes")
    assert code == 0, err
    code, _, err = run_move(kubesim, capsys, "run", "-f", str(path), "--yes")
    assert code == 0, err
    assert names(kubesim, VM, "dst") == ["db", "web"]


def _moved_without_creating(kubesim, capsys):
    """A move whose journal's plan lost web's create step and everything after it (as a plan cut short did before
    plan files were sealed): run reports web Succeeded although no VM web exists in the target."""
    from kubectl_vmmove.move.cmd.run import execute

    seed_basic(kubesim)
    doc = yaml.safe_load(saved_plan(kubesim, capsys, None, "web"))
    web = _vm_entry(doc, "web")
    del web["steps"][_create_vm_index(web):]
    assert execute(api_for(kubesim), doc, None, "admin", 1, 600) == 0
    capsys.readouterr()
    assert names(kubesim, VM, "dst") == []
    return doc["spec"]["moveId"]


def test_verify_never_passes_a_vm_absent_from_the_target(kubesim, capsys):
    mid = _moved_without_creating(kubesim, capsys)
    code, out, err = run_move(kubesim, capsys, "verify", mid, "-o", "wide")
    assert code == 1
    row = next(line for line in out.splitlines() if "virtualmachine/web exists" in line)
    assert "FAIL" in row and "not found in namespace dst" in row


def test_cleanup_never_deletes_a_source_whose_target_vm_is_absent(kubesim, capsys):
    mid = _moved_without_creating(kubesim, capsys)
    before = cluster(kubesim)
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--yes")
    assert code == 1
    assert cluster(kubesim) == before
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--dry-run")
    assert code == 1
    rows = [line.split() for line in out.splitlines()[1:]]
    assert ["VirtualMachine", "web", "src", "would", "delete"] not in rows
    assert any(r[:2] == ["VirtualMachine", "web"] and "kept:" in r for r in rows)
    assert kubesim.get(VM, "web", "src") is not None


def test_run_of_a_rolled_back_plan_is_refused_saying_what_happened(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    path = tmp_path / "plan.yaml"
    path.write_text(saved_plan(kubesim, capsys, tmp_path, "db"))
    assert run_move(kubesim, capsys, "run", "-f", str(path), "--yes")[0] == 0
    mid = move_id(kubesim)
    assert run_move(kubesim, capsys, "rollback", mid, "--yes")[0] == 0
    err = refused(kubesim, capsys, tmp_path, path.read_text())
    assert f"move {mid} was rolled back at " in err
    assert "to move the VMs again, plan a new move: kubectl vmmove plan -n src --to dst db" in err
    before = cluster(kubesim)
    code, _, err = run_move(kubesim, capsys, "run", "--resume", mid, "--yes")
    assert code == 1 and f"move {mid} was rolled back at " in err
    assert cluster(kubesim) == before


def test_run_of_a_cleaned_up_plan_is_refused_saying_what_happened(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    path = tmp_path / "plan.yaml"
    path.write_text(saved_plan(kubesim, capsys, tmp_path, "db"))
    assert run_move(kubesim, capsys, "run", "-f", str(path), "--yes")[0] == 0
    mid = move_id(kubesim)
    assert run_move(kubesim, capsys, "cleanup", mid, "--yes")[0] == 0
    # the deleted source claim goes once the controller-manager drops its pvc-protection finalizer
    run_until(kubesim, lambda: kubesim.get("persistentvolumeclaims", "db-rootdisk", "src") is None)
    err = refused(kubesim, capsys, tmp_path, path.read_text())
    assert f"move {mid} was cleaned up at " in err and "its source VMs were deleted" in err
    assert "plan a new move" in err


def test_a_resealed_edit_of_a_plan_that_already_ran_is_refused(kubesim, capsys, tmp_path):
    from kubectl_vmmove.move.planning import planfile

    seed_basic(kubesim)
    text = saved_plan(kubesim, capsys, tmp_path, "db")
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    assert run_move(kubesim, capsys, "run", "-f", str(path), "--yes")[0] == 0
    doc = yaml.safe_load(text)
    _vm_entry(doc, "db")["steps"].append(
        {"action": "create", "kind": "Secret", "name": "planted", "namespace": "dst",
         "object": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "planted", "namespace": "dst"}}})
    err = refused(kubesim, capsys, tmp_path, yaml.safe_dump(planfile.seal(doc)), name="edited.yaml")
    assert f"is not the plan move {doc['spec']['moveId']} runs" in err and "create secret/planted" in err
    assert "planted" not in names(kubesim, "secrets", "dst")

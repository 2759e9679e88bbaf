"""Labels and annotations are part of what a user owns: one added to a VM or its DataVolume after planning makes
the saved plan stale (a run would drop it), a DataVolume's own labels follow it to the target, and `verify`
compares labels and annotations of what the move created."""

from tests.move_run_support import DV, VM, move_id, names, run_move, seed_basic


def _saved_plan(kubesim, capsys, tmp_path, *vms):
    code, text, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", *vms, "-o", "yaml")
    assert code == 0, err
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return str(path)


def _relabel(kubesim, resource, name, labels=None, annotations=None):
    obj = kubesim.get(resource, name, "src")
    obj["metadata"].setdefault("labels", {}).update(labels or {})
    obj["metadata"].setdefault("annotations", {}).update(annotations or {})
    kubesim.apply(obj)


def test_a_label_added_to_the_vm_after_planning_makes_the_plan_stale(kubesim, capsys, tmp_path):
    seed_basic(kubesim)
    path = _saved_plan(kubesim, capsys, tmp_path, "db")
    # A label and an annotation change neither the spec nor the generation of a custom resource.
    _relabel(kubesim, VM, "db", labels={"backup": "daily"}, annotations={"owner": "team-blue"})
    code, _, err = run_move(kubesim, capsys, "run", "-f", path, "--yes")
    assert code == 1
    assert "stale" in err and "virtualmachine/db" in err and "labels or annotations" in err
    assert names(kubesim, VM, "dst") == []


def test_a_label_added_to_a_datavolume_after_planning_makes_the_plan_stale(kubesim, capsys, tmp_path):
    seed_basic(kubesim, running=())
    path = _saved_plan(kubesim, capsys, tmp_path, "web")
    _relabel(kubesim, DV, "web-data", labels={"backup": "weekly"})
    code, _, err = run_move(kubesim, capsys, "run", "-f", path, "--yes")
    assert code == 1
    assert "stale" in err and "datavolume/web-data" in err
    assert names(kubesim, VM, "dst") == []


def test_datavolume_labels_follow_it_and_a_fresh_plan_of_a_relabelled_vm_carries_them(kubesim, capsys, tmp_path):
    seed_basic(kubesim, running=())
    _relabel(kubesim, VM, "db", labels={"backup": "daily"}, annotations={"owner": "team-blue"})
    _relabel(kubesim, DV, "web-data", labels={"backup": "weekly"}, annotations={"note": "keep 30 days"})
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--yes")
    assert code == 0, err
    vm = kubesim.get(VM, "db", "dst")
    assert vm["metadata"]["labels"]["backup"] == "daily"
    assert vm["metadata"]["annotations"]["owner"] == "team-blue"
    dv = kubesim.get(DV, "web-data", "dst")
    assert dv["metadata"]["labels"]["backup"] == "weekly"
    assert dv["metadata"]["annotations"]["note"] == "keep 30 days"


def test_verify_fails_when_a_label_or_annotation_of_the_copy_differs(kubesim, capsys):
    seed_basic(kubesim, running=())
    _relabel(kubesim, VM, "db", labels={"backup": "daily"}, annotations={"owner": "team-blue"})
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "db", "--yes")
    assert code == 0, err
    mid = move_id(kubesim)
    code, out, err = run_move(kubesim, capsys, "verify", mid, "-o", "wide")
    assert code == 0, out + err

    vm = kubesim.get(VM, "db", "dst")
    del vm["metadata"]["labels"]["backup"]
    vm["metadata"]["annotations"]["owner"] = "someone-else"
    kubesim.apply(vm)
    code, out, err = run_move(kubesim, capsys, "verify", mid, "-o", "wide")
    assert code == 1
    row = next(line for line in out.splitlines() if "virtualmachine/db matches source" in line)
    assert "FAIL" in row and "metadata.labels.backup" in row and "metadata.annotations.owner" in row


def test_verify_fails_when_a_label_of_a_cloned_datavolume_is_lost(kubesim, capsys):
    seed_basic(kubesim, running=())
    _relabel(kubesim, DV, "web-data", labels={"backup": "weekly"})
    code, _, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--yes")
    assert code == 0, err
    mid = move_id(kubesim)
    assert run_move(kubesim, capsys, "verify", mid)[0] == 0
    dv = kubesim.get(DV, "web-data", "dst")
    del dv["metadata"]["labels"]["backup"]
    kubesim.apply(dv)
    code, out, err = run_move(kubesim, capsys, "verify", mid, "-o", "wide")
    assert code == 1
    row = next(line for line in out.splitlines() if "disk web-data datavolume labels" in line)
    assert "FAIL" in row and "metadata.labels.backup" in row

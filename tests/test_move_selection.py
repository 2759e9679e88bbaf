"""Choosing VMs: names, label selectors, --all and move-list files."""

import argparse

import pytest

from kubectl_vmmove.errors import UsageError, UserError
from kubectl_vmmove.move import label_selectors as selectors
from kubectl_vmmove.move.planning import selection
from tests.kubesim import builders as b


def _args(**kw):
    base = dict(vms=[], selector=None, all=False, move_list=None)
    base.update(kw)
    return argparse.Namespace(**base)


def test_move_list_ignores_comments_blank_lines_and_duplicates(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("# batch 1\nweb-01\n\n  db-01   # the database\nweb-01\n")
    assert selection.read_move_list(str(path)) == ["web-01", "db-01"]


@pytest.mark.parametrize("content,message", [
    ("web-01 db-01\n", "line 1: expected one VM name per line"),
    ("# only comments\n\n", "names no VMs"),
])
def test_bad_move_list_content(tmp_path, content, message):
    path = tmp_path / "list.txt"
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        selection.read_move_list(str(path))


def test_unreadable_move_lists(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        selection.read_move_list(str(tmp_path / "nope.txt"))
    with pytest.raises(UserError, match="is a directory"):
        selection.read_move_list(str(tmp_path))
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(UserError, match="cannot read the move list"):
        selection.read_move_list(str(binary))


def test_one_way_of_choosing():
    with pytest.raises(UsageError, match="choose VMs one way"):
        selection.from_args(_args(vms=["a"], all=True))
    with pytest.raises(UsageError, match="choose the VMs to move"):
        selection.from_args(_args())
    assert selection.from_args(_args(), default_all=True).all
    with pytest.raises(UsageError, match="unable to parse requirement"):
        selection.from_args(_args(selector="app=web,,x"))
    with pytest.raises(UsageError, match="invalid label key"):
        selection.from_args(_args(selector="-bad=x"))


def test_apply_names_selector_and_all():
    vms = [b.served_vm("web-1", labels={"app": "web", "tier": "front"}), b.served_vm("web-2", labels={"app": "web"}),
           b.served_vm("db-1", labels={"app": "db"})]
    assert selection.apply(selection.Selection(names=["db-1", "web-1"]), vms, "src") == ["db-1", "web-1"]
    assert selection.apply(selection.Selection(label_selector="app=web,tier!=front"), vms, "src") == ["web-2"]
    assert selection.apply(selection.Selection(label_selector="app in (db, x)"), vms, "src") == ["db-1"]
    assert selection.apply(selection.Selection(label_selector="tier"), vms, "src") == ["web-1"]
    assert selection.apply(selection.Selection(label_selector="!tier"), vms, "src") == ["db-1", "web-2"]
    assert selection.apply(selection.Selection(all=True), vms, "src") == ["db-1", "web-1", "web-2"]


def test_apply_errors_name_what_is_missing():
    vms = [b.served_vm("web-1")]
    with pytest.raises(UserError, match='virtualmachines "ghost", "gone" not found in namespace "src"'):
        selection.apply(selection.Selection(names=["web-1", "ghost", "gone"]), vms, "src")
    with pytest.raises(UserError, match='no VirtualMachines in namespace "src" match the selector "app=none"'):
        selection.apply(selection.Selection(label_selector="app=none"), vms, "src")
    with pytest.raises(UserError, match="no VirtualMachines found"):
        selection.apply(selection.Selection(all=True), [], "src")


def test_label_selector_objects():
    labels = {"app": "web", "tier": "front"}
    assert selectors.matches_label_selector({}, labels)
    assert not selectors.matches_label_selector(None, labels)
    assert selectors.matches_label_selector({"matchLabels": {"app": "web"}, "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["front", "back"]},
        {"key": "gone", "operator": "DoesNotExist"}]}, labels)
    assert not selectors.matches_label_selector({"matchExpressions": [
        {"key": "tier", "operator": "NotIn", "values": ["front"]}]}, labels)
    assert not selectors.matches_service_selector({}, labels)
    assert selectors.matches_service_selector({"app": "web"}, labels)

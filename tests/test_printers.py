"""Printers: what a user reads and what kubectl, Argo CD and Flux read back."""

import datetime as dt
import json

import pytest
import yaml

from kubectl_vmmove import printers
from kubectl_vmmove.printers import Column, OutputOptions, Table

NOW = dt.datetime(2026, 11, 21, 12, 0, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("seconds,text", [
    (-5, "<invalid>"), (-0.5, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (330, "5m30s"), (600, "10m"),
    (2 * 3600, "120m"), (2 * 3600 + 59 * 60, "179m"), (3 * 3600 + 4 * 60, "3h4m"), (8 * 3600, "8h"),
    (47 * 3600, "47h"), (2 * 86400, "2d"), (3 * 86400 + 5 * 3600, "3d5h"), (8 * 86400, "8d"),
    (400 * 86400, "400d"), (730 * 86400, "2y"), ((3 * 365 + 10) * 86400, "3y10d"), (9 * 365 * 86400, "9y"),
])
def test_age_follows_kubectl_human_duration(seconds, text):
    assert printers.human_duration(seconds) == text


def test_age_of_timestamps():
    assert printers.age("2026-11-21T11:55:00Z", NOW) == "5m"
    assert printers.age("2026-11-21T11:59:59.123456Z", NOW) == "0s"
    assert printers.age(None, NOW) == "<unknown>"
    assert printers.age("not a time", NOW) == "<unknown>"
    assert printers.age("2026-11-21T13:00:00Z", NOW) == "<invalid>"


def test_table_is_aligned_like_kubectl():
    table = Table([Column("name"), Column("status"), Column("ip", wide_only=True), Column("age")])
    table.add("web-01", "Running", "10.0.0.5", "5m")
    table.add("database-primary", "Stopped", None, "3d5h")
    text = printers.render_table(table)
    assert text.splitlines() == [
        "NAME               STATUS    AGE",
        "web-01             Running   5m",
        "database-primary   Stopped   3d5h",
    ]
    wide = printers.render_table(table, wide=True).splitlines()
    assert wide[0] == "NAME               STATUS    IP         AGE"
    assert wide[2] == "database-primary   Stopped   <none>     3d5h"
    assert printers.render_table(table, no_headers=True).splitlines()[0].startswith("web-01 ")


def test_narrow_columns_keep_kubectl_minimum_width():
    table = Table([Column("a"), Column("b")])
    table.add("x", "y")
    assert printers.render_table(table).splitlines() == ["A     B", "x     y"]


def test_empty_table_prints_nothing_and_says_so_on_stderr(capsys):
    printers.print_table(Table([Column("name")]), OutputOptions(), empty_message=printers.no_resources_message("ns1"))
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "No resources found in ns1 namespace.\n"


AMBIGUOUS = ["y", "Y", "n", "N", "yes", "no", "on", "off", "NO", "true", "False", "~", "null", "",
             "012", "0o17", "1e3", "0x1F", "1_000", "12", "-3", "1.5", ".5", "1:20", ".inf", "-.Inf", ".NaN", "=", "<<"]
PLAIN = ["web-01", "kubevirt.io/v1", "10Gi", "0.0.0.0/0", "yes-please", "1.2.3", "v1.6.0", "e3"]


@pytest.mark.parametrize("text", AMBIGUOUS)
def test_ambiguous_strings_are_quoted(text):
    dumped = printers.dump_yaml({"v": text})
    assert dumped.strip() != f"v: {text}"
    assert yaml.safe_load(dumped) == {"v": text}


@pytest.mark.parametrize("text", PLAIN)
def test_ordinary_strings_stay_plain(text):
    assert printers.dump_yaml({"v": text}).strip() == f"v: {text}"


def test_multiline_text_is_a_literal_block_and_round_trips():
    data = {"userData": "#cloud-config\npackages:\n- nginx\n"}
    dumped = printers.dump_yaml(data)
    assert "userData: |" in dumped
    assert yaml.safe_load(dumped) == data


def test_yaml_keys_sorted_like_kubectl():
    assert printers.dump_yaml({"metadata": {}, "kind": "X", "apiVersion": "v1"}).splitlines()[0] == "apiVersion: v1"


def test_documents_are_separated_for_gitops():
    text = printers.dump_yaml_documents([{"a": 1}, {"b": "y"}])
    assert text == '---\na: 1\n---\nb: "y"\n'
    assert list(yaml.safe_load_all(text)) == [{"a": 1}, {"b": "y"}]


def test_json_uses_four_spaces_and_a_newline():
    assert printers.dump_json({"a": [1]}) == '{\n    "a": [\n        1\n    ]\n}\n'


VM = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "web-01"}}
CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm1"}}


def test_name_output():
    assert printers.resource_name(VM) == "virtualmachine.kubevirt.io/web-01"
    assert printers.resource_name(CM) == "configmap/cm1"


def test_single_object_prints_bare_several_wrap_in_list(capsys):
    printers.print_objects([VM], OutputOptions("json"), single=True)
    assert json.loads(capsys.readouterr().out)["kind"] == "VirtualMachine"
    printers.print_objects([VM, CM], OutputOptions("yaml"))
    doc = yaml.safe_load(capsys.readouterr().out)
    assert doc["kind"] == "List" and doc["apiVersion"] == "v1"
    assert [i["kind"] for i in doc["items"]] == ["VirtualMachine", "ConfigMap"]
    assert doc["metadata"] == {"resourceVersion": ""}
    printers.print_objects([], OutputOptions("json"))
    assert json.loads(capsys.readouterr().out)["items"] == []
    printers.print_objects([VM, CM], OutputOptions("name"))
    assert capsys.readouterr().out == "virtualmachine.kubevirt.io/web-01\nconfigmap/cm1\n"


def _reference_json(obj):
    return json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False) + "\n"


JSON_DOCUMENTS = [
    {}, [], "", "plain", 0, -1, 1.5, None, True, False, [[]], [{}], {"a": {}}, {"a": []}, [[], {}, [[{}]]],
    {"b": 1, "a": [1, 2.5, -0.0, 1e100, 1e-7, 3.141592653589793, 10 ** 30, None, True, False, "x"]},
    {"floats": [float("inf"), float("-inf"), float("nan"), 0.1 + 0.2, 5e-324, 1.7976931348623157e308]},
    {"escapes": ['"', "\\", '\\"', '":', '{"a":[1,2]}', "a,b:c", "\n\t\r\b\f", "\x00\x1f\x7f", "/", "}]{[,:"]},
    {"unicode": ["grüße", "日本語", "emoji 🚀", "\u2028\u2029", "\ud800", "é" * 3, "\ufeff"],
     "ключ": "значение", "🚀": {"nested": ["ü", {"ß": []}]}},
    {"keys": {"": "empty", " ": "space", '"': "quote", "\\": "backslash", "a:b": "colon", "{": "brace"}},
    {10: "int keys", 2: "become strings", -1: ""}, {2.5: "float keys", 1e20: []}, {True: "bool keys", False: {}},
    {"deep": [[[[[[{"x": [[], [{}], {"y": [1, [2, [3, {}]]]}]}]]]]]]},
    ("tuple", ["of", ("tuples",)]),
    {"mixed": [{"a": 1}, [], {}, "", 0, [{"b": [{"c": {}}]}]], "z": {"y": {"x": {"w": []}}}},
]


@pytest.mark.parametrize("doc", JSON_DOCUMENTS, ids=range(len(JSON_DOCUMENTS)))
def test_dump_json_writes_the_bytes_of_the_json_module(doc):
    assert printers.dump_json(doc) == _reference_json(doc)


def test_dump_json_refuses_what_the_json_module_refuses():
    for bad in ({"a": 1, 2: "mixed key types cannot be sorted"}, {"a": object()}):
        with pytest.raises(TypeError):
            _reference_json(bad)
        with pytest.raises(TypeError):
            printers.dump_json(bad)


def test_dump_json_of_a_move_plan_is_byte_identical():
    # A plan-shaped document: many VMs with steps, objects, labels, empty maps and lists, numbers and quantities.
    from kubectl_vmmove.move.planning import graph, inventory
    from kubectl_vmmove.move.planning import moveplan as plan
    from tests.kubesim import builders as b

    objs = list(b.served_storage_basics())
    for i in range(20):
        name = f"vm{i}"
        objs += [b.served_vm(name, disks=[f"{name}-root"], running=i % 3 == 0, labels={"tier": "web", "n": str(i)}),
                 b.served_pvc(f"{name}-root"), b.served_service(f"{name}-svc", {"app": name})]
    inv = inventory.Inventory.from_objects(objs, "src", "dst")
    g = graph.build(inv, sorted(o["metadata"]["name"] for o in objs if o["kind"] == "VirtualMachine"))
    doc = plan.build(inv, g, plan.PlanOptions("src", "dst", move_id="bytes1"))
    assert printers.dump_json(doc) == _reference_json(doc)
    assert json.loads(printers.dump_json(doc)) == json.loads(_reference_json(doc))


def test_age_matches_the_api_servers_rule_as_kubesim_computes_it():
    # kubesim carries its own copy of apimachinery's HumanDuration; the plugin's AGE must print the same, including
    # for a clock skew of less than two seconds (Go truncates -1.5 s to -1: "0s", not "<invalid>").
    from kubectl_vmmove.printers import human_duration
    from tests.kubesim.tables import human_duration as servers
    samples = [-3, -2, -1.9, -1.5, -1, -0.4, 0, 1.7, 59, 119.9, 120, 150, 599, 600, 601, 3599, 10799, 10800, 28799,
               28800, 86400, 172799, 172800, 691199, 691200, 63071999, 63072000, 252287999, 252288000, 10 ** 10]
    assert [human_duration(s) for s in samples] == [servers(s) for s in samples]

"""Memory of a big conversion through the CLI: the issue allows 1 GiB for 50,000 servers, about 21 KB a server.

Measured as the peak of Python allocations (tracemalloc: deterministic, unlike a process's RSS) while the CLI
converts the benchmark's estate (scripts/bench-convert: a flavor, an image-booted disk, a volume, a port with two
groups, a key pair and user data per server), after a small run has loaded the modules. The traced peak per
server must fit the issue's budget; the process's own peak at 50,000 servers (interpreter and allocator slack
included) is what scripts/bench-convert prints. Before the manifests and the report were kept packed and written
as they were rendered, the whole output, the manifests as dicts and the report's rows were alive together: 38 KB a
server for a YAML stream, 52 KB with a GitOps tree and a markdown report.
"""

import importlib.machinery
import importlib.util
import io
import json
import os
import sys
import tracemalloc

import pytest

from kubectl_vmmove.cli import main

HERE = os.path.dirname(__file__)
SAMPLE = os.path.join(HERE, "data", "openstack", "sample-export.yaml")
SERVERS = 2000
BUDGET_PER_SERVER = 2 ** 30 // 50_000


def bench_module():
    path = os.path.join(HERE, "..", "scripts", "bench-convert")
    loader = importlib.machinery.SourceFileLoader("bench_convert", path)
    spec = importlib.util.spec_from_loader("bench_convert", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    path = tmp_path_factory.mktemp("estate") / "export.json"
    path.write_text(json.dumps(bench_module().synthetic_export(SERVERS)))
    return str(path)


class Discard(io.TextIOBase):
    """stdout that counts what is written and keeps nothing, as a pipe to kubectl apply would."""

    def __init__(self):
        self.chars = 0

    def write(self, text):
        self.chars += len(text)
        return len(text)


def traced_peak(args, monkeypatch) -> int:
    """Peak traced bytes of one CLI run, after a small run has imported what the conversion uses."""
    sink = Discard()
    monkeypatch.setattr(sys, "stdout", sink)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert main(["openstack", "convert", SAMPLE, "--network-map", "web-net=pod", "--network-map", "ds-net=pod",
                 "--network-map", "storage-net=ignore", "-o", "json"]) == 0
    tracemalloc.start()
    try:
        assert main(["openstack", "convert", *args]) == 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def network_map():
    return [arg for p in range(50) for arg in ("--network-map", f"net-{p}=pod")]


def test_yaml_stream_of_many_servers_stays_within_budget(export, monkeypatch):
    peak = traced_peak([export, *network_map(), "--quotas"], monkeypatch)
    assert peak / SERVERS <= BUDGET_PER_SERVER, f"{peak / SERVERS / 1024:.1f} KB a server"


def test_gitops_tree_and_markdown_report_of_many_servers_stay_within_budget(export, tmp_path, monkeypatch):
    peak = traced_peak([export, *network_map(), "--quotas", "--output-dir", str(tmp_path / "tree"),
                        "--report", str(tmp_path / "report.md")], monkeypatch)
    assert peak / SERVERS <= BUDGET_PER_SERVER, f"{peak / SERVERS / 1024:.1f} KB a server"
    assert (tmp_path / "report.md").read_text().startswith("# OpenStack conversion report")
    tree = set(os.listdir(tmp_path / "tree"))
    assert "kustomization.yaml" in tree and {f"default-team-{p}" for p in range(50)} <= tree


@pytest.mark.parametrize("count", [0, 1, 3])
def test_json_list_written_item_by_item_is_kubectls_list(count):
    from kubectl_vmmove.openstack import render

    objects = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"s{i}", "labels": {}},
                "data": {"userdata": "line\nbreak \"quoted\""}, "list": [1, [], {"a": None}]} for i in range(count)]
    out = io.StringIO()
    render.write_json_list(iter(objects), out)
    assert out.getvalue() == json.dumps({"apiVersion": "v1", "items": objects, "kind": "List",
                                         "metadata": {"resourceVersion": ""}}, indent=4, sort_keys=True) + "\n"


def test_report_written_as_it_goes_keeps_an_unchanged_file(tmp_path):
    from kubectl_vmmove.openstack import render

    path = tmp_path / "report.md"
    assert render.write_chunks_if_changed(str(path), iter(["# title", "\nrow"])) is True
    os.utime(path, (1, 1))
    assert render.write_chunks_if_changed(str(path), iter(["# title\n", "row"])) is False
    assert path.stat().st_mtime == 1 and path.read_text() == "# title\nrow"
    assert render.write_chunks_if_changed(str(path), iter(["# other"])) is True
    assert path.read_text() == "# other" and os.listdir(tmp_path) == ["report.md"]

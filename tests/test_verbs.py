"""Verbs follow kubectl's Complete → Validate → Run: flags become one Options object, flag combinations are refused
before the cluster is contacted, and the result goes to the streams the caller hands in."""

import io

import pytest

from kubectl_vmmove import cli
from kubectl_vmmove.errors import UsageError
from kubectl_vmmove.move.cmd.assess import AssessOptions
from kubectl_vmmove.verbs import Streams, run_verb
from kubectl_vmmove.versions import VersionOptions
from tests.kubesim import builders as kb


def _args(*argv):
    return cli.build_parser().parse_args(list(argv))


def test_assess_writes_its_table_to_the_given_stream_only(kubesim, capsys):
    kubesim.apply(kb.sample_namespace("legacy", vms=2))
    kubesim.settle(timeout=60)
    out, err = io.StringIO(), io.StringIO()
    rc = run_verb(AssessOptions, _args("--kubeconfig", kubesim.kubeconfig_path, "assess", "-n", "legacy"),
                  Streams(out=out, err=err))
    assert rc == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:2] == ["NAME", "STATUS"]
    assert [line.split()[0] for line in lines[1:]] == ["vm-0001", "vm-0002"]
    assert capsys.readouterr() == ("", "")


def test_assess_refuses_all_namespaces_with_a_namespace_before_reading_any_kubeconfig(tmp_path):
    options = AssessOptions.complete(
        _args("--kubeconfig", str(tmp_path / "absent"), "assess", "-A", "-n", "legacy"), Streams())
    with pytest.raises(UsageError, match="-A/--all-namespaces and -n/--namespace cannot be used together"):
        options.validate()


def test_version_client_only_writes_to_the_given_stream(capsys):
    out = io.StringIO()
    assert run_verb(VersionOptions, _args("version", "--client"), Streams(out=out)) == 0
    assert out.getvalue().startswith("Client Version: v")
    assert capsys.readouterr().out == ""


MOVE_VERBS = ["assess", "plan", "run", "status", "verify", "cleanup", "rollback"]


@pytest.mark.parametrize("verb", MOVE_VERBS + ["prune", "version", "completion", "openstack export",
                                  "openstack convert"])
def test_every_verb_module_runs_through_complete_validate_run(verb, monkeypatch):
    """A verb's `run(args)` hands its Options class to run_verb, and nothing else: no verb validates flags or
    writes output outside its Options object."""
    import importlib

    from kubectl_vmmove.verbs import VerbOptions

    modules = dict((v, m) for v, m, _ in cli.VERBS)
    modules.update((f"openstack {v}", m) for v, m, _ in cli.OPENSTACK_VERBS)
    module = importlib.import_module(modules[verb])
    seen = []
    monkeypatch.setattr(module, "run_verb", lambda options_class, args, streams=None: seen.append(options_class) or 0)
    assert module.run(object()) == 0
    assert len(seen) == 1 and issubclass(seen[0], VerbOptions) and seen[0].__module__ == module.__name__


@pytest.mark.parametrize("verb", ["plan", "run", "status", "verify", "cleanup", "rollback"])
def test_move_verbs_refuse_a_bad_move_id_in_validate_before_reading_any_kubeconfig(verb, tmp_path):
    import importlib

    from kubectl_vmmove.verbs import VerbOptions

    modules = dict((v, m) for v, m, _ in cli.VERBS)
    modules.update((f"openstack {v}", m) for v, m, _ in cli.OPENSTACK_VERBS)
    module = importlib.import_module(modules[verb])
    options_class = next(c for c in vars(module).values()
                         if isinstance(c, type) and issubclass(c, VerbOptions) and c.__module__ == module.__name__)
    argv = {"plan": ["plan", "-n", "a", "--to", "b", "--all", "--move-id", "x y"],
            "run": ["run", "--resume", "x y"]}.get(verb, [verb, "x y"])
    options = options_class.complete(_args("--kubeconfig", str(tmp_path / "absent"), *argv), Streams())
    with pytest.raises(UsageError, match='move id "x y" is not valid'):
        options.validate()

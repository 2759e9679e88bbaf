"""The command line: verb tree, help, exit codes and kubectl-style error rendering."""

import json
import os
import re
import subprocess
import sys

import pytest

from kubectl_vmmove import __version__, cli
from kubectl_vmmove.errors import UserError

VENV_BIN = os.path.dirname(sys.executable)

ALL_VERBS = ["assess", "plan", "run", "status", "verify", "cleanup", "rollback", "prune", "openstack", "completion", "version"]


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_root_help_lists_every_verb(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for verb in ALL_VERBS:
        assert f"\n    {verb} " in out
    assert "kubectl vmmove plan" in out  # an example


@pytest.mark.parametrize("argv", [[v] for v in ALL_VERBS if v != "openstack"] + [["openstack", "export"],
                                                                                 ["openstack", "convert"]])
def test_every_verb_help_says_what_it_does_with_an_example(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv + ["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: kubectl vmmove {' '.join(argv)} ")
    examples = out.split("Examples:\n", 1)[1]
    assert f"kubectl vmmove {' '.join(argv)}" in examples
    assert "--kubeconfig" in out and "--context" in out and "--namespace" in out


def test_no_verb_prints_help_and_succeeds(capsys):
    code, _, err = run_cli(capsys)
    assert code == 0 and "<command>" in err


def test_openstack_without_subverb_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys, "openstack")
    assert code == 2 and "export" in err and "convert" in err


def test_unknown_flag_is_a_usage_error_in_kubectl_shape(capsys):
    code, out, err = run_cli(capsys, "version", "--bogus")
    assert code == 2 and out == ""
    assert err.startswith("error: unrecognized arguments: --bogus\n")
    assert "--help' for usage." in err


@pytest.mark.parametrize("argv, prog", [(["cleanup", "abc", "--bogus"], "kubectl vmmove cleanup"),
                                        (["openstack", "convert", "x.yaml", "--bogus"], "kubectl vmmove openstack convert"),
                                        (["status", "-A", "--bogus"], "kubectl vmmove status")])
def test_unknown_flag_points_at_the_help_of_the_verb_used(capsys, argv, prog):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.splitlines()[-1] == f"See '{prog} --help' for usage."


def test_unknown_verb_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys, "teleport")
    assert code == 2 and err.startswith("error: argument <command>: invalid choice: 'teleport'")


def test_flags_are_never_guessed_from_a_prefix(capsys):
    code, _, err = run_cli(capsys, "version", "--cli")
    assert code == 2 and "--cli" in err


def test_bad_output_format_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys, "version", "--client", "-o", "xml")
    assert code == 2
    assert 'unable to match a printer suitable for the output format "xml"' in err


def test_version_client_needs_no_cluster(capsys, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/nonexistent")
    code, out, err = run_cli(capsys, "version", "--client")
    assert (code, err) == (0, "")
    assert out == f"Client Version: v{__version__}\n"
    code, out, _ = run_cli(capsys, "version", "--client", "-o", "json")
    client = json.loads(out)["clientVersion"]
    assert client["version"] == __version__
    # Spelled as kubectl and krew spell platforms (GOOS/GOARCH), e.g. linux/amd64.
    assert re.fullmatch(r"(linux|darwin|windows)/(amd64|arm64|arm|386|ppc64le|s390x)", client["platform"])


def test_version_without_cluster_configuration_is_a_clear_error(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    code, out, err = run_cli(capsys, "version")
    assert code == 1 and out == ""
    assert err.startswith("error: no configuration has been provided")
    assert "Traceback" not in err


def _install_fake_verb(monkeypatch, exc):
    def run(args):
        raise exc

    import kubectl_vmmove.move.cmd.status as status

    monkeypatch.setattr(status, "run", run)


def test_user_errors_exit_1_without_traceback(capsys, monkeypatch):
    _install_fake_verb(monkeypatch, UserError('namespace "nope" not found; create it or pick another with --to'))
    code, _, err = run_cli(capsys, "status")
    assert code == 1
    assert err == 'error: namespace "nope" not found; create it or pick another with --to\n'


def test_traceback_only_from_verbosity_six(capsys, monkeypatch):
    _install_fake_verb(monkeypatch, UserError("boom"))
    _, _, quiet = run_cli(capsys, "status", "-v", "5")
    assert "Traceback" not in quiet
    _, _, loud = run_cli(capsys, "status", "--v=6")
    assert "Traceback" in loud and loud.rstrip().endswith("error: boom")


def test_unexpected_exceptions_are_reported_briefly(capsys, monkeypatch):
    _install_fake_verb(monkeypatch, RuntimeError("kaput"))
    code, _, err = run_cli(capsys, "status")
    assert code == 1 and "Traceback" not in err
    assert err.startswith("error: unexpected RuntimeError: kaput\n") and "--v=6" in err


def test_ctrl_c_exits_130_without_traceback(capsys, monkeypatch):
    _install_fake_verb(monkeypatch, KeyboardInterrupt())
    code, _, err = run_cli(capsys, "status")
    assert code == 130 and "Traceback" not in err


def test_global_flags_are_accepted_before_and_after_the_verb():
    parser = cli.build_parser()
    after = parser.parse_args(["version", "--context", "c1", "-n", "ns1", "--as-group", "a", "--as-group", "b"])
    before = parser.parse_args(["--context", "c1", "-n", "ns1", "version"])
    assert (after.context, after.namespace, after.as_group) == ("c1", "ns1", ["a", "b"])
    assert (before.context, before.namespace) == ("c1", "ns1")
    assert parser.parse_args(["version", "--v=7"]).verbosity == 7


def test_entry_point_and_module_behave_identically():
    env = dict(os.environ, KUBECONFIG="/nonexistent")
    results = []
    for argv in ([os.path.join(VENV_BIN, "kubectl-vmmove")], [sys.executable, "-m", "kubectl_vmmove"]):
        version = subprocess.run(argv + ["version", "--client"], capture_output=True, text=True, env=env)
        bad = subprocess.run(argv + ["plan", "--nope"], capture_output=True, text=True, env=env)
        results.append((version.returncode, version.stdout, bad.returncode, bad.stderr))
    assert results[0] == results[1]
    assert results[0][0] == 0 and results[0][2] == 2

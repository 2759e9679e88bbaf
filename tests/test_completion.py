"""Completion: what a user gets on TAB, from the completer itself, from the bash script, and against a cluster."""

import argparse
import os
import subprocess
import sys

import pytest

from kubectl_vmmove import cli, completion
from kubectl_vmmove.completion import (
    DIRECTIVE_FILTER_DIRS,
    DIRECTIVE_KEEP_ORDER,
    DIRECTIVE_NO_FILE_COMP,
    NAMESPACES,
    VM_NAMES,
    complete,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)


class FakeCluster:
    """Names by kind, and a record of the flags each lookup saw."""

    def __init__(self, **names):
        self.names = names
        self.calls = []

    def __call__(self, kind, flags):
        self.calls.append((kind, vars(flags).copy()))
        return self.names.get(kind, [])


@pytest.fixture(scope="module")
def parser():
    return cli.build_parser()


def values(result):
    return [value for value, _ in result.candidates]


def test_verbs_come_from_the_cli_in_help_order_with_their_descriptions(parser):
    result = complete(parser, [""], FakeCluster())
    assert values(result) == [verb for verb, _, _ in cli.VERBS]
    assert dict(result.candidates)["plan"] == dict((v, h) for v, _, h in cli.VERBS)["plan"]
    assert result.directive == DIRECTIVE_NO_FILE_COMP | DIRECTIVE_KEEP_ORDER


def test_a_prefix_narrows_and_groups_complete_their_own_verbs(parser):
    assert values(complete(parser, ["op"], FakeCluster())) == ["openstack"]
    assert values(complete(parser, ["openstack", ""], FakeCluster())) == [v for v, _, _ in cli.OPENSTACK_VERBS]
    assert values(complete(parser, ["-n", "legacy", "openstack", "c"], FakeCluster())) == ["convert"]


def test_flags_of_the_verb_and_kubectls_global_flags(parser):
    got = values(complete(parser, ["plan", "--"], FakeCluster()))
    assert {"--to", "--strategy", "--namespace", "--context", "--kubeconfig", "--output"} <= set(got)
    assert all(flag.startswith("--") for flag in got)
    assert values(complete(parser, ["plan", "--stor"], FakeCluster())) == ["--storage-class-map"]


def test_a_flag_already_given_is_not_offered_again_unless_it_repeats(parser):
    got = values(complete(parser, ["plan", "--strategy", "clone", "--s"], FakeCluster()))
    assert "--strategy" not in got and "--storage-class-map" in got
    got = values(complete(parser, ["plan", "--storage-class-map", "a=b", "--stor"], FakeCluster()))
    assert got == ["--storage-class-map"]


def test_choices_and_output_formats(parser):
    assert values(complete(parser, ["plan", "--strategy", ""], FakeCluster())) == ["clone", "transfer", "live", "auto"]
    assert values(complete(parser, ["version", "-o", ""], FakeCluster())) == ["table", "yaml", "json"]
    assert values(complete(parser, ["version", "--output=j"], FakeCluster())) == ["--output=json"]
    assert values(complete(parser, ["completion", ""], FakeCluster())) == ["bash", "zsh", "fish"]


def test_namespaces_for_namespace_flags_in_both_spellings(parser):
    cluster = FakeCluster(namespaces=["legacy", "prod", "kube-system"])
    assert values(complete(parser, ["plan", "-n", ""], cluster)) == ["kube-system", "legacy", "prod"]
    assert values(complete(parser, ["plan", "--to", "p"], cluster)) == ["prod"]
    assert values(complete(parser, ["plan", "--namespace=le"], cluster)) == ["--namespace=legacy"]
    assert [kind for kind, _ in cluster.calls] == [NAMESPACES] * 3


def test_vm_names_come_from_the_namespace_and_context_typed_so_far(parser):
    cluster = FakeCluster(virtualmachines=["web-01", "web-02", "db-01"])
    result = complete(parser, ["--context", "lab", "plan", "-n", "legacy", "--to", "prod", "web-01", "w"], cluster)
    assert values(result) == ["web-02"]  # web-01 is already on the line
    assert result.directive == DIRECTIVE_NO_FILE_COMP
    kind, flags = cluster.calls[-1]
    assert kind == VM_NAMES and flags["namespace"] == "legacy" and flags["context"] == "lab"
    complete(parser, ["assess", "-nlegacy", ""], cluster)  # kubectl's glued short flag
    assert cluster.calls[-1][1]["namespace"] == "legacy"


def test_existing_move_ids_for_the_verbs_that_take_one_but_not_for_a_new_id(parser):
    cluster = FakeCluster(moves=["m-1", "m-2"])
    for words in (["status", ""], ["verify", "m"], ["rollback", ""], ["cleanup", ""], ["run", "--resume", ""]):
        assert values(complete(parser, words, cluster)) == ["m-1", "m-2"], words
    assert values(complete(parser, ["plan", "--move-id", ""], cluster)) == []
    assert {kind for kind, _ in cluster.calls} == {completion.MOVE_IDS}


def test_file_and_folder_arguments_leave_it_to_the_shell(parser):
    result = complete(parser, ["plan", "-f", ""], FakeCluster())
    assert result.candidates == [] and result.directive == 0  # 0: the shell completes file names
    assert complete(parser, ["--kubeconfig", ""], FakeCluster()).directive == 0
    kinds = {completion._guess_kind(a) for a in parser._actions if "--kubeconfig" in a.option_strings}
    assert kinds == {completion.FILES}
    folder = completion.hint(argparse.ArgumentParser().add_argument("--out"), completion.DIRECTORIES)
    assert completion._values(folder, None, "", FakeCluster(), "").directive == DIRECTIVE_FILTER_DIRS


def test_a_failing_lookup_offers_nothing(parser):
    def broken(kind, flags):
        raise RuntimeError("connection refused")

    result = complete(parser, ["plan", "-n", ""], broken)
    assert result.candidates == [] and result.directive == DIRECTIVE_NO_FILE_COMP


def test_protocol_output_is_what_kubectl_reads(capsys):
    # kubectl runs kubectl_complete-vmmove WORDS; the helper runs `kubectl-vmmove completion __complete WORDS`.
    assert cli.main(["completion", "__complete", "pl"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split("\t")[0] == "plan"
    assert out.splitlines()[-1] == f":{DIRECTIVE_NO_FILE_COMP | DIRECTIVE_KEEP_ORDER}"
    # The words may hold flags that belong to the verb being completed, not to `completion`.
    assert cli.main(["completion", "__complete", "plan", "-n", "x", "--strat"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("--strategy")


def test_missing_shell_is_a_usage_error_naming_only_the_shell(capsys):
    assert cli.main(["completion"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: name the shell: bash, zsh, fish")
    assert "words" not in err and "'kubectl vmmove completion --help'" in err


def test_unknown_shell_is_a_usage_error(capsys):
    assert cli.main(["completion", "powershell"]) == 2
    err = capsys.readouterr().err
    assert 'unsupported shell type "powershell"' in err and "bash, zsh, fish" in err


@pytest.mark.parametrize("shell", completion.SHELLS)
def test_scripts_register_for_the_plugin_and_ask_the_completer(shell, capsys):
    assert cli.main(["completion", shell]) == 0
    out = capsys.readouterr().out
    assert "completion __complete" in out and "kubectl-vmmove" in out
    assert {"bash": "complete -o default -F", "zsh": "compdef", "fish": "complete -c kubectl-vmmove"}[shell] in out


def _bash_complete(line, env_path):
    """Run the bash script's completion function on a command line (cursor at its end); return COMPREPLY."""
    script = completion.script("bash")
    words = line.split(" ")
    program = (script + "\n" + "COMP_WORDS=(" + " ".join(f"'{w}'" for w in words) + ")\n"
               f"COMP_CWORD={len(words) - 1}\nCOMP_LINE='{line}'\nCOMP_POINT={len(line)}\n"
               "__kubectl_vmmove_complete\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    result = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True, text=True,
                            env={"PATH": env_path, "HOME": os.environ.get("HOME", "/tmp")}, timeout=60)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


def test_bash_script_completes_verbs_flags_and_flag_values():
    path = f"{VENV_BIN}:/usr/bin:/bin"
    assert _bash_complete("kubectl-vmmove pl", path) == ["plan"]
    assert _bash_complete("kubectl-vmmove plan --strat", path) == ["--strategy"]
    # bash splits at "=": the script glues the words back and answers with the part after the "=".
    assert _bash_complete("kubectl-vmmove version --output = j", path) == ["json"]
    assert _bash_complete("kubectl-vmmove plan --strategy t", path) == ["transfer"]


def test_kubesim_namespaces_and_vms(kubesim):
    kubesim.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in ("legacy", "prod")])
    for name in ("web-01", "db-01"):
        kubesim.apply({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                       "metadata": {"name": name, "namespace": "legacy"},
                       "spec": {"runStrategy": "Halted",
                                "template": {"spec": {"domain": {"devices": {}, "memory": {"guest": "1Gi"}}}}}})
    parser = cli.build_parser()
    kc = ["--kubeconfig", kubesim.kubeconfig_path]
    assert {"legacy", "prod", "default"} <= set(values(complete(parser, kc + ["plan", "--to", ""],
                                                                completion.cluster_lookup)))
    assert values(complete(parser, kc + ["plan", "-n", "legacy", ""], completion.cluster_lookup)) == \
        ["db-01", "web-01"]
    assert values(complete(parser, kc + ["plan", "-n", "prod", ""], completion.cluster_lookup)) == []
    assert values(complete(parser, kc + ["--context", ""], completion.cluster_lookup)) == ["kubesim"]
    kubesim.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "vmmove-m-7", "namespace": "prod",
                                "labels": {"vmmove.io/journal": "true", "vmmove.io/move-id": "m-7"}}})
    assert values(complete(parser, kc + ["status", ""], completion.cluster_lookup)) == ["m-7"]

"""Start-up stays fast because the commands that need no cluster or cloud import neither `kubernetes` nor `openstack`.

Each case runs the CLI in a fresh interpreter and reports which heavy packages ended up in `sys.modules`: a
behavioural check of what a command loads, not a timing (the figures are scripts/bench-startup's job).
"""

import json
import subprocess
import sys

import pytest

from kubectl_vmmove import cli

HEAVY = ("kubernetes", "openstack", "keystoneauth1", "jsonschema")

PROBE = """
import json, sys
from kubectl_vmmove import cli
code = None
try:
    code = cli.main(sys.argv[1:])
except SystemExit as exit:  # argparse's --help exits
    code = exit.code
finally:
    loaded = sorted(name for name in %r if name in sys.modules)
    sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "loaded": loaded}) + "\\n")
""" % (HEAVY,)


def probe(*argv):
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60)
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("PROBE ")][-1]
    report = json.loads(line[len("PROBE "):])
    return report["code"], report["loaded"], result.stdout


LIGHT_COMMANDS = [
    ["--help"],
    ["version", "--client"],
    ["version", "--client", "-o", "json"],
    ["completion", "bash"],
    ["completion", "__complete", ""],
    ["completion", "__complete", "plan", "--"],
    ["openstack", "--help"],
] + [[verb, "--help"] for verb, module, _ in cli.VERBS if module] + [
    ["openstack", verb, "--help"] for verb, _, _ in cli.OPENSTACK_VERBS]


@pytest.mark.parametrize("argv", LIGHT_COMMANDS, ids=[" ".join(a) or "none" for a in LIGHT_COMMANDS])
def test_commands_without_cluster_or_cloud_import_no_heavy_package(argv):
    code, loaded, stdout = probe(*argv)
    assert code in (0, None), stdout
    assert stdout  # the command did its job (help, version, script or candidates)
    assert loaded == []


def test_the_probe_sees_a_heavy_import_when_a_command_needs_the_cluster(kubesim):
    # The control: `version` without --client talks to the cluster, which loads the kubernetes client.
    code, loaded, stdout = probe("version", "--kubeconfig", kubesim.kubeconfig_path)
    assert code == 0 and "Server Version" in stdout
    assert "kubernetes" in loaded

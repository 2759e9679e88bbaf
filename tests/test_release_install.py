"""The release archive installed the way krew installs it, then used through the real `kubectl` with nothing else
on PATH: no project virtualenv and no Python at all. Covers plugin discovery, dispatch of the verbs (against
kubesim and the fake OpenStack cloud), kubectl's own completion through kubectl_complete-vmmove, and the
LD_LIBRARY_PATH a kubeconfig exec credential plugin sees when the frozen binary runs it.

The binary is built once per session (tests/frozen_release.py).
"""

import json
import os
import shutil
import subprocess

import pytest
import yaml

from kubectl_vmmove import __version__

from . import frozen_release
from .frozen_release import release_script
from .krew_validation import install_like_krew
from .kubesim import builders as kb
from .openstack_cloud import cloud as os_cloud
from .openstack_cloud.server import FakeOpenStack

KUBECTL = shutil.which("kubectl")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A krew root with the plugin installed from the real archive, the completion helper linked as the caveats say,
    and a PATH holding only krew's bin folder and a folder with a link to kubectl."""
    real = frozen_release.release(tmp_path_factory)
    base = tmp_path_factory.mktemp("krew-install")
    with open(real.manifest, encoding="utf-8") as fh:
        manifest = yaml.safe_load(fh)
    os_name, arch = release_script.host_platform()
    link = install_like_krew(manifest, real.archive, str(base / "krew"), os_name, arch)
    store = os.path.dirname(os.path.realpath(link))
    os.symlink(os.path.join(store, "kubectl_complete-vmmove"), os.path.join(os.path.dirname(link),
                                                                            "kubectl_complete-vmmove"))
    tools = base / "tools"
    tools.mkdir()
    os.symlink(os.path.realpath(KUBECTL), tools / "kubectl")
    path = f"{os.path.dirname(link)}:{tools}"
    home = base / "home"
    home.mkdir()
    return {"link": link, "store": store, "path": path, "home": str(home)}


def kubectl(installed, *args, env=None, timeout=120):
    full_env = {"PATH": installed["path"], "HOME": installed["home"]}
    full_env.update(env or {})
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=full_env, timeout=timeout,
                          cwd=installed["home"])


def test_the_install_path_has_no_python(installed):
    for name in ("python", "python3", "pip"):
        assert shutil.which(name, path=installed["path"]) is None
    assert shutil.which("kubectl-vmmove", path=installed["path"]) == installed["link"]


def test_kubectl_plugin_list_shows_the_plugin_without_warnings(installed):
    result = kubectl(installed, "plugin", "list")
    assert result.returncode == 0, result.stderr
    assert installed["link"] in result.stdout.splitlines()
    assert "warning" not in result.stderr
    # kubectl would dispatch `vmmove <verb>` to a kubectl-vmmove-<verb>: none is installed.
    assert not any(name.startswith("kubectl-vmmove-") for name in os.listdir(os.path.dirname(installed["link"])))


def test_version_client_and_help_through_kubectl(installed):
    result = kubectl(installed, "vmmove", "version", "--client")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Client Version: v{__version__}\n"
    doc = json.loads(kubectl(installed, "vmmove", "version", "--client", "-o", "json").stdout)
    assert doc["clientVersion"]["version"] == __version__
    result = kubectl(installed, "vmmove", "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage: kubectl vmmove")


def test_usage_errors_keep_their_exit_status_through_kubectl(installed):
    result = kubectl(installed, "vmmove", "completion", "tcsh")
    assert result.returncode == 2
    assert result.stderr.startswith('error: unsupported shell type "tcsh"')
    assert "Traceback" not in result.stderr


def test_kubectl_completes_verbs_and_flags_through_the_helper(installed):
    result = kubectl(installed, "__complete", "vmmove", "pl")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split("\t")[0] == "plan"
    lines = kubectl(installed, "__complete", "vmmove", "plan", "--strat").stdout.splitlines()
    assert lines[0].split("\t")[0] == "--strategy" and lines[-1] == ":4"
    # The helper's name starts with kubectl_, so plugin list still has nothing to warn about.
    assert kubectl(installed, "plugin", "list").returncode == 0


@pytest.fixture
def estate(kubesim):
    kubesim.apply(kb.sample_namespace("legacy", vms=2) + kb.namespace("prod"))
    kubesim.settle(timeout=60)
    return {"KUBECONFIG": kubesim.kubeconfig_path}


def test_cluster_verbs_through_kubectl(installed, estate):
    result = kubectl(installed, "vmmove", "version", env=estate)
    assert result.returncode == 0, result.stderr
    assert "Server Version:" in result.stdout and "KubeVirt Version:" in result.stdout
    result = kubectl(installed, "vmmove", "assess", "-n", "legacy", env=estate)
    assert result.returncode == 0, result.stderr
    assert {"vm-0001", "vm-0002"} <= {line.split()[0] for line in result.stdout.splitlines()[1:] if line.strip()}
    result = kubectl(installed, "vmmove", "plan", "-n", "legacy", "--to", "prod", "vm-0001", "-o", "yaml", env=estate)
    assert result.returncode == 0, result.stderr
    plan = yaml.safe_load(result.stdout)
    assert plan["apiVersion"] == "vmmove.io/v1alpha1"
    assert [vm["name"] for vm in plan["spec"]["vms"]] == ["vm-0001"]


def test_kubectl_completes_namespaces_and_vm_names_from_the_cluster(installed, estate):
    lines = kubectl(installed, "__complete", "vmmove", "plan", "--to", "pr", env=estate).stdout.splitlines()
    assert lines == ["prod", ":4"]
    lines = kubectl(installed, "__complete", "vmmove", "plan", "-n", "legacy", "vm-0001", "", env=estate).stdout
    assert lines.splitlines() == ["vm-0002", ":4"]


def test_exec_credential_plugins_see_the_users_library_path(installed, kubesim, tmp_path):
    # The frozen binary's loader prepends its own library folder to LD_LIBRARY_PATH; a credential helper run by
    # the plugin must get the user's value back (or none), or it may load the bundle's libssl.
    record = tmp_path / "exec-env"
    helper = tmp_path / "credential-helper"
    token = kubesim.add_user("exec-user", groups=("system:masters",))
    helper.write_text(
        "#!/bin/sh\n"
        f"printf 'LD_LIBRARY_PATH=%s\\n' \"${{LD_LIBRARY_PATH-<unset>}}\" > '{record}'\n"
        "printf '%s' '" + json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                                      "status": {"token": token}}) + "'\n")
    helper.chmod(0o755)
    config = yaml.safe_load(open(kubesim.kubeconfig_path, encoding="utf-8"))
    config["users"] = [{"name": "exec-user", "user": {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": str(helper), "interactiveMode": "Never"}}}]
    config["contexts"][0]["context"]["user"] = "exec-user"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    env = {"KUBECONFIG": str(kubeconfig)}

    result = kubectl(installed, "vmmove", "version", env=dict(env, LD_LIBRARY_PATH="/opt/site-libs"))
    assert result.returncode == 0, result.stderr
    assert record.read_text() == "LD_LIBRARY_PATH=/opt/site-libs\n"
    result = kubectl(installed, "vmmove", "version", env=env)
    assert result.returncode == 0, result.stderr
    assert record.read_text() == "LD_LIBRARY_PATH=<unset>\n"


def test_openstack_export_and_convert_through_kubectl(installed, tmp_path):
    # openstacksdk reads data files and package metadata at run time: the frozen bundle must carry them.
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds: {}\n")
    env = {"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLIENT_SECURE_FILE": str(clouds)}
    export = tmp_path / "export.yaml"
    with FakeOpenStack() as cloud:
        result = kubectl(installed, "vmmove", "openstack", "export", "--os-auth-url", cloud.auth_url,
                         "--os-username", "demo", "--os-password", os_cloud.PASSWORDS["demo"],
                         "--os-project-name", "demo", "--os-user-domain-name", "Default",
                         "--os-project-domain-name", "Default", "-f", str(export), env=env)
    assert result.returncode == 0, result.stderr
    assert os_cloud.PASSWORDS["demo"] not in export.read_text()
    result = kubectl(installed, "vmmove", "openstack", "convert", str(export), "-o", "yaml",
                     "--network-map", "net1=pod", "--network-map", "private-network=pod", env=env)
    assert result.returncode == 0, result.stderr
    kinds = {doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc}
    assert {"VirtualMachine", "DataVolume"} <= kinds

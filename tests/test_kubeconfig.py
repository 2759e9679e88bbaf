"""Kubeconfig resolution must choose what kubectl chooses for the same files, flags and environment."""

import os

import pytest
import yaml

from kubectl_vmmove.errors import UsageError, UserError
from kubectl_vmmove.kube import config
from kubectl_vmmove.kube.config import Overrides, parse_timeout, resolve


def write(path, data):
    path.write_text(yaml.safe_dump(data))
    return str(path)


def kubeconfig(current, contexts, clusters=None, users=None):
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current,
        "contexts": [{"name": n, "context": c} for n, c in contexts.items()],
        "clusters": [{"name": n, "cluster": c} for n, c in (clusters or {}).items()],
        "users": [{"name": n, "user": u} for n, u in (users or {}).items()],
    }


@pytest.fixture
def two_files(tmp_path):
    first = write(tmp_path / "k1.yaml", kubeconfig(
        "ctx-a",
        {"ctx-a": {"cluster": "red", "user": "red-user", "namespace": "team-a"}},
        clusters={"red": {"server": "https://red.example:6443"}},
        users={"red-user": {"token": "first-token"}},
    ))
    second = write(tmp_path / "k2.yaml", kubeconfig(
        "ctx-b",
        {"ctx-b": {"cluster": "blue", "user": "blue-user"}, "ctx-a": {"cluster": "blue", "user": "blue-user"}},
        clusters={"blue": {"server": "https://blue.example:6443"}, "red": {"server": "https://wrong.example"}},
        users={"blue-user": {"token": "second-token"}, "red-user": {"token": "wrong-token"}},
    ))
    return first, second


def env_for(*files, **extra):
    env = {"KUBECONFIG": os.pathsep.join(files), "HOME": "/nonexistent"}
    env.update(extra)
    return env


def test_first_file_sets_current_context_unlike_the_python_client(two_files):
    resolved = resolve(Overrides(), env_for(*two_files))
    assert resolved.context_name == "ctx-a"
    assert resolved.server == "https://red.example:6443"


def test_first_file_wins_whole_entries(two_files):
    resolved = resolve(Overrides(), env_for(*two_files))
    assert resolved.config["users"][0]["user"] == {"token": "first-token"}
    assert resolved.config["clusters"][0]["cluster"]["server"] == "https://red.example:6443"


def test_missing_files_in_kubeconfig_are_skipped(two_files, tmp_path):
    resolved = resolve(Overrides(), env_for(str(tmp_path / "missing.yaml"), two_files[1]))
    assert resolved.context_name == "ctx-b"


def test_explicit_kubeconfig_is_the_only_file(two_files):
    resolved = resolve(Overrides(kubeconfig=two_files[1]), env_for(two_files[0]))
    assert resolved.context_name == "ctx-b"
    assert resolved.files == [two_files[1]]


def test_missing_explicit_kubeconfig_is_an_error(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        resolve(Overrides(kubeconfig=str(tmp_path / "nope.yaml")), {"HOME": "/nonexistent"})


def test_context_flag_and_unknown_context(two_files):
    resolved = resolve(Overrides(context="ctx-b"), env_for(*two_files))
    assert resolved.server == "https://blue.example:6443"
    with pytest.raises(UserError, match="context was not found for specified context: nope"):
        resolve(Overrides(context="nope"), env_for(*two_files))


def test_namespace_flag_then_context_then_default(two_files):
    env = env_for(*two_files)
    assert resolve(Overrides(namespace="ops"), env).namespace == "ops"
    assert resolve(Overrides(namespace="ops"), env).namespace_explicit
    assert resolve(Overrides(), env).namespace == "team-a"
    assert not resolve(Overrides(), env).namespace_explicit
    assert resolve(Overrides(context="ctx-b"), env).namespace == "default"


def test_cluster_and_user_overrides(two_files):
    resolved = resolve(Overrides(cluster="blue", user="blue-user"), env_for(*two_files))
    assert resolved.server == "https://blue.example:6443"
    assert resolved.config["users"][0]["user"]["token"] == "second-token"
    assert resolved.context_name == "ctx-a"
    with pytest.raises(UserError, match='cluster "green" not found'):
        resolve(Overrides(cluster="green"), env_for(*two_files))


def test_server_and_token_flags_replace_kubeconfig_values(two_files):
    resolved = resolve(Overrides(server="https://other:6443", token="flag-token"), env_for(*two_files))
    assert resolved.server == "https://other:6443"
    assert resolved.config["users"][0]["user"] == {"token": "flag-token"}


def test_relative_paths_resolve_against_their_file(tmp_path):
    sub = tmp_path / "conf"
    sub.mkdir()
    path = write(sub / "config", kubeconfig(
        "c", {"c": {"cluster": "k", "user": "u"}},
        clusters={"k": {"server": "https://k:6443", "certificate-authority": "ca.crt"}},
        users={"u": {"client-certificate": "certs/u.crt", "client-key": "/abs/u.key",
                     "exec": {"command": "./bin/login", "apiVersion": "client.authentication.k8s.io/v1"}}},
    ))
    resolved = resolve(Overrides(), env_for(path))
    cluster = resolved.config["clusters"][0]["cluster"]
    user = resolved.config["users"][0]["user"]
    assert cluster["certificate-authority"] == str(sub / "ca.crt")
    assert user["client-certificate"] == str(sub / "certs" / "u.crt")
    assert user["client-key"] == "/abs/u.key"
    assert user["exec"]["command"] == str(sub / "bin" / "login")


def test_impersonation_from_flags_and_kubeconfig(two_files, tmp_path):
    resolved = resolve(Overrides(as_user="alice", as_groups=["devs", "ops"]), env_for(*two_files))
    assert resolved.impersonate_user == "alice"
    assert resolved.impersonate_groups == ["devs", "ops"]
    path = write(tmp_path / "as.yaml", kubeconfig(
        "c", {"c": {"cluster": "k", "user": "u"}}, clusters={"k": {"server": "https://k"}},
        users={"u": {"token": "t", "as": "bob", "as-groups": ["audit"]}}))
    from_file = resolve(Overrides(), env_for(path))
    assert (from_file.impersonate_user, from_file.impersonate_groups) == ("bob", ["audit"])
    assert resolve(Overrides(as_user="carol"), env_for(path)).impersonate_user == "carol"


def test_no_configuration_at_all_says_what_to_do():
    with pytest.raises(UserError, match="set KUBECONFIG, pass --kubeconfig"):
        resolve(Overrides(), {"HOME": "/nonexistent"})


def test_in_cluster_when_no_kubeconfig(tmp_path, monkeypatch):
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "namespace").write_text("vm-tools\n")
    monkeypatch.setattr(config, "SERVICE_ACCOUNT_DIR", str(tmp_path))
    env = {"HOME": "/nonexistent", "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    resolved = resolve(Overrides(), env)
    assert resolved.in_cluster and resolved.server == "https://10.0.0.1:443"
    assert resolved.namespace == "vm-tools"
    assert resolve(Overrides(), dict(env, POD_NAMESPACE="from-env")).namespace == "from-env"
    assert resolve(Overrides(namespace="explicit"), env).namespace == "explicit"


def test_current_context_naming_a_missing_context(tmp_path):
    path = write(tmp_path / "c.yaml", kubeconfig("gone", {"c": {"cluster": "k", "user": "u"}},
                                                  clusters={"k": {"server": "https://k"}}))
    with pytest.raises(UserError, match='current-context "gone" is not defined'):
        resolve(Overrides(), env_for(path))


def test_malformed_kubeconfig_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("clusters: [unclosed\n")
    with pytest.raises(UserError, match="bad.yaml"):
        resolve(Overrides(), env_for(str(bad)))


@pytest.mark.parametrize("text,seconds", [("30", 30), ("30s", 30), ("2m", 120), ("1m30s", 90), ("1h", 3600),
                                          ("500ms", 0.5), ("0", None), ("0s", None)])
def test_request_timeout_accepts_kubectl_syntax(text, seconds):
    assert parse_timeout(text) == seconds


@pytest.mark.parametrize("text", ["abc", "10x", "1m30", "-5s", ""])
def test_request_timeout_rejects_what_kubectl_rejects(text):
    with pytest.raises(UsageError, match="invalid --request-timeout value"):
        parse_timeout(text)

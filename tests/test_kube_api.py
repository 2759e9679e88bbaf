"""The API layer against the emulated cluster: plain dicts, paging, typed errors, retries, metadata-only lists."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from kubectl_vmmove import cli
from kubectl_vmmove.kube import errors, kinds
from kubectl_vmmove.kube.client import Api, RetryPolicy
from kubectl_vmmove.kube.config import Overrides, resolve


class Sleeps(list):
    """Records the delays the layer asked for, instead of sleeping: tests run on simulated time."""

    def __call__(self, seconds):
        self.append(seconds)


def make_api(sim, sleeps=None, **overrides):
    resolved = resolve(Overrides(kubeconfig=sim.kubeconfig_path, **overrides), {"HOME": "/nonexistent"})
    return Api(resolved, retry=RetryPolicy(sleep=sleeps if sleeps is not None else Sleeps()))


def configmap(name, ns="default", labels=None, data=None):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}}, "data": data or {"k": "v"}}


def test_crud_round_trip_keeps_unknown_fields_as_plain_dicts(kubesim):
    api = make_api(kubesim)
    vm = {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
        "metadata": {"name": "vm1", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"runStrategy": "Halted", "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "domain": {"devices": {"interfaces": [{"name": "default", "masquerade": {},
                                                   "macAddress": "02:00:00:00:00:01"}]},
                       "firmware": {"uuid": "5d307ca9-b3ef-428c-8861-06e72d69f223"}, "resources": {
                           "requests": {"memory": "1Gi"}}},
            "networks": [{"name": "default", "pod": {}}]}}},
    }
    created = api.create(kinds.VM, vm)
    assert isinstance(created, dict) and created["metadata"]["uid"]
    got = api.get(kinds.VM, "vm1", "default")
    assert got["spec"]["template"]["spec"]["domain"]["firmware"]["uuid"] == "5d307ca9-b3ef-428c-8861-06e72d69f223"
    patched = api.patch(kinds.VM, "vm1", {"metadata": {"labels": {"tier": "front"}}}, "default")
    assert patched["metadata"]["labels"] == {"app": "web", "tier": "front"}
    patched = api.patch(kinds.VM, "vm1", [{"op": "replace", "path": "/metadata/labels/tier", "value": "back"}],
                        "default", patch_type="json")
    assert patched["metadata"]["labels"]["tier"] == "back"
    api.delete(kinds.VM, "vm1", "default")
    kubesim.settle()
    assert api.get_or_none(kinds.VM, "vm1", "default") is None


def test_typed_errors_carry_the_server_message(kubesim):
    api = make_api(kubesim)
    with pytest.raises(errors.NotFound) as nf:
        api.get(kinds.CONFIGMAP, "missing", "default")
    assert 'configmaps "missing" not found' in str(nf.value)
    api.create(kinds.CONFIGMAP, configmap("cm"))
    with pytest.raises(errors.AlreadyExists, match='configmaps "cm" already exists'):
        api.create(kinds.CONFIGMAP, configmap("cm"))
    stale = api.get(kinds.CONFIGMAP, "cm", "default")
    api.patch(kinds.CONFIGMAP, "cm", {"data": {"k": "v2"}}, "default")
    with pytest.raises(errors.Conflict, match="the object has been modified"):
        api.replace(kinds.CONFIGMAP, stale)
    with pytest.raises(errors.NotFound, match='namespaces "nowhere" not found'):
        api.create(kinds.CONFIGMAP, configmap("x", ns="nowhere"))
    bad_vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
              "metadata": {"name": "bad", "namespace": "default"}, "spec": {"runStrategy": 7, "template": {}}}
    with pytest.raises(errors.Invalid, match="runStrategy"):
        api.create(kinds.VM, bad_vm)


def test_forbidden_and_access_reviews(kubesim):
    token = kubesim.add_user("alice", groups=["devs"])
    api = make_api(kubesim, token=token)
    with pytest.raises(errors.Forbidden) as denied:
        api.list(kinds.VM, "default")
    assert 'User "alice" cannot list resource "virtualmachines"' in str(denied.value)
    assert api.can_i("list", kinds.VM, "default") is False
    assert make_api(kubesim).can_i("list", kinds.VM, "default") is True


def test_impersonation_sends_user_and_every_group(kubesim):
    kubesim.apply([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "ops-view", "namespace": "default"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ops"}]},
    ])
    as_bob = make_api(kubesim, as_user="bob")
    assert as_bob.can_i("list", kinds.CONFIGMAP, "default") is False
    as_bob_ops = make_api(kubesim, as_user="bob", as_groups=["devs", "ops"])
    assert as_bob_ops.can_i("list", kinds.CONFIGMAP, "default") is True
    assert as_bob_ops.can_i("delete", kinds.CONFIGMAP, "default") is False


def test_list_pages_through_continue_tokens(kubesim):
    api = make_api(kubesim)
    kubesim.apply([configmap(f"cm-{i:02d}", labels={"batch": "a" if i % 2 else "b"}) for i in range(25)])
    kubesim.requests.reset()
    result = api.list(kinds.CONFIGMAP, "default", label_selector="batch=a", limit=5)
    assert sorted(o["metadata"]["name"] for o in result.items) == [f"cm-{i:02d}" for i in range(1, 25, 2)]
    assert all(o["kind"] == "ConfigMap" and o["apiVersion"] == "v1" for o in result.items)
    assert result.resource_version
    assert kubesim.requests.count(verb="list", resource="configmaps") == 3


def test_metadata_only_lists_never_fetch_secret_data(kubesim):
    kubesim.apply([{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cloud-init", "namespace": "default",
                                                                        "labels": {"app": "web"}},
                    "type": "Opaque", "stringData": {"userdata": "password: hunter2"}}])
    api = make_api(kubesim)
    kubesim.requests.reset()
    secrets = api.list(kinds.SECRET, "default", metadata_only=True).items
    mine = [s for s in secrets if s["metadata"]["name"] == "cloud-init"]
    assert mine and mine[0]["metadata"]["labels"] == {"app": "web"}
    assert all("data" not in s and "stringData" not in s for s in secrets)
    assert mine[0]["kind"] == "Secret"
    entry = kubesim.requests.entries[-1]
    assert entry.resource == "secrets" and entry.status == 200


def test_transient_failures_are_retried_with_backoff(kubesim):
    sleeps = Sleeps()
    api = make_api(kubesim, sleeps)
    kubesim.apply([configmap("cm")])
    kubesim.faults.inject(verb="get", resource="configmaps", status=503, times=2)
    assert api.get(kinds.CONFIGMAP, "cm", "default")["metadata"]["name"] == "cm"
    assert len(sleeps) == 2 and sleeps[1] > 0


def test_retry_after_is_honoured(kubesim):
    sleeps = Sleeps()
    api = make_api(kubesim, sleeps)
    kubesim.faults.inject(verb="list", resource="configmaps", status=429, times=1, retry_after=7)
    api.list(kinds.CONFIGMAP, "default")
    assert sleeps == [7.0]


def test_connection_resets_are_retried_for_reads(kubesim):
    sleeps = Sleeps()
    api = make_api(kubesim, sleeps)
    kubesim.faults.inject(verb="list", resource="configmaps", status="reset", times=2)
    api.list(kinds.CONFIGMAP, "default")
    assert len(sleeps) == 2


def test_persistent_failure_gives_up_with_the_server_message(kubesim):
    api = make_api(kubesim, Sleeps())
    kubesim.faults.inject(verb="get", resource="configmaps", status=500)
    with pytest.raises(errors.Unavailable) as gave_up:
        api.get(kinds.CONFIGMAP, "cm", "default")
    assert kubesim.requests.count(verb="get", resource="configmaps") == api.retry.attempts
    assert str(gave_up.value).startswith("Internal error occurred: injected fault (the API server ")
    assert f"failed {api.retry.attempts} times in a row" in str(gave_up.value) and "/readyz" in str(gave_up.value)


def test_creates_are_not_blindly_retried_after_a_server_error(kubesim):
    sleeps = Sleeps()
    api = make_api(kubesim, sleeps)
    kubesim.faults.inject(verb="create", resource="configmaps", status=500, times=1)
    with pytest.raises(errors.Unavailable):
        api.create(kinds.CONFIGMAP, configmap("once"))
    assert sleeps == []
    kubesim.faults.inject(verb="create", resource="configmaps", status=429, times=1, retry_after=1)
    api.create(kinds.CONFIGMAP, configmap("once"))
    assert sleeps == [1.0]


def test_watch_from_a_list_version_sees_later_changes(kubesim):
    api = make_api(kubesim)
    listed = api.list(kinds.CONFIGMAP, "default")
    kubesim.apply([configmap("watched")])
    events = api.watch(kinds.CONFIGMAP, "default", resource_version=listed.resource_version, timeout_seconds=5)
    etype, obj = next(e for e in events if e[0] != "BOOKMARK")
    assert (etype, obj["metadata"]["name"], obj["kind"]) == ("ADDED", "watched", "ConfigMap")
    events.close()


def test_watch_from_a_compacted_version_raises_gone(kubesim_factory):
    sim = kubesim_factory(history=5)
    sim.apply([configmap(f"churn-{i}") for i in range(20)])
    api = make_api(sim)
    with pytest.raises(errors.Gone):
        list(api.watch(kinds.CONFIGMAP, "default", resource_version="1", timeout_seconds=2))


def test_discovery_once_per_api_and_serves(kubesim_factory):
    sim = kubesim_factory(served_groups={"", "apps", "storage.k8s.io", "networking.k8s.io",
                                         "rbac.authorization.k8s.io", "authorization.k8s.io", "kubevirt.io",
                                         "subresources.kubevirt.io"})
    api = make_api(sim)
    assert api.serves(kinds.VM) and not api.serves(kinds.DATAVOLUME)
    sim.requests.reset()
    api.serves(kinds.NAD)
    api.served_groups()
    assert len(sim.requests.entries) == 0


def test_version_reports_server_kubevirt_and_cdi(kubesim, capsys):
    code = cli.main(["version", "--kubeconfig", kubesim.kubeconfig_path, "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["serverVersion"]["gitVersion"].startswith("v1.")
    assert doc["kubevirtVersion"].startswith("v1.") and doc["cdiVersion"].startswith("v1.")


def test_version_says_not_installed_without_cdi(kubesim_factory, capsys):
    sim = kubesim_factory(served_groups={"", "apps", "storage.k8s.io", "authorization.k8s.io",
                                         "rbac.authorization.k8s.io", "kubevirt.io", "subresources.kubevirt.io"})
    assert cli.main(["version", "--kubeconfig", sim.kubeconfig_path]) == 0
    out = capsys.readouterr().out
    assert "CDI Version: not installed" in out and "KubeVirt Version: v1." in out


def test_unreachable_server_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "kc"
    cfg.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, "
                   "user: u}\nclusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:9'}\nusers:\n- name: u\n"
                   "  user: {token: t}\n")
    code = cli.main(["version", "--kubeconfig", str(cfg), "--request-timeout", "2s"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert err.startswith("error: The connection to the server https://127.0.0.1:9 was refused")


def _plugin_path(tmp_path):
    """A PATH holding only the plugin (as krew links it) and kubectl: what a user's shell would find."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(os.path.join(os.path.dirname(sys.executable), "kubectl-vmmove"), bin_dir / "kubectl-vmmove")
    os.symlink(shutil.which("kubectl"), bin_dir / "kubectl")
    return str(bin_dir)


def test_version_through_kubectl_plugin_dispatch(kubesim, tmp_path):
    path = _plugin_path(tmp_path)
    two = tmp_path / "two-contexts.yaml"
    kubesim.write_kubeconfig(str(two), namespace="default", context="kubesim")
    env = {"PATH": path, "HOME": str(tmp_path), "KUBECONFIG": str(two)}
    plain = subprocess.run(["kubectl", "vmmove", "version"], capture_output=True, text=True, env=env)
    assert plain.returncode == 0, plain.stderr
    assert "Server Version: v1." in plain.stdout and "KubeVirt Version: v1." in plain.stdout
    scoped = subprocess.run(["kubectl", "vmmove", "version", "--context", "kubesim", "-n", "kube-system", "-o", "json"],
                            capture_output=True, text=True, env=env)
    assert scoped.returncode == 0, scoped.stderr
    assert json.loads(scoped.stdout)["serverVersion"]["gitVersion"].startswith("v1.")
    wrong = subprocess.run(["kubectl", "vmmove", "version", "--context", "nope"], capture_output=True, text=True,
                           env=env)
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("error: context was not found for specified context: nope")


YAML_CASES = {"a": "y", "b": "N", "c": "on", "d": "1e3", "e": "0o17", "f": "012", "g": "0x1F", "h": "1_000",
              "i": "true", "j": "~", "k": "multi\nline\n", "l": "plain"}


def test_yaml_output_reads_back_identically_in_kubectl(kubesim, tmp_path):
    from kubectl_vmmove.printers import dump_yaml

    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "quoting", "labels": {"flag": "y"}},
           "data": YAML_CASES}
    result = subprocess.run(
        ["kubectl", "--kubeconfig", kubesim.kubeconfig_path, "create", "--dry-run=client", "-o", "json", "-f", "-"],
        input=dump_yaml(obj), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    back = json.loads(result.stdout)
    assert back["data"] == YAML_CASES
    assert back["metadata"]["labels"] == {"flag": "y"}


def _exec_kubeconfig(sim, tmp_path, script_body):
    plugin = tmp_path / "get-token"
    plugin.write_text("#!/bin/sh\n" + script_body)
    plugin.chmod(0o755)
    cfg = tmp_path / "exec.yaml"
    cfg.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"contexts:\n- name: c\n  context: {{cluster: k, user: sso, namespace: default}}\n"
        f"clusters:\n- name: k\n  cluster: {{server: '{sim.url}', insecure-skip-tls-verify: true}}\n"
        "users:\n- name: sso\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
        "      command: ./get-token\n      interactiveMode: Never\n")
    return str(cfg)


def test_exec_credential_plugins_supply_the_token(kubesim, tmp_path, capsys):
    body = ('echo \'{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", '
            f'"status": {{"token": "{kubesim.admin_token}"}}}}\'\n')
    cfg = _exec_kubeconfig(kubesim, tmp_path, body)
    assert cli.main(["version", "--kubeconfig", cfg, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["serverVersion"]["gitVersion"].startswith("v1.")


def test_failing_exec_plugin_is_a_clear_error(kubesim, tmp_path, capsys):
    cfg = _exec_kubeconfig(kubesim, tmp_path, "echo 'login required' >&2\nexit 1\n")
    assert cli.main(["version", "--kubeconfig", cfg]) == 1
    err = capsys.readouterr().err
    assert "exec credential plugin" in err and "get-token" in err and "Traceback" not in err


def test_verbose_logs_show_api_requests_on_stderr(kubesim, capsys):
    assert cli.main(["version", "--kubeconfig", kubesim.kubeconfig_path, "--v=6"]) == 0
    out, err = capsys.readouterr()
    assert "GET " + kubesim.url + "/version 200" in err
    assert "GET" not in out


class _FlakyTlsPool:
    """Stands in for the urllib3 pool: the first handshake is cut short by a reset, then the real pool answers."""

    def __init__(self, real, failure):
        self.real, self.failure, self.calls = real, failure, 0

    def request(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            raise self.failure
        return self.real.request(*args, **kwargs)


def test_tls_handshake_reset_is_retried_but_an_untrusted_certificate_is_not(kubesim):
    import urllib3

    sleeps = Sleeps()
    api = make_api(kubesim, sleeps)
    api._pool = _FlakyTlsPool(api._pool, urllib3.exceptions.SSLError("EOF occurred in violation of protocol"))
    assert api.server_version()["gitVersion"].startswith("v1.")
    assert len(sleeps) == 1

    untrusted = make_api(kubesim, Sleeps())
    untrusted._pool = _FlakyTlsPool(untrusted._pool, urllib3.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"))
    with pytest.raises(errors.Unavailable, match="TLS certificate is not trusted"):
        untrusted.server_version()
    assert untrusted._pool.calls == 1


def test_a_server_with_an_unknown_certificate_is_refused_clearly(kubesim, tmp_path, capsys):
    cfg = tmp_path / "wrong-ca.yaml"
    cfg.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n"
        f"clusters:\n- name: k\n  cluster: {{server: '{kubesim.url}'}}\n"
        f"users:\n- name: u\n  user: {{token: '{kubesim.admin_token}'}}\n")
    assert cli.main(["version", "--kubeconfig", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "TLS certificate is not trusted" in err and "Traceback" not in err


class OutageClock:
    """Simulated time for the retry layer: each requested sleep moves the clock on by that much."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


def outage_api(sim, notices):
    clock = OutageClock()
    resolved = resolve(Overrides(kubeconfig=sim.kubeconfig_path), {"HOME": "/nonexistent"})
    api = Api(resolved, retry=RetryPolicy(sleep=clock.sleep, clock=clock, notice=notices.append))
    return api, clock


def test_an_api_server_that_goes_away_is_waited_for_up_to_the_outage_budget_showing_the_wait(kubesim):
    notices = []
    api, clock = outage_api(kubesim, notices)
    api.get(kinds.NAMESPACE, "default")              # the server answered once: what follows is an outage
    kubesim.faults.inject(status="reset")
    with pytest.raises(errors.ServerGone) as gone:
        api.get(kinds.CONFIGMAP, "cm", "default")
    assert 180 <= clock.now <= 190                  # kept trying for the 3 minute budget, no longer
    assert "has not answered for 3m" in str(gone.value) and "/readyz" in str(gone.value)
    assert notices and all("retrying in" in n and "gives up in" in n for n in notices)
    assert len(notices) < len(clock.sleeps)          # the wait is shown now and then, not on every retry
    # Once given up, the next call does not wait another budget: one try, then the same error.
    before = clock.now
    with pytest.raises(errors.ServerGone):
        api.get(kinds.CONFIGMAP, "cm", "default")
    assert clock.now == before


def test_an_outage_shorter_than_the_budget_is_ridden_out(kubesim):
    notices = []
    api, clock = outage_api(kubesim, notices)
    api.get(kinds.NAMESPACE, "default")
    kubesim.faults.inject(status=503, times=25)
    assert api.get(kinds.NAMESPACE, "default")["metadata"]["name"] == "default"
    assert len(clock.sleeps) == 25 and clock.now > 30


def test_an_explicit_attempts_count_disables_the_outage_budget(kubesim):
    api, clock = outage_api(kubesim, [])
    api.get(kinds.NAMESPACE, "default")
    kubesim.faults.inject(verb="get", resource="configmaps", status=503)
    with pytest.raises(errors.Unavailable) as gave_up:
        api.request("GET", kinds.CONFIGMAP.path("default", "cm"), attempts=2)
    assert len(clock.sleeps) == 1 and "failed 2 times in a row" in str(gave_up.value)

"""`kubectl vmmove plan|run --strategy live` against kubesim: what a user sees when a running VM moves to another
namespace through KubeVirt's decentralized live migration (shared/reference/live-move.md)."""

import base64

import yaml

from tests.kubesim import builders
from tests.kubesim.controllers import controllers_of
from tests.move_run_support import DV, PVC, SECRET_VALUE, VM, VMI, identity, move_id, run_move

VMIM, KV = "virtualmachineinstancemigrations.kubevirt.io", "kubevirts.kubevirt.io"


def enable_gate(sim):
    kv = sim.get(KV, "kubevirt", "kubevirt")
    kv["spec"]["configuration"].setdefault("developerConfiguration", {})["featureGates"] = \
        ["DecentralizedLiveMigration"]
    sim.apply(kv)


def seed(sim, running=True, gate=True):
    objs = builders.namespace("src") + builders.namespace("dst")
    objs += builders.vm("web", "src", disks=(("rootdisk", "1Gi"), ("data", "2Gi")), running=running,
                        cloud_init_secret="web-ci", service=True, configmap="web-cm", mac="02:aa:bb:cc:dd:01")
    for o in objs:
        if o["kind"] == "Secret" and o["metadata"]["name"] == "web-ci":
            o["data"]["password"] = base64.b64encode(SECRET_VALUE.encode()).decode()
    sim.apply(objs)
    if gate:
        enable_gate(sim)
    if running:
        from tests.move_run_support import wait_vms
        wait_vms(sim, "src", ("web",))


def findings(out):
    return {f["code"]: f for f in yaml.safe_load(out)["status"]["findings"]}


def test_plan_live_refuses_when_the_gate_is_off_and_names_the_remedy(kubesim, capsys):
    seed(kubesim, gate=False)
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "-o", "yaml")
    found = findings(out)
    assert found["LiveGateDisabled"]["severity"] == "error"
    assert "featureGates" in found["LiveGateDisabled"]["remedy"]
    assert "VmRunning" not in found     # a live move does not stop the VM


def test_plan_live_refuses_a_stopped_vm_and_offers_the_offline_strategies(kubesim, capsys):
    seed(kubesim, running=False)
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "-o", "yaml")
    found = findings(out)
    assert found["VmNotRunning"]["severity"] == "error"
    assert "--strategy clone" in found["VmNotRunning"]["remedy"]


def test_plan_live_lists_receiver_migrations_and_no_stop(kubesim, capsys):
    seed(kubesim)
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "-o", "yaml")
    assert code == 0, err
    doc = yaml.safe_load(out)
    errors = [f for f in doc["status"]["findings"] if f["severity"] == "error"]
    assert not errors, errors
    steps = doc["spec"]["vms"][0]["steps"]
    actions = [(s["action"], s["kind"]) for s in steps]
    assert ("stop", "VirtualMachine") not in actions
    assert actions[-4:] == [("await-receiver", "VirtualMachineInstance"),
                            ("migrate-receive", "VirtualMachineInstanceMigration"),
                            ("migrate-send", "VirtualMachineInstanceMigration"),
                            ("await-migration", "VirtualMachineInstanceMigration")]
    vm_step = next(s for s in steps if s["action"] == "create" and s["kind"] == "VirtualMachine")
    assert vm_step["object"]["spec"]["runStrategy"] == "WaitAsReceiver"
    assert vm_step["object"]["metadata"]["annotations"]["kubevirt.io/restore-run-strategy"] == "Always"
    blank = [s for s in steps if s["action"] == "create" and s["kind"] == "DataVolume"]
    assert {s["name"] for s in blank} == {"web-rootdisk", "web-data"}
    assert all(s["object"]["spec"]["source"] == {"blank": {}} for s in blank)


def test_run_live_moves_a_running_vm_and_leaves_the_source_halted_until_cleanup(kubesim, capsys):
    seed(kubesim)
    source_vm = kubesim.get(VM, "web", "src")
    source_node = kubesim.get(VMI, "web", "src")["status"]["nodeName"]
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "--yes")
    assert code == 0, err + out
    moved = kubesim.get(VM, "web", "dst")
    assert identity(moved) == identity(source_vm)
    assert moved["spec"]["runStrategy"] == "Always"
    vmi = kubesim.get(VMI, "web", "dst")
    assert vmi["status"]["phase"] == "Running" and vmi["status"]["nodeName"] != source_node
    # KubeVirt leaves the source halted; its disks and dependencies stay until cleanup.
    assert kubesim.get(VM, "web", "src")["spec"]["runStrategy"] == "Halted"
    for claim in ("web-rootdisk", "web-data"):
        assert kubesim.get(PVC, claim, "src") is not None
        assert kubesim.get(DV, claim, "dst")["spec"]["source"] == {"blank": {}}
    copied = kubesim.get("secrets", "web-ci", "dst")
    assert base64.b64decode(copied["data"]["password"]).decode() == SECRET_VALUE
    assert kubesim.get("services", "web-ssh", "dst") is not None
    assert not kubesim.list(VMIM, "dst") and not kubesim.list(VMIM, "src")
    for text in (out, err):
        assert SECRET_VALUE not in text


def test_run_live_failure_keeps_the_source_running_and_removes_the_target(kubesim, capsys):
    seed(kubesim)
    controllers_of(kubesim).migration.nodes = [kubesim.get(VMI, "web", "src")["status"]["nodeName"]]
    controllers_of(kubesim).migration.rates.unschedulable_pod_timeout_seconds = 60
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "--yes")
    assert code != 0
    assert "the source VM keeps running" in err + out
    assert "migrationTargetPodUnschedulable" in err + out      # the cause, from KubeVirt's events
    assert kubesim.get(VMI, "web", "src")["status"]["phase"] == "Running"
    assert kubesim.get(VM, "web", "src")["spec"]["runStrategy"] == "Always"
    assert kubesim.get(VM, "web", "dst") is None
    assert kubesim.get(DV, "web-rootdisk", "dst") is None
    assert not kubesim.list(VMIM, "dst") and not kubesim.list(VMIM, "src")


def test_run_live_keep_failed_keeps_the_receiver_for_diagnosis(kubesim, capsys):
    seed(kubesim)
    controllers_of(kubesim).migration.sync_reachable = False
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "--yes", "--keep-failed", "--live-sync-timeout", "1s")
    assert code != 0
    assert "synchronization" in err + out
    assert kubesim.get(VM, "web", "dst")["spec"]["runStrategy"] == "WaitAsReceiver"
    assert kubesim.get(VMI, "web", "src")["status"]["phase"] == "Running"
    assert not kubesim.list(VMIM, "dst") and not kubesim.list(VMIM, "src")


def test_verify_then_cleanup_after_a_live_move_deletes_the_halted_source_and_its_disks(kubesim, capsys):
    seed(kubesim)
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "--yes")
    assert code == 0, err
    mid = move_id(kubesim)
    code, out, err = run_move(kubesim, capsys, "verify", mid, "-n", "dst")
    assert code == 0, out + err
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "-n", "dst", "--yes")
    assert code == 0, out + err
    from tests.kubesim.controllers.testing import run_until
    run_until(kubesim, lambda: kubesim.get(VM, "web", "src") is None and
              kubesim.get(PVC, "web-rootdisk", "src") is None, max_seconds=600)
    assert kubesim.get(VMI, "web", "dst")["status"]["phase"] == "Running"


def test_rollback_after_a_live_move_runs_the_source_again_and_removes_the_target(kubesim, capsys):
    seed(kubesim)
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "--yes")
    assert code == 0, err
    code, out, err = run_move(kubesim, capsys, "rollback", move_id(kubesim), "-n", "dst", "--yes")
    assert code == 0, out + err
    from tests.kubesim.controllers.testing import run_until
    run_until(kubesim, lambda: (kubesim.get(VMI, "web", "src") or {}).get("status", {}).get("phase") == "Running",
              max_seconds=600)
    assert kubesim.get(VM, "web", "dst") is None


def test_a_migration_deleted_mid_way_fails_the_move_and_the_source_keeps_running(kubesim, capsys):
    import threading
    import time

    seed(kubesim)
    controllers_of(kubesim).migration.rates.bandwidth_bytes_per_second = 2 ** 20    # about 85 simulated minutes

    def cancel():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            running = [m for m in kubesim.list(VMIM, "src") if (m.get("status") or {}).get("phase") == "Running"]
            if running:
                kubesim.delete(VMIM, running[0]["metadata"]["name"], "src")
                return
            time.sleep(0.01)
    t = threading.Thread(target=cancel)
    t.start()
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "--yes")
    t.join()
    assert code != 0
    assert "cancelled" in out + err
    assert kubesim.get(VMI, "web", "src")["status"]["phase"] == "Running"
    assert kubesim.get(VM, "web", "dst") is None


def test_auto_moves_the_running_vm_live_and_the_stopped_one_offline_and_says_why(kubesim, capsys):
    seed(kubesim)
    kubesim.apply(builders.vm("db", "src", disks=(("rootdisk", "1Gi"),), disk_mode="pvc", running=False))
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "--all", "--strategy", "auto",
                              "-o", "yaml")
    assert code == 0, err
    doc = yaml.safe_load(out)
    chosen = {v["name"]: v["strategy"] for v in doc["spec"]["vms"]}
    assert chosen["web"] == "live"
    assert chosen["db"] in ("transfer", "clone")    # cluster-admin here: transfer
    why = {f["subject"]["name"]: f["message"] for f in doc["status"]["findings"] if f["code"] == "StrategyChosen"}
    assert "not live: not running" in why["db"]
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "--all", "--strategy", "auto",
                              "--yes")
    assert code == 0, out + err
    assert kubesim.get(VMI, "web", "dst")["status"]["phase"] == "Running"
    assert kubesim.get(VM, "db", "dst") is not None


def test_auto_without_the_gate_falls_back_for_every_vm(kubesim, capsys):
    seed(kubesim, gate=False)
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--strategy", "auto",
                              "-o", "yaml")
    assert code == 0, err
    doc = yaml.safe_load(out)
    entry = doc["spec"]["vms"][0]
    assert entry["strategy"] != "live" and "LiveGateDisabled" in entry["strategyReason"]
    assert not [f for f in doc["status"]["findings"] if f["code"] == "LiveGateDisabled"]


# ------------------------------------------------------------------ preflight findings (live-move.md §2)
def test_plan_live_asks_for_the_migrate_role_in_both_namespaces(kubesim, capsys, tmp_path):
    seed(kubesim)
    for ns in ("src", "dst"):
        kubesim.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                       "metadata": {"name": "alice-admin", "namespace": ns},
                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                       "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]})
    kubesim.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "kvmigrate", "namespace": "src"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                               "name": "kubevirt.io:migrate"},
                   "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]})
    config = kubesim.write_kubeconfig(str(tmp_path / "alice"), user="alice", namespace="src")
    from kubectl_vmmove import cli

    cli.main(["--kubeconfig", config, "plan", "--to", "dst", "web", "--strategy", "live", "-o", "yaml"])
    out, err = capsys.readouterr()
    missing = [f for f in yaml.safe_load(out)["status"]["findings"] if f["code"] == "MigrateRightsMissing"]
    assert [f["subject"]["name"] for f in missing] == ["dst"]
    assert "--clusterrole=kubevirt.io:migrate --user=alice -n dst" in missing[0]["remedy"]


def test_plan_live_refuses_a_vm_kubevirt_reports_not_migratable_and_one_already_migrating(kubesim, capsys):
    seed(kubesim)
    kubesim.apply(builders.vm("api", "src", disks=(("rootdisk", "1Gi"),), running=True))
    from tests.move_run_support import wait_vms
    wait_vms(kubesim, "src", ("api",))
    vmi = kubesim.get(VMI, "web", "src")
    for c in vmi["status"]["conditions"]:
        if c["type"] == "LiveMigratable":
            c.update(reason="InterfaceNotLiveMigratable", message="bridge on the pod network")
    kubesim.internal.update(vmi)
    # Someone else's migration of api is under way (created as virt-controller would for an evacuation).
    kubesim.internal.create({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
                             "metadata": {"name": "evacuation", "namespace": "src"}, "spec": {"vmiName": "api"},
                             "status": {"phase": "Scheduling"}})
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "api", "--strategy",
                              "live", "-o", "yaml")
    found = [(f["code"], f.get("vms")) for f in yaml.safe_load(out)["status"]["findings"]
             if f["severity"] == "error"]
    assert ("NotLiveMigratable", ["web"]) in found
    assert ("MigrationInProgress", ["api"]) in found


def _ctx(objects, strategy="live", kubevirt_version="v1.9.0"):
    import types

    from kubectl_vmmove.move.planning.inventory import Inventory

    kv = {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt", "metadata": {"name": "kubevirt", "namespace": "kubevirt"},
          "spec": {"configuration": {"developerConfiguration": {"featureGates": ["DecentralizedLiveMigration"]}}},
          "status": {"observedKubeVirtVersion": kubevirt_version, "synchronizationAddresses": ["10.0.0.9:9185"]}}
    inv = Inventory.from_objects(list(objects) + [kv], "src", "dst")
    graph = types.SimpleNamespace(nodes={})
    return types.SimpleNamespace(inv=inv, graph=graph, strategy=strategy, src="src", dst="dst")


def _node(name, unschedulable=False):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "spec": {"unschedulable": True} if unschedulable else {}}


def test_live_rules_single_node_versions_and_devices():
    import types

    from kubectl_vmmove.move.planning.preflight import live

    assert [f["code"] for f in live.nodes(_ctx([_node("a"), _node("b", unschedulable=True)]))] == ["SingleNode"]
    assert live.nodes(_ctx([_node("a"), _node("b")])) == []
    assert live.nodes(_ctx([_node("a")], strategy="clone")) == []
    assert [f["code"] for f in live.version(_ctx([], kubevirt_version="v1.5.2"))] == ["KubeVirtTooOldForLive"]
    assert [f["code"] for f in live.version(_ctx([], kubevirt_version="v1.8.2"))] == ["KubeVirtLiveFixesMissing"]
    assert live.version(_ctx([], kubevirt_version="v1.9.0")) == []
    vm = builders.vm("gpu", "src", disks=(), image=None, run_strategy="Always", tpm=True)[-1]
    vm["spec"]["template"]["spec"]["domain"]["devices"]["gpus"] = [{"name": "g", "deviceName": "nvidia.com/A10"}]
    vm["spec"]["template"]["spec"]["domain"]["devices"]["filesystems"] = [{"name": "fs", "virtiofs": {}}]
    vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
           "metadata": {"name": "gpu", "namespace": "src"},
           "status": {"phase": "Running", "conditions": [{"type": "LiveMigratable", "status": "True"},
                                                         {"type": "StorageLiveMigratable", "status": "True"}]}}
    ctx = _ctx([vmi], kubevirt_version="v1.6.3")
    ctx.graph.nodes = {"gpu": types.SimpleNamespace(vm=vm)}
    messages = [f["message"] for f in live.vms(ctx) if f["code"] == "UnsupportedForLive"]
    assert any("virtiofs" in m for m in messages) and any("GPUs" in m for m in messages)
    assert any("persistent TPM/EFI" in m for m in messages)     # v1.6 cannot carry it, v1.7 can
    ctx7 = _ctx([vmi], kubevirt_version="v1.7.0")
    ctx7.graph.nodes = ctx.graph.nodes
    assert not any("TPM" in f["message"] for f in live.vms(ctx7))


def test_live_move_of_a_vm_with_persistent_tpm_gets_a_state_claim_kubevirt_makes_and_verifies(kubesim, capsys):
    kubesim.apply(builders.namespace("src") + builders.namespace("dst") +
                  builders.vm("sec", "src", disks=(("rootdisk", "1Gi"),), running=True, tpm=True))
    enable_gate(kubesim)
    # A v1.7 cluster: the first to carry a persistent TPM over a decentralized migration (live-move.md §2.4).
    kv = kubesim.get(KV, "kubevirt", "kubevirt")
    kv["status"]["observedKubeVirtVersion"] = "v1.7.0"
    kubesim.internal.update(kv, subresource="status")
    from tests.move_run_support import wait_vms
    wait_vms(kubesim, "src", ("sec",))
    code, out, err = run_move(kubesim, capsys, "run", "-n", "src", "--to", "dst", "sec", "--strategy", "live",
                              "--yes", "--move-id", "tpm1")
    assert code == 0, out + err
    state = [p for p in kubesim.list(PVC, "dst") if p["metadata"]["labels"].get("persistent-state-for") == "sec"]
    assert len(state) == 1 and state[0]["status"]["phase"] == "Bound"
    code, out, err = run_move(kubesim, capsys, "verify", "tpm1", "-n", "dst")
    assert code == 0, out + err


def test_plan_live_refuses_when_only_one_node_is_schedulable(kubesim, capsys):
    seed(kubesim)
    for node in kubesim.list("nodes")[1:]:
        node["spec"]["unschedulable"] = True
        kubesim.apply(node)
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "-o", "yaml")
    found = findings(out)
    assert found["SingleNode"]["severity"] == "error"
    assert "NodesUnknown" not in found


def test_manifests_are_refused_for_a_live_move(kubesim, capsys):
    seed(kubesim)
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "--manifests")
    assert code != 0 and err.startswith("error: --manifests describes a clone move") and "Traceback" not in err
    assert not kubesim.list(VM, "dst")


def test_new_macs_cannot_be_asked_of_a_live_move(kubesim, capsys):
    seed(kubesim)
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "--strategy", "live",
                              "--mac-policy", "new", "-o", "yaml")
    assert findings(out)["NewMacsNotLive"]["severity"] == "error"

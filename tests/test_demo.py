"""The README's first command: `scripts/demo` runs the whole story on the sample cluster and leaves it running."""

import os
import signal
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_demo_moves_three_vms_converts_openstack_and_leaves_the_cluster_running(tmp_path):
    demo = tmp_path / "demo"
    env = dict(os.environ, DEMO_DIR=str(demo), DEMO_SPEED="400",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    result = subprocess.run(["bash", os.path.join(ROOT, "scripts", "demo")], capture_output=True, text=True,
                            env=env, timeout=600)
    pid = int((demo / "kubesim.pid").read_text())
    try:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        out = result.stdout + result.stderr
        for command in ("kubectl vmmove version", "kubectl vmmove assess -n legacy", "kubectl vmmove plan",
                        "kubectl vmmove run -f", "kubectl vmmove verify", "kubectl vmmove cleanup",
                        "kubectl vmmove openstack convert"):
            assert f"$ {command}" in out, command
        assert "All " in out and "checks passed" in out
        assert result.stdout.rstrip().endswith(f"export KUBECONFIG={demo}/kubeconfig PATH={os.path.dirname(sys.executable)}"
                                     ":$PATH")
        # The moved VMs are in prod, build-01 (which shares a Secret with them) stayed in legacy with that Secret.
        kubeconfig = str(demo / "kubeconfig")
        vms = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "get", "vm", "-A", "-o", "json"],
                             capture_output=True, text=True, check=True)
        where = sorted((v["metadata"]["namespace"], v["metadata"]["name"]) for v in yaml.safe_load(vms.stdout)["items"])
        assert where == [("legacy", "build-01"), ("prod", "api-01"), ("prod", "db-01"), ("prod", "web-01"),
                         ("prod", "web-02")]
        # api-01 moved live: it runs in prod on another node than before, the move said so.
        assert "strategy live" in out and "kubectl vmmove run -n legacy --to prod api-01 --strategy live" in out
        subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "get", "secret", "ca-bundle", "-n", "legacy"],
                       capture_output=True, check=True)
        # The GitOps folder holds a kustomization per namespace and VMs as files.
        gitops = demo / "gitops"
        assert (gitops / "kustomization.yaml").exists()
        assert list(gitops.glob("*/virtualmachine-*.yaml"))
    finally:
        os.kill(pid, signal.SIGTERM)

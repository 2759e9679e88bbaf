"""The sample cluster of `scripts/demo`: `python -m tests.kubesim.demo --kubeconfig FILE`.

Namespace `legacy` holds VMs that landed in the wrong place after a migration: several disks, cloud-init Secrets,
a Service, a NetworkAttachmentDefinition, a persistent TPM, one running VM, and a CA bundle Secret that `build-01`
(which stays) shares with the VMs that move. Namespace `prod` is where they belong. `api-01` runs too and moves
live: the cluster has KubeVirt's DecentralizedLiveMigration gate on.
"""

import argparse
import datetime
import os
import shutil
import sys

from . import KubeSim, builders
from .__main__ import serve_until_signalled

SOURCE, TARGET = "legacy", "prod"


def estate():
    objs = builders.namespace(SOURCE) + builders.namespace(TARGET)
    objs += builders.secret("ca-bundle", SOURCE, {"ca.crt": "-----BEGIN CERTIFICATE-----\ndemo\n-----END CERTIFICATE-----\n"})
    objs += builders.vm("web-01", SOURCE, disks=(("rootdisk", "20Gi"), ("data", "50Gi")), running=True,
                        cloud_init_secret="web-01-cloud-init", service=True, nad="vlan-100", shared_secret="ca-bundle")
    objs += builders.vm("web-02", SOURCE, disks=(("rootdisk", "20Gi"),), cloud_init_secret="web-02-cloud-init",
                        service=True, shared_secret="ca-bundle")
    objs += builders.vm("db-01", SOURCE, disks=(("rootdisk", "30Gi"), ("pgdata", "100Gi"), ("wal", "10Gi")),
                        ssh_key_secret="db-01-ssh", configmap="db-01-config", tpm=True,
                        cloud_init_secret="db-01-cloud-init")
    objs += builders.vm("api-01", SOURCE, disks=(("rootdisk", "10Gi"),), running=True,
                        cloud_init_secret="api-01-cloud-init", service=True, nad="vlan-200")
    objs += builders.vm("build-01", SOURCE, disks=(("rootdisk", "40Gi"),), cloud_init_secret="build-01-cloud-init",
                        shared_secret="ca-bundle")
    return objs


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.kubesim.demo", description=__doc__)
    parser.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig of the sample cluster")
    parser.add_argument("--speed", type=float, default=40.0, help="simulated seconds per real second")
    args = parser.parse_args(argv)
    # The clock starts an hour in the past (the estate's history is simulated below), so ages read naturally.
    started = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=3600)
    sim = KubeSim(speed=args.speed, clock_start=started)
    sim.start()
    sim.apply(estate())
    kv = sim.get("kubevirts.kubevirt.io", "kubevirt", "kubevirt")
    kv["spec"]["configuration"].setdefault("developerConfiguration", {})["featureGates"] = \
        ["DecentralizedLiveMigration"]
    sim.apply(kv)
    # The estate has been there for a while: imports finished, web-01 up. Jump the clock rather than wait.
    for _ in range(6):
        sim.clock.advance(600)
        sim.settle(timeout=30)
    tmp = args.kubeconfig + ".tmp"
    shutil.copyfile(sim.kubeconfig_path, tmp)
    os.replace(tmp, args.kubeconfig)  # appears whole: scripts/demo waits for this file
    print(f"kubesim serving {sim.url}; kubeconfig {args.kubeconfig}", flush=True)
    return serve_until_signalled(sim)


if __name__ == "__main__":
    sys.exit(main())

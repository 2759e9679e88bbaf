"""Shared set-up for the run/verify/cleanup/rollback tests: a kubesim cluster seeded with VMs, the CLI run
in-process against it, and readers of the end state."""

import json

from kubectl_vmmove import cli
from tests.kubesim import builders
from tests.kubesim.controllers.testing import run_until

VM = "virtualmachines.kubevirt.io"
VMI = "virtualmachineinstances.kubevirt.io"
DV = "datavolumes.cdi.kubevirt.io"
PVC = "persistentvolumeclaims"
PV = "persistentvolumes"
SECRET_VALUE = "s3cr3t-Kubesim-Value-4711"


def seed_basic(sim, src="src", dst="dst", running=("web",), extra=()):
    """web: running, two template disks, persistent TPM, cloud-init Secret (with a seeded secret value), a
    ConfigMap and a Service; db: stopped, a plain PVC disk; both use one shared Secret."""
    objs = builders.namespace(src) + builders.namespace(dst)
    objs += builders.secret("shared-ca", src, {"ca.crt": "ca-" + SECRET_VALUE})
    objs += builders.vm("web", src, disks=(("rootdisk", "1Gi"), ("data", "2Gi")), running="web" in running,
                        cloud_init_secret="web-ci", service=True, tpm=True, configmap="web-cm",
                        shared_secret="shared-ca", mac="02:aa:bb:cc:dd:01")
    objs += builders.vm("db", src, disks=(("rootdisk", "1Gi"),), disk_mode="pvc", running="db" in running,
                        shared_secret="shared-ca", ssh_key_secret="db-ssh", nad="db-net")
    for o in objs:
        if o["kind"] == "Secret" and o["metadata"]["name"] == "web-ci":
            import base64

            o["data"]["password"] = base64.b64encode(SECRET_VALUE.encode()).decode()
    sim.apply(objs + list(extra))
    wait_vms(sim, src, running)


def wait_vms(sim, ns, running):
    run_until(sim, lambda: all((sim.get(VM, n, ns).get("status") or {}).get("printableStatus") == "Running"
                               for n in running), step=5)


def kubectl_vmmove(sim, *argv):
    return cli.main(["--kubeconfig", sim.kubeconfig_path, *argv])


def run_move(sim, capsys, *argv):
    """(exit code, stdout, stderr) of one in-process CLI call."""
    code = kubectl_vmmove(sim, *argv)
    out, err = capsys.readouterr()
    return code, out, err


def journal(sim, ns="dst"):
    """The one move journal in `ns`, with the data of its parts merged in (as a single-ConfigMap journal)."""
    cms = [c for c in sim.list("configmaps", ns)
           if (c["metadata"].get("labels") or {}).get("vmmove.io/journal") == "true"]
    assert len(cms) == 1, [c["metadata"]["name"] for c in cms]
    out = dict(cms[0])
    data, binary = dict(out.get("data") or {}), dict(out.get("binaryData") or {})
    for part in sim.list("configmaps", ns):
        labels = part["metadata"].get("labels") or {}
        if labels.get("vmmove.io/journal") == "part" and \
                labels.get("vmmove.io/move-id") == cms[0]["metadata"]["labels"]["vmmove.io/move-id"]:
            data.update(part.get("data") or {})
            binary.update({k: v for k, v in (part.get("binaryData") or {}).items() if v})
    data.pop("journal", None)    # the index: what is left reads as a journal in one ConfigMap
    out["data"], out["binaryData"] = data, binary
    return out


def move_id(sim, ns="dst"):
    return journal(sim, ns)["metadata"]["labels"]["vmmove.io/move-id"]


def vm_records(sim, ns="dst"):
    data = journal(sim, ns)["data"]
    return {k[3:]: json.loads(v) for k, v in data.items() if k.startswith("vm.")}


def names(sim, resource, ns):
    return sorted(o["metadata"]["name"] for o in sim.list(resource, ns))


def snapshot(sim, namespaces=("src", "dst")):
    """Kind/name/uid of every object a move touches, for comparing end states."""
    out = {}
    for ns in namespaces:
        for resource in (VM, DV, PVC, "secrets", "configmaps", "services",
                         "network-attachment-definitions.k8s.cni.cncf.io", "controllerrevisions.apps"):
            try:
                items = sim.list(resource, ns)
            except Exception:
                continue
            for o in items:
                if resource == "configmaps" and o["metadata"]["name"] in ("kube-root-ca.crt",):
                    continue
                out[(ns, resource, o["metadata"]["name"])] = o
    return out


def identity(vm):
    spec = vm["spec"]["template"]["spec"]["domain"]
    return ([i.get("macAddress") for i in spec["devices"].get("interfaces") or ()],
            spec.get("firmware", {}).get("uuid"), spec.get("firmware", {}).get("serial"))


def api_for(sim):
    import argparse

    from kubectl_vmmove.kube.session import Session

    return Session.from_args(argparse.Namespace(kubeconfig=sim.kubeconfig_path), env={}).api

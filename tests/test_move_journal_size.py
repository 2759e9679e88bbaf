"""The move journal stays within the API server's 1 MiB per ConfigMap for any number of VMs (kubesim enforces the
limit as a real apiserver does), reads back whole in a few requests, and journals in one ConfigMap (written before
the journal was split) are still read."""

import base64
import gzip
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import yaml

from kubectl_vmmove.kube import kinds
from kubectl_vmmove.move.state import journal as journalmod
from tests.move_run_support import api_for

LIMIT = 1024 * 1024
N = 3000


def _plan(n):
    vms = [{"name": f"vm-{i:04d}", "runStrategy": "Always",
            "disks": [{"claim": f"vm-{i:04d}-rootdisk", "size": "30Gi", "storageClass": "ceph-rbd",
                       "method": "csi-clone"}],
            "dependencies": [{"kind": "Secret", "name": f"vm-{i:04d}-cloudinit", "action": "copy"}],
            # what real plans carry per VM and compresses badly: uids, MAC addresses, firmware ids
            "identity": hashlib.sha512(str(i).encode()).hexdigest() + hashlib.sha512(f"x{i}".encode()).hexdigest()}
           for i in range(n)]
    return {"apiVersion": "vmmove.io/v1alpha1", "kind": "MovePlan",
            "spec": {"moveId": "big1", "source": {"namespace": "src"}, "target": {"namespace": "dst"},
                     "strategy": "clone", "vms": vms}}


def _sources(name, i):
    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
          "metadata": {"name": name, "namespace": "src", "uid": f"{i:08d}-0000-4000-8000-{i:012d}",
                       "labels": {"app": name}},
          "spec": {"runStrategy": "Always", "template": {"spec": {"domain": {
              "devices": {"interfaces": [{"name": "default", "masquerade": {}, "macAddress": f"02:00:00:00:{i % 256:02x}:01"}],
                          "disks": [{"name": "root", "disk": {"bus": "virtio"}}]},
              "memory": {"guest": "4Gi"}, "firmware": {"uuid": f"uuid-{i}"}},
              "volumes": [{"name": "root", "dataVolume": {"name": f"{name}-rootdisk"}}]}}}}
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
           "metadata": {"name": f"{name}-rootdisk", "namespace": "src", "uid": f"pvc-{i}"},
           "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "30Gi"}},
                    "storageClassName": "ceph-rbd", "volumeMode": "Block", "volumeName": f"pvc-{i:012d}"}}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{name}-cloudinit", "namespace": "src"},
              "type": "Opaque", "data": {"userdata": base64.b64encode(b"secret!").decode()}}
    return [vm, pvc, secret]


def _size(cm):
    return sum(len(v.encode()) for v in (cm.get("data") or {}).values()) + \
        sum(len(base64.b64decode(v)) for v in (cm.get("binaryData") or {}).values())


def _steps(record):
    for step in ("stop", "record", "copy-dependencies", "clone-disks", "create-vm", "start"):
        record.setdefault("steps", []).append({"name": step, "state": "Done", "started": "2025-01-01T00:00:00Z",
                                               "finished": "2025-01-01T00:01:00Z", "user": "admin"})
    record.update(phase=journalmod.SUCCEEDED, step="done", downtimeSeconds=61)


def test_a_3000_vm_journal_fits_the_limit_and_reads_back_in_two_requests(kubesim):
    api = api_for(kubesim)
    api.create(kinds.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dst"}})
    plan = _plan(N)
    jr = journalmod.Journal.create(api, plan, "admin")

    def move_one(i):       # as the run's workers do, in parallel
        name = plan["spec"]["vms"][i]["name"]
        jr.record_sources(name, _sources(name, i))
        jr.vm_update(name, _steps)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(move_one, range(N)))
    jr.move_update(lambda m: m.update(phase=journalmod.SUCCEEDED))

    # the journal's parts (every namespace also has the root-CA ConfigMap)
    cms = [c for c in kubesim.list("configmaps", "dst") if c["metadata"]["name"].startswith("vmmove-")]
    assert len(cms) > 1 and all(_size(c) <= LIMIT for c in cms)
    names = {c["metadata"]["name"] for c in cms}
    assert {"vmmove-big1.plan-0", "vmmove-big1.vms-0", f"vmmove-big1.vms-{(N - 1) // 16}"} <= names
    mains = [c for c in cms if c["metadata"]["labels"].get(journalmod.JOURNAL_LABEL) == "true"]
    assert [c["metadata"]["name"] for c in mains] == ["vmmove-big1"]     # parts are not moves
    uid = mains[0]["metadata"]["uid"]
    assert all(c["metadata"]["ownerReferences"][0]["uid"] == uid for c in cms if c is not mains[0])

    found, _ = journalmod.list_visible(api, ["dst"])
    assert [j.move_id for j in found] == ["big1"]
    count = api.request_count
    back = journalmod.find(api, "big1", ["dst"])
    vms = back.vms()
    assert back.plan() == plan
    sources = back.sources("vm-2999")
    assert api.request_count - count == 2                   # the main object, one list of its parts
    assert len(vms) == N and all(r["phase"] == journalmod.SUCCEEDED and len(r["steps"]) == 6 for r in vms.values())
    assert [o["metadata"]["name"] for o in sources] == ["vm-2999", "vm-2999-rootdisk", "vm-2999-cloudinit"]
    assert "data" not in sources[2]                          # never a Secret's data
    assert back.move()["phase"] == journalmod.SUCCEEDED


def test_a_journal_in_one_configmap_is_still_read(kubesim):
    """Written by a plugin from before the split: every key in the ConfigMap vmmove-<id>."""
    api = api_for(kubesim)
    api.create(kinds.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dst"}})
    plan = _plan(3)

    def pack(obj):
        return base64.b64encode(gzip.compress(yaml.safe_dump(obj).encode(), mtime=0)).decode()

    record = {"phase": journalmod.FAILED, "steps": [], "message": "boom"}
    api.create(kinds.CONFIGMAP, {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "vmmove-big1", "labels": {journalmod.JOURNAL_LABEL: "true",
                                                       journalmod.MOVE_ID_LABEL: "big1"}},
        "data": {"move": json.dumps({"phase": "Failed", "source": "src"}),
                 **{f"vm.vm-000{i}": json.dumps(record) for i in range(3)}},
        "binaryData": {"plan.yaml.gz": pack(plan), "source.vm-0001.gz": pack(_sources("vm-0001", 1)[:2])}},
        namespace="dst")
    jr = journalmod.find(api, "big1", ["dst"])
    assert jr.plan() == plan and set(jr.vms()) == {"vm-0000", "vm-0001", "vm-0002"}
    assert [o["kind"] for o in jr.sources("vm-0001")] == ["VirtualMachine", "PersistentVolumeClaim"]
    jr.vm_update("vm-0002", lambda r: r.update(phase=journalmod.SUCCEEDED))   # written where it was
    assert json.loads(kubesim.get("configmaps", "vmmove-big1", "dst")["data"]["vm.vm-0002"])["phase"] == "Succeeded"
    assert [c["metadata"]["name"] for c in kubesim.list("configmaps", "dst")
            if c["metadata"]["name"].startswith("vmmove")] == ["vmmove-big1"]


def test_deleting_the_journal_deletes_its_parts(kubesim):
    api = api_for(kubesim)
    api.create(kinds.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dst"}})
    journalmod.Journal.create(api, _plan(40), "admin")
    assert len([c for c in kubesim.list("configmaps", "dst") if c["metadata"]["name"].startswith("vmmove-")]) == 4
    api.delete(kinds.CONFIGMAP, "vmmove-big1", "dst")
    kubesim.settle()       # the garbage collector removes the parts their owner left
    assert [c["metadata"]["name"] for c in kubesim.list("configmaps", "dst")
            if c["metadata"]["name"].startswith("vmmove-")] == []


def test_a_journal_whose_creation_was_cut_short_is_repaired_on_resume(kubesim):
    api = api_for(kubesim)
    api.create(kinds.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dst"}})
    journalmod.Journal.create(api, _plan(40), "admin")
    lost = journalmod.part_name("big1", 1)
    api.delete(kinds.CONFIGMAP, lost, "dst")          # as if the creating process died before this part
    jr = journalmod.find(api, "big1", ["dst"])
    jr.repair()
    assert kubesim.get("configmaps", lost, "dst") is not None
    jr.vm_update("vm-0020", lambda r: r.update(phase=journalmod.SUCCEEDED))
    assert journalmod.find(api, "big1", ["dst"]).vms()["vm-0020"]["phase"] == journalmod.SUCCEEDED

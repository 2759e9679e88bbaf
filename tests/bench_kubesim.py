"""kubesim figures: start-up, seeding, list (unpaged, paged, metadata-only, Table) and watch with 10,000 objects.

    .venv/bin/python -m tests.bench_kubesim [--objects 10000] [--watch-events 2000]

Not part of the test suite (pytest collects test_*.py only)."""

import argparse
import subprocess
import sys
import time

from tests.kubesim import KubeSim
from tests.kubesim.http import RawClient, lines


def vm(i, ns):
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": f"vm-{i:05d}", "namespace": ns, "labels": {"app": f"app-{i % 10}"}},
            "spec": {"runStrategy": "Halted",
                     "dataVolumeTemplates": [{"metadata": {"name": f"vm-{i:05d}-root"},
                                              "spec": {"storage": {"resources": {"requests": {"storage": "10Gi"}}},
                                                       "source": {"blank": {}}}}],
                     "template": {"metadata": {"labels": {"kubevirt.io/vm": f"vm-{i:05d}"}},
                                  "spec": {"domain": {"devices": {"disks": [{"name": "root",
                                                                             "disk": {"bus": "virtio"}}],
                                                                  "interfaces": [{"name": "default",
                                                                                  "masquerade": {}}]},
                                                      "memory": {"guest": "2Gi"}, "cpu": {"cores": 2}},
                                           "networks": [{"name": "default", "pod": {}}],
                                           "volumes": [{"name": "root",
                                                        "dataVolume": {"name": f"vm-{i:05d}-root"}}]}}}}


def timed(label, fn, note=""):
    t0 = time.perf_counter()
    result = fn()
    dt = time.perf_counter() - t0
    print(f"{label:<58} {dt * 1000:9.1f} ms  {note}")
    return result, dt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--objects", type=int, default=10000)
    p.add_argument("--watch-events", type=int, default=2000)
    p.add_argument("--namespaces", type=int, default=10)
    args = p.parse_args()

    startup = subprocess.run(
        [sys.executable, "-c", "import time; t0 = time.perf_counter()\n"
                               "from tests.kubesim import KubeSim\nfrom tests.kubesim.http import RawClient\n"
                               "sim = KubeSim().start(); assert RawClient(sim).get('/version').status == 200\n"
                               "print(time.perf_counter() - t0); sim.stop()"],
        capture_output=True, text=True, check=True)
    print(f"{'fresh process: import + start (all controllers) + 1st request':<58} "
          f"{float(startup.stdout) * 1000:9.1f} ms")
    t0 = time.perf_counter()
    sim = KubeSim(speed=1000.0, controllers=False)
    sim.start()
    raw = RawClient(sim)
    r = raw.get("/version")
    assert r.status == 200
    print(f"{'start-up to first answered request (TLS)':<58} {(time.perf_counter() - t0) * 1000:9.1f} ms")

    nss = [f"bench-{n}" for n in range(args.namespaces)]
    sim.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in nss])
    objs = [vm(i, nss[i % len(nss)]) for i in range(args.objects)]
    t = sim.registry.resolve("virtualmachines.kubevirt.io")
    _, dt = timed(f"seed {args.objects} VMs through validation+admission",
                  lambda: [sim.pipeline.create(t, o["metadata"]["namespace"], o) for o in objs])
    print(f"{'':<58} {args.objects / dt:9.0f} objects/s")

    path = "/apis/kubevirt.io/v1/virtualmachines"
    resp, _ = timed("LIST all VMs, unpaged (cluster-wide)", lambda: raw.get(path))
    print(f"{'':<58} {len(resp.data) / 1e6:9.1f} MB, {len(resp.json['items'])} items")
    timed("LIST all VMs again (serialised JSON cached per version)", lambda: raw.get(path))

    def paged():
        cont, n, pages = "", 0, 0
        while True:
            page = raw.get(path + "?limit=500" + (f"&continue={cont}" if cont else "")).json
            n += len(page["items"])
            pages += 1
            cont = page["metadata"].get("continue")
            if not cont:
                return n, pages
    (n, pages), _ = timed("LIST all VMs, paged limit=500", paged)
    print(f"{'':<58} {n} items in {pages} pages")
    accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
    resp, _ = timed("LIST all VMs, metadata only", lambda: raw.get(path, headers={"Accept": accept}))
    print(f"{'':<58} {len(resp.data) / 1e6:9.1f} MB")
    timed("LIST one namespace with a label selector",
          lambda: raw.get(f"/apis/kubevirt.io/v1/namespaces/{nss[0]}/virtualmachines?labelSelector=app%3Dapp-3"))
    table = "application/json;as=Table;v=v1;g=meta.k8s.io"
    timed("LIST all VMs as a Table (kubectl get)", lambda: raw.get(path, headers={"Accept": table}))
    timed("kubectl get vm -A (process, 10,000 rows)",
          lambda: subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig_path, "get", "vm", "-A", "--no-headers"],
                                 capture_output=True, check=True))

    rv = sim.store.resource_version
    resp = raw.stream(f"{path}?watch=1&resourceVersion={rv}", timeout=120)
    extra = [vm(args.objects + i, nss[i % len(nss)]) for i in range(args.watch_events)]

    def watch():
        for o in extra:
            sim.store.create(o)
        n = 0
        for _ev in lines(resp):
            n += 1
            if n == len(extra):
                break
        resp.release_conn()
        return n
    n, dt = timed(f"WATCH from list RV: write {args.watch_events} VMs and receive every event", watch)
    print(f"{'':<58} {n / dt:9.0f} events/s")
    resp = raw.stream(f"{path}?watch=1", timeout=120)

    def initial():
        n = 0
        for _ev in lines(resp):
            n += 1
            if n == args.objects + args.watch_events:
                break
        resp.release_conn()
        return n
    n, dt = timed("WATCH without RV: initial ADDED events for every VM", initial)
    print(f"{'':<58} {n / dt:9.0f} events/s")
    raw.close()
    sim.stop()


if __name__ == "__main__":
    main()

"""Run kubesim standalone until SIGINT/SIGTERM:

    python -m tests.kubesim --port 0 --kubeconfig out.yaml [--seed FILE.yaml ...] [--sample-vms N] [--speed F]

Prints the server URL; ``kubectl --kubeconfig out.yaml get vm -A`` then talks to it."""

import argparse
import signal
import sys
import threading

from . import KubeSim


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tests.kubesim", description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig for the admin user")
    p.add_argument("--seed", action="append", default=[], metavar="FILE.yaml",
                   help="manifests to apply at start (repeatable)")
    p.add_argument("--sample-vms", type=int, default=0, metavar="N",
                   help="create namespace 'demo' with N sample VMs, their disks, Secrets and Services")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--random-seed", type=int, default=0, help="seed for uids, names and faults")
    p.add_argument("--no-tls", action="store_true", help="serve plain HTTP")
    args = p.parse_args(argv)

    sim = KubeSim(speed=args.speed, seed=args.random_seed, tls=not args.no_tls)
    sim.start(port=args.port)
    sim.write_kubeconfig(args.kubeconfig)
    for path in args.seed:
        with open(path, encoding="utf-8") as f:
            sim.apply(f.read())
    if args.sample_vms:
        from . import builders
        sim.apply(builders.sample_namespace("demo", vms=args.sample_vms))
    print(sim.url, flush=True)
    print(f"kubeconfig: {args.kubeconfig}", file=sys.stderr, flush=True)

    return serve_until_signalled(sim)


def serve_until_signalled(sim):
    """Keep serving until SIGINT or SIGTERM, then stop cleanly (exit status 0)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

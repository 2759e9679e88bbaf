"""Kubernetes Events on the target VMs, so `kubectl describe vm` tells where a VM came from and when it moved.

Event names are derived from the move id and the reason, so a re-run records each milestone once.
"""

import datetime as _dt
import hashlib
import logging

from ...kube import errors as kerr
from ...kube import kinds

log = logging.getLogger(__name__)
COMPONENT = "kubectl-vmmove"


def record(api, vm: dict, move_id: str, reason: str, message: str, type_: str = "Normal") -> None:
    """Best effort: an audit record that cannot be written never fails the move."""
    md = vm.get("metadata") or {}
    if not md.get("uid"):
        return
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hashlib.sha256(f"{md['uid']}/{move_id}/{reason}".encode()).hexdigest()[:10]
    event = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{md['name']}.vmmove-{digest}", "namespace": md["namespace"],
                     "labels": {"vmmove.io/move-id": move_id}},
        "involvedObject": {"apiVersion": vm.get("apiVersion", "kubevirt.io/v1"), "kind": "VirtualMachine",
                           "name": md["name"], "namespace": md["namespace"], "uid": md["uid"]},
        "reason": reason, "message": message, "type": type_,
        "source": {"component": COMPONENT}, "reportingComponent": COMPONENT, "reportingInstance": COMPONENT,
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
    }
    try:
        api.create(kinds.EVENT, event, namespace=md["namespace"], retry_unsafe=True)
    except kerr.AlreadyExists:
        pass
    except kerr.ApiError as err:
        log.info("could not record event %s on %s/%s: %s", reason, md.get("namespace"), md["name"], err)

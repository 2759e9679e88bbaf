"""The move journal: a ConfigMap `vmmove-<move-id>` in the target namespace, for `status`, `rollback` and audit.

Layout (`kubectl get cm vmmove-<id> -o yaml` stays readable):
  data["move"]            JSON: source, target, strategy, user, phase, timestamps, the last verify/cleanup/rollback
  data["vm.<name>"]       JSON: that VM's phase, current step, per-step states with timestamps and the user
  binaryData["plan.yaml.gz"]        the plan as run (plans never hold Secret data)
  binaryData["source.<name>.gz"]    the source objects of that VM as they were before the move; Secrets by name
                                    and type only
The plan and source objects are gzip-compressed because a ConfigMap holds at most 1 MiB and a 100-VM plan is
about that size as YAML.

Each VM key is written only by the worker that moves that VM, so those writes are merge patches of one key and
never collide. Keys shared by several writers (`move`) are read-modify-written with the resourceVersion as a
precondition, and retried on a conflict (optimistic concurrency).
"""

import base64
import datetime as _dt
import gzip
import json
import threading
from typing import Callable, Dict, List, Optional

from ..errors import UserError
from ..kube import errors as kerr, kinds

JOURNAL_LABEL = "vmmove.io/journal"
MOVE_ID_LABEL = "vmmove.io/move-id"
PLAN_KEY = "plan.yaml.gz"
MOVE_KEY = "move"
VM_PREFIX = "vm."
SOURCE_PREFIX = "source."

# VM phases in the journal
PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"


def now_text(now: Optional[_dt.datetime] = None) -> str:
    return (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def name_for(move_id: str) -> str:
    return f"vmmove-{move_id}"


def _pack(obj) -> str:
    import yaml

    text = yaml.safe_dump(obj, sort_keys=False, default_flow_style=False)
    return base64.b64encode(gzip.compress(text.encode("utf-8"), mtime=0)).decode("ascii")


def _unpack(data: str):
    import yaml

    return yaml.safe_load(gzip.decompress(base64.b64decode(data)).decode("utf-8"))


def scrub_secret(obj: dict) -> dict:
    """What the journal keeps of a Secret: its name, type and labels; never `data` or `stringData`."""
    md = obj.get("metadata") or {}
    keep = {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion", "labels") if k in md}
    annotations = {k: v for k, v in (md.get("annotations") or {}).items()
                   if k != "kubectl.kubernetes.io/last-applied-configuration"}
    if annotations:
        keep["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Secret", "metadata": keep, "type": obj.get("type", "Opaque")}


def journal_safe(obj: dict) -> dict:
    """A source object as the journal records it: Secrets scrubbed, managedFields and the last-applied copy
    (which may embed a Secret's data) dropped."""
    if obj.get("kind") == "Secret":
        return scrub_secret(obj)
    out = dict(obj)
    md = dict(out.get("metadata") or {})
    md.pop("managedFields", None)
    ann = {k: v for k, v in (md.get("annotations") or {}).items()
           if k != "kubectl.kubernetes.io/last-applied-configuration"}
    if ann:
        md["annotations"] = ann
    else:
        md.pop("annotations", None)
    out["metadata"] = md
    return out


class Journal:
    """One move's journal. Thread-safe: VM workers call `vm_update` concurrently."""

    def __init__(self, api, namespace: str, move_id: str, obj: Optional[dict] = None, user: str = ""):
        self.api = api
        self.namespace = namespace
        self.move_id = move_id
        self.name = name_for(move_id)
        self.user = user
        self._obj = obj or {}
        self._lock = threading.Lock()
        # Keys this process wrote, newest first: a patch response of another worker may predate our write.
        self._local: Dict[str, str] = {}
        self._local_binary: Dict[str, str] = {}
        # Set by lease.Lease while this process holds the move: sees every journal object read or written.
        self.lease_token: Optional[str] = None
        self.on_lease_change: Optional[Callable[[dict], None]] = None

    # ------------------------------------------------------------------------------------------ reading

    @property
    def obj(self) -> dict:
        return self._obj

    def _data(self) -> dict:
        return {**(self._obj.get("data") or {}), **self._local}

    def _binary(self) -> dict:
        return {**(self._obj.get("binaryData") or {}), **self._local_binary}

    def move(self) -> dict:
        return json.loads(self._data().get(MOVE_KEY) or "{}")

    def vm(self, name: str) -> dict:
        return json.loads(self._data().get(VM_PREFIX + name) or "{}")

    def vms(self) -> Dict[str, dict]:
        return {k[len(VM_PREFIX):]: json.loads(v) for k, v in self._data().items() if k.startswith(VM_PREFIX)}

    def plan(self) -> dict:
        packed = self._binary().get(PLAN_KEY)
        if not packed:
            raise UserError(f"the journal {self.namespace}/{self.name} holds no plan; it was not written by "
                            "kubectl-vmmove")
        return _unpack(packed)

    def sources(self, vm_name: str) -> List[dict]:
        packed = self._binary().get(SOURCE_PREFIX + vm_name + ".gz")
        return _unpack(packed) if packed else []

    def has_sources(self, vm_name: str) -> bool:
        return bool(self._binary().get(SOURCE_PREFIX + vm_name + ".gz"))

    def refresh(self) -> "Journal":
        self.adopt(self.api.get(kinds.CONFIGMAP, self.name, self.namespace))
        return self

    def adopt(self, obj: dict) -> None:
        """Take `obj` (a response of the server) as the current journal."""
        with self._lock:
            self._obj = obj
        observer = self.on_lease_change
        if observer is not None:
            observer(obj)

    # ------------------------------------------------------------------------------------------ writing

    @classmethod
    def create(cls, api, plan: dict, user: str, now: Optional[_dt.datetime] = None) -> "Journal":
        """Write a new journal for `plan`; returns the existing one when this move already has a journal."""
        spec = plan["spec"]
        move_id, namespace = spec["moveId"], spec["target"]["namespace"]
        move = {"moveId": move_id, "source": spec["source"]["namespace"], "target": namespace,
                "strategy": spec["strategy"], "macPolicy": spec.get("macPolicy"), "phase": PENDING,
                "createdBy": user, "created": now_text(now), "vms": [v["name"] for v in spec["vms"]]}
        data = {MOVE_KEY: json.dumps(move, sort_keys=True)}
        for vm in spec["vms"]:
            data[VM_PREFIX + vm["name"]] = json.dumps({"phase": PENDING, "steps": []}, sort_keys=True)
        cm = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": name_for(move_id), "namespace": namespace,
                           "labels": {JOURNAL_LABEL: "true", MOVE_ID_LABEL: move_id,
                                      "app.kubernetes.io/managed-by": "kubectl-vmmove"},
                           "annotations": {"vmmove.io/source-namespace": spec["source"]["namespace"],
                                           "vmmove.io/created-by": user}},
              "data": data,
              "binaryData": {PLAN_KEY: _pack(plan)}}
        try:
            obj = api.create(kinds.CONFIGMAP, cm, namespace=namespace, retry_unsafe=True)
        except kerr.AlreadyExists:
            obj = api.get(kinds.CONFIGMAP, cm["metadata"]["name"], namespace)
            if ((obj.get("metadata") or {}).get("labels") or {}).get(MOVE_ID_LABEL) != move_id:
                raise UserError(f"configmap {namespace}/{cm['metadata']['name']} exists and is not the journal of "
                                f"move {move_id}; choose another move id") from None
        return cls(api, namespace, move_id, obj, user)

    def _patch(self, body: dict) -> None:
        # Keep our view current without losing keys other workers wrote in between (they are in _local).
        self.adopt(self.api.patch(kinds.CONFIGMAP, self.name, body, namespace=self.namespace))

    def vm_update(self, name: str, fn: Callable[[dict], None]) -> dict:
        """Apply `fn` to this VM's record and write it (a merge patch of the one key this worker owns)."""
        with self._lock:
            record = self.vm(name)
            fn(record)
            record["updated"] = now_text()
            text = json.dumps(record, sort_keys=True)
            self._local[VM_PREFIX + name] = text
        self._patch({"data": {VM_PREFIX + name: text}})
        return record

    def record_sources(self, name: str, objects: List[dict]) -> None:
        packed = _pack([journal_safe(o) for o in objects])
        with self._lock:
            self._local_binary[SOURCE_PREFIX + name + ".gz"] = packed
        self._patch({"binaryData": {SOURCE_PREFIX + name + ".gz": packed}})

    def move_update(self, fn: Callable[[dict], None], attempts: int = 8) -> dict:
        """Read-modify-write of the shared `move` key with the resourceVersion as precondition."""
        for _ in range(attempts):
            with self._lock:
                self._local.pop(MOVE_KEY, None)
                move = self.move()
                fn(move)
                move["updated"] = now_text()
                text = json.dumps(move, sort_keys=True)
                rv = (self._obj.get("metadata") or {}).get("resourceVersion")
            body = {"metadata": {"resourceVersion": rv}, "data": {MOVE_KEY: text}} if rv else \
                {"data": {MOVE_KEY: text}}
            try:
                self._patch(body)
                with self._lock:
                    self._local[MOVE_KEY] = text
                return move
            except kerr.Conflict:
                self.refresh()
        raise UserError(f"the journal {self.namespace}/{self.name} keeps changing under this command; is another "
                        "kubectl-vmmove working on the same move? Retry when it is done")


# ---------------------------------------------------------------------------------------------- finding


def _journal_objects(api, selector: str, namespaces=()):
    """(journals, searched): across the cluster when the user may list them there (searched is None), else in each
    of `namespaces` they can read (searched names those namespaces)."""
    try:
        return api.list(kinds.CONFIGMAP, None, label_selector=selector).items, None
    except kerr.Forbidden:
        items = []
        searched = list(dict.fromkeys(n for n in namespaces if n))
        for ns in searched:
            try:
                items += api.list(kinds.CONFIGMAP, ns, label_selector=selector).items
            except kerr.Forbidden:
                continue
        return items, searched


def scope_hint(searched) -> str:
    """Why a lookup limited to some namespaces may have missed a move, and what to do; "" when it saw them all."""
    if searched is None:
        return ""
    where = ", ".join(f'"{n}"' for n in searched) or "no namespace"
    return (f"you may not list configmaps in all namespaces, so only {where} was searched: give the move's target "
            "namespace with -n")


def find(api, move_id: str, namespaces=()) -> Journal:
    """The journal of `move_id`: looked up across the namespaces the user can list, else in `namespaces`."""
    selector = f"{JOURNAL_LABEL}=true,{MOVE_ID_LABEL}={move_id}"
    items, searched = _journal_objects(api, selector, namespaces)
    if not items:
        if searched is None:
            raise UserError(f'no move "{move_id}" found in any namespace (no configmap {name_for(move_id)}); '
                            "list moves with 'kubectl vmmove status'")
        raise UserError(f'no move "{move_id}" found; {scope_hint(searched)}')
    obj = items[0]
    return Journal(api, obj["metadata"]["namespace"], move_id, obj)


def list_visible(api, namespaces=()):
    """(journals, searched) as `_journal_objects` finds them; searched tells `scope_hint` what was left out."""
    out: List[Journal] = []
    items, searched = _journal_objects(api, f"{JOURNAL_LABEL}=true", namespaces)
    for obj in items:
        move_id = ((obj.get("metadata") or {}).get("labels") or {}).get(MOVE_ID_LABEL)
        if move_id:
            out.append(Journal(api, obj["metadata"]["namespace"], move_id, obj))
    return out, searched

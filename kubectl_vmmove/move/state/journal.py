"""The move journal: a ConfigMap `vmmove-<move-id>` in the target namespace, for `status`, `rollback` and audit.

Layout (`kubectl get cm vmmove-<id> -o yaml` stays readable):
  data["move"]            JSON: source, target, strategy, user, phase, timestamps, the last verify/cleanup/rollback
  data["vm.<name>"]       JSON: that VM's phase, current step, per-step states with timestamps and the user
  binaryData["plan.yaml.gz"]        the plan as run (plans never hold Secret data)
  binaryData["source.<name>.gz"]    the source objects of that VM as they were before the move; Secrets by name
                                    and type only
The plan and source objects are gzip-compressed because a ConfigMap holds at most 1 MiB and a 100-VM plan is
about that size as YAML.

Even compressed, one object holds a few hundred VMs at most, so journals written since the layout 2 are split
(journals without an index, all in one ConfigMap, are still read):
  vmmove-<id>                 data["move"], data["lease"], data["journal"] (the index: which VMs each part holds,
                              how many plan chunks), and binaryData["plan.yaml.gz"] when the plan is small
  vmmove-<id>.vms-<n>         data["vm.<name>"] and binaryData["source.<name>.gz"] of at most VMS_PER_PART VMs
  vmmove-<id>.plan-<k>        binaryData["plan.yaml.gz"]: the k-th slice of the compressed plan, when it is large
Parts are labelled vmmove.io/journal=part (so `status` does not list them as moves and rollback never deletes them)
and owned by the main ConfigMap, so deleting the journal deletes them too. Move ids hold no ".", so part names
never collide with another move's journal. Reading a whole journal is two requests: the main object, one list.

While a process holds the lease it writes parts with a JSON patch that tests the part's lease-token annotation,
which `fence` sets when the lease is taken: a write of a process whose lease was taken over is refused, and it
stops (the main object, where the lease is, is then read and the lease observer told).

Each VM key is written only by the worker that moves that VM, so those writes are merge patches of one key and
never collide. Keys shared by several writers (`move`) are read-modify-written with the resourceVersion as a
precondition, and retried on a conflict (optimistic concurrency).
"""

import base64
import datetime as _dt
import gzip
import json
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from ...errors import UserError
from ...kube import errors as kerr
from ...kube import kinds
from ..planning.moveplan import MovePlan
from . import records
from .records import VMRecord

JOURNAL_LABEL = "vmmove.io/journal"
MOVE_ID_LABEL = "vmmove.io/move-id"
PLAN_KEY = "plan.yaml.gz"
MOVE_KEY = "move"
VM_PREFIX = "vm."
SOURCE_PREFIX = "source."
INDEX_KEY = "journal"
PART = "part"
FENCE_ANNOTATION = "vmmove.io/lease-token"
# 16 VMs leave each ~64 KiB for its step records and compressed source objects; a VM with dozens of disks and
# Secrets compresses to a few KiB.
VMS_PER_PART = 16
# Compressed plan bytes kept in the main object; past that the plan goes to chunks of PLAN_CHUNK bytes.
PLAN_INLINE_MAX = 256 * 1024
PLAN_CHUNK = 768 * 1024

# The phase names live in records.py; these names stay importable from here.
PENDING, RUNNING, SUCCEEDED, FAILED = records.PENDING, records.RUNNING, records.SUCCEEDED, records.FAILED


def now_text(now: Optional[_dt.datetime] = None) -> str:
    return (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def name_for(move_id: str) -> str:
    return f"vmmove-{move_id}"


def part_name(move_id: str, n: int) -> str:
    return f"{name_for(move_id)}.vms-{n}"


def plan_part_name(move_id: str, k: int) -> str:
    return f"{name_for(move_id)}.plan-{k}"


def part_selector(move_id: str) -> str:
    return f"{JOURNAL_LABEL}={PART},{MOVE_ID_LABEL}={move_id}"


class JournalFenced(UserError):
    """A part refused a write: another process holds the move's lease now."""


def _gz(obj) -> bytes:
    import yaml

    text = yaml.safe_dump(obj, sort_keys=False, default_flow_style=False)
    return gzip.compress(text.encode("utf-8"), mtime=0)


def _pack(obj) -> str:
    return base64.b64encode(_gz(obj)).decode("ascii")


def _unpack_bytes(raw: bytes):
    import yaml

    return yaml.safe_load(gzip.decompress(raw).decode("utf-8"))


def _unpack(data: str):
    return _unpack_bytes(base64.b64decode(data))


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
        # Re-entrant: a read under the lock (vm_update, move_update) may load the parts, which takes it again, as
        # after a 409 made `refresh` drop them; a plain Lock deadlocked there, and the lease heartbeat with it.
        self._lock = threading.RLock()
        # Keys this process wrote, newest first: a patch response of another worker may predate our write.
        self._local: Dict[str, str] = {}
        self._local_binary: Dict[str, str] = {}
        # name -> part object (layout 2); None until first needed, so listing moves costs no extra request.
        self._parts: Optional[Dict[str, dict]] = None
        # Set by lease.Lease while this process holds the move: sees every journal object read or written.
        self.lease_token: Optional[str] = None
        self.on_lease_change: Optional[Callable[[dict], None]] = None

    # ------------------------------------------------------------------------------------------ reading

    @property
    def obj(self) -> dict:
        return self._obj

    def index(self) -> dict:
        """The layout of a split journal; {} for a journal in one ConfigMap."""
        return json.loads((self._obj.get("data") or {}).get(INDEX_KEY) or "{}")

    def part_names(self) -> List[str]:
        return [part_name(self.move_id, n) for n in range(len(self.index().get("parts") or []))]

    def _part_for(self, vm_name: str) -> Optional[str]:
        for n, names in enumerate(self.index().get("parts") or []):
            if vm_name in names:
                return part_name(self.move_id, n)
        return None

    def _loaded_parts(self) -> Dict[str, dict]:
        idx = self.index()
        if not idx.get("parts") and not idx.get("planChunks"):
            return {}
        if self._parts is None:
            items = self.api.list(kinds.CONFIGMAP, self.namespace, label_selector=part_selector(self.move_id)).items
            with self._lock:
                if self._parts is None:
                    self._parts = {o["metadata"]["name"]: o for o in items}
        return self._parts

    def _merged(self, field: str, local: dict) -> dict:
        out = dict(self._obj.get(field) or {})
        for obj in self._loaded_parts().values():
            out.update(obj.get(field) or {})
        out.update(local)
        return out

    def _data(self) -> dict:
        return self._merged("data", self._local)

    def _binary(self) -> dict:
        return self._merged("binaryData", self._local_binary)

    def move(self) -> dict:
        return json.loads(self._data().get(MOVE_KEY) or "{}")

    def vm(self, name: str) -> dict:
        return json.loads(self._data().get(VM_PREFIX + name) or "{}")

    def vms(self) -> Dict[str, dict]:
        return {k[len(VM_PREFIX):]: json.loads(v) for k, v in self._data().items() if k.startswith(VM_PREFIX)}

    def plan(self) -> dict:
        packed = (self._obj.get("binaryData") or {}).get(PLAN_KEY)
        chunks = self.index().get("planChunks") or 0
        if not packed and chunks:
            parts = self._loaded_parts()
            pieces = [(parts.get(plan_part_name(self.move_id, k)) or {}).get("binaryData", {}).get(PLAN_KEY)
                      for k in range(chunks)]
            if not all(pieces):
                raise UserError(f"the journal {self.namespace}/{self.name} misses parts of its plan (configmaps "
                                f"{plan_part_name(self.move_id, 0)}...), as when its creation was cut short; "
                                "run the move again from its plan file: kubectl vmmove run -f PLAN")
            return _unpack_bytes(b"".join(base64.b64decode(p) for p in pieces))
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
        with self._lock:
            self._parts = None
        return self

    def take(self, obj: dict) -> None:
        """A journal object seen by a watch: the main object or one of its parts."""
        if obj.get("metadata", {}).get("name") == self.name:
            self.adopt(obj)
            return
        self._loaded_parts()
        with self._lock:
            if self._parts is not None:
                self._parts[obj["metadata"]["name"]] = obj

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
        view = MovePlan(plan)
        move_id, namespace = view.move_id, view.target
        names = view.vm_names
        move = {"moveId": move_id, "source": view.source, "target": namespace,
                "strategy": view.strategy, "macPolicy": view.mac_policy, "phase": records.PENDING,
                "createdBy": user, "created": now_text(now), "vms": names}
        packed = _gz(plan)
        chunks = [] if len(packed) <= PLAN_INLINE_MAX else \
            [packed[i:i + PLAN_CHUNK] for i in range(0, len(packed), PLAN_CHUNK)]
        index = {"layout": 2, "parts": [names[i:i + VMS_PER_PART] for i in range(0, len(names), VMS_PER_PART)],
                 "planChunks": len(chunks)}
        labels = {JOURNAL_LABEL: "true", MOVE_ID_LABEL: move_id, "app.kubernetes.io/managed-by": "kubectl-vmmove"}
        cm: Dict[str, Any] = {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name_for(move_id), "namespace": namespace, "labels": labels,
                         "annotations": {"vmmove.io/source-namespace": view.source,
                                         "vmmove.io/created-by": user}},
            "data": {MOVE_KEY: json.dumps(move, sort_keys=True), INDEX_KEY: json.dumps(index, sort_keys=True)}}
        if not chunks:
            cm["binaryData"] = {PLAN_KEY: base64.b64encode(packed).decode("ascii")}
        try:
            obj = api.create(kinds.CONFIGMAP, cm, namespace=namespace, retry_unsafe=True)
        except kerr.AlreadyExists as exists:
            obj = api.get(kinds.CONFIGMAP, cm["metadata"]["name"], namespace)
            if ((obj.get("metadata") or {}).get("labels") or {}).get(MOVE_ID_LABEL) != move_id:
                raise UserError(f"configmap {namespace}/{cm['metadata']['name']} exists and is not the journal of "
                                f"move {move_id}; choose another move id") from exists
        jr = cls(api, namespace, move_id, obj, user)
        jr._create_parts(chunks, {**labels, JOURNAL_LABEL: PART})
        return jr

    def _create_parts(self, chunks: List[bytes], labels: dict) -> None:
        """The parts the index names that do not exist yet (all of them, unless an earlier create was cut short)."""
        idx = self.index()
        if not idx.get("parts") and not idx.get("planChunks"):
            return
        meta = self._obj["metadata"]
        owner = [{"apiVersion": "v1", "kind": "ConfigMap", "name": self.name, "uid": meta["uid"]}]
        wanted: Dict[str, Tuple[Dict[str, str], Dict[str, str]]] = {}
        for n, names in enumerate(idx.get("parts") or []):
            # Empty source entries let a fenced write `add` a VM's sources without creating binaryData.
            wanted[part_name(self.move_id, n)] = (
                {VM_PREFIX + v: json.dumps(records.new_vm_record(), sort_keys=True) for v in names},
                {SOURCE_PREFIX + v + ".gz": "" for v in names})
        for k, chunk in enumerate(chunks):
            wanted[plan_part_name(self.move_id, k)] = ({}, {PLAN_KEY: base64.b64encode(chunk).decode("ascii")})
        have = self._loaded_parts()
        for name, (data, binary) in wanted.items():
            if name in have:
                continue
            body = {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": name, "namespace": self.namespace, "labels": labels,
                                 "ownerReferences": owner}}
            if data:
                body["data"] = data
            if binary:
                body["binaryData"] = binary
            try:
                obj = self.api.create(kinds.CONFIGMAP, body, namespace=self.namespace, retry_unsafe=True)
            except kerr.AlreadyExists:
                obj = self.api.get(kinds.CONFIGMAP, name, self.namespace)
            with self._lock:
                if self._parts is not None:
                    self._parts[name] = obj

    def repair(self) -> None:
        """Create the VM parts an interrupted `create` did not get to (they hold no data yet), so a resumed move
        can write its records; the plan chunks cannot be remade without the plan (see `plan()`)."""
        labels = {**((self._obj.get("metadata") or {}).get("labels") or {}), JOURNAL_LABEL: PART}
        self._create_parts([], labels)

    def fence(self, token: str) -> None:
        """Mark every VM part as written by the holder of `token` (the lease calls this when it takes the lease):
        from now on a part refuses the writes of an earlier holder."""
        body = {"metadata": {"annotations": {FENCE_ANNOTATION: token}}}
        for name in self.part_names():
            try:
                obj = self.api.patch(kinds.CONFIGMAP, name, body, namespace=self.namespace)
            except kerr.NotFound:
                continue
            with self._lock:
                if self._parts is not None:
                    self._parts[name] = obj

    def _write_part(self, vm_name: str, field: str, key: str, value: str) -> None:
        part = self._part_for(vm_name)
        if part is None:
            self._patch({field: {key: value}})
            return
        token = self.lease_token
        if token is None:
            obj = self.api.patch(kinds.CONFIGMAP, part, {field: {key: value}}, namespace=self.namespace)
        else:
            ops = [{"op": "test", "path": "/metadata/annotations/" + FENCE_ANNOTATION.replace("/", "~1"),
                    "value": token},
                   {"op": "add", "path": f"/{field}/{key}", "value": value}]
            try:
                obj = self.api.patch(kinds.CONFIGMAP, part, ops, namespace=self.namespace, patch_type="json")
            except (kerr.Conflict, kerr.Invalid):
                obj = self._write_part_unfenced(part, token, field, key, value)
        with self._lock:
            if self._parts is not None:
                self._parts[part] = obj

    def _write_part_unfenced(self, part: str, token: str, field: str, key: str, value: str) -> dict:
        """A fenced write was refused: a takeover (stop), or a part not marked yet (mark it and write)."""
        self.refresh()     # the lease observer sees who holds the lease now
        try:
            holder = json.loads((self._obj.get("data") or {}).get("lease") or "{}")
        except ValueError:
            holder = {}
        if holder.get("token") != token or self.lease_token != token:
            raise JournalFenced(f"move {self.move_id} was taken over by another kubectl-vmmove; this process "
                                "stopped changing anything")
        body = {"metadata": {"annotations": {FENCE_ANNOTATION: token}}, field: {key: value}}
        return self.api.patch(kinds.CONFIGMAP, part, body, namespace=self.namespace)

    def _patch(self, body: dict) -> None:
        # Keep our view current without losing keys other workers wrote in between (they are in _local).
        self.adopt(self.api.patch(kinds.CONFIGMAP, self.name, body, namespace=self.namespace))

    def vm_update(self, name: str, fn: Callable[[dict], None]) -> dict:
        """Apply `fn` to this VM's record and write it (a merge patch of the one key this worker owns)."""
        self._loaded_parts()     # any request before the lock: other threads never wait on our network calls
        with self._lock:
            record = self.vm(name)
            fn(record)
            record["updated"] = now_text()
            text = json.dumps(record, sort_keys=True)
            self._local[VM_PREFIX + name] = text
        self._write_part(name, "data", VM_PREFIX + name, text)
        return record

    def vm_change(self, name: str, transition: Callable[..., None], *args: Any, **kwargs: Any) -> dict:
        """Apply one transition of the VM's record and write it: `vm_change("web-01", VMRecord.fail, message, now)`."""
        return self.vm_update(name, lambda record: transition(VMRecord(record), *args, **kwargs))

    def record_sources(self, name: str, objects: List[dict]) -> None:
        packed = _pack([journal_safe(o) for o in objects])
        with self._lock:
            self._local_binary[SOURCE_PREFIX + name + ".gz"] = packed
        self._write_part(name, "binaryData", SOURCE_PREFIX + name + ".gz", packed)

    def move_update(self, fn: Callable[[dict], None], attempts: int = 8) -> dict:
        """Read-modify-write of the shared `move` key with the resourceVersion as precondition."""
        for _ in range(attempts):
            self._loaded_parts()
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


def find(api, move_id: str, namespaces=(), only: Optional[str] = None) -> Journal:
    """The journal of `move_id`: in namespace `only` when given (-n), else looked up across the namespaces the user
    can list, else in `namespaces`. A move id found in several namespaces is refused: -n says which one."""
    selector = f"{JOURNAL_LABEL}=true,{MOVE_ID_LABEL}={move_id}"
    if only:
        items = api.list(kinds.CONFIGMAP, only, label_selector=selector).items
        if not items:
            raise UserError(f'no move "{move_id}" found in namespace "{only}" (no configmap {name_for(move_id)}); '
                            f"list the moves there with 'kubectl vmmove status -n {only}', or leave out -n to look "
                            "in every namespace")
        return Journal(api, only, move_id, items[0])
    items, searched = _journal_objects(api, selector, namespaces)
    if not items:
        if searched is None:
            raise UserError(f'no move "{move_id}" found in any namespace (no configmap {name_for(move_id)}); '
                            "list moves with 'kubectl vmmove status'")
        raise UserError(f'no move "{move_id}" found; {scope_hint(searched)}')
    where = sorted({o["metadata"]["namespace"] for o in items})
    if len(where) > 1:
        shown = ", ".join(f'"{n}"' for n in where)
        raise UserError(f'move id "{move_id}" names moves in namespaces {shown}; say which one with -n NAMESPACE')
    obj = items[0]
    return Journal(api, obj["metadata"]["namespace"], move_id, obj)


def find_or_none(api, move_id: str, namespaces=()) -> Optional[Journal]:
    """The journal of `move_id` wherever the user can see it, or None (a move id about to be used must be new)."""
    selector = f"{JOURNAL_LABEL}=true,{MOVE_ID_LABEL}={move_id}"
    items, _ = _journal_objects(api, selector, namespaces)
    if not items:
        return None
    obj = items[0]
    return Journal(api, obj["metadata"]["namespace"], move_id, obj)


def list_visible(api, namespaces=(), only: Optional[str] = None):
    """(journals, searched) as `_journal_objects` finds them, or those of namespace `only` (-n); searched tells
    `scope_hint` what was left out."""
    out: List[Journal] = []
    if only:
        items, searched = api.list(kinds.CONFIGMAP, only, label_selector=f"{JOURNAL_LABEL}=true").items, None
    else:
        items, searched = _journal_objects(api, f"{JOURNAL_LABEL}=true", namespaces)
    for obj in items:
        move_id = ((obj.get("metadata") or {}).get("labels") or {}).get(MOVE_ID_LABEL)
        if move_id:
            out.append(Journal(api, obj["metadata"]["namespace"], move_id, obj))
    return out, searched

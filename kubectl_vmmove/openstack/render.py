"""Manifests to bytes: a YAML stream, a JSON List, or a GitOps tree of files.

Everything is written as it is rendered, one object at a time: a big estate's output is never held whole (see
packed.py). The tree has a folder per namespace plus `cluster/` for cluster-scoped objects, one `<kind>-<name>.yaml` per object,
a `kustomization.yaml` in each folder and one at the top. Output is byte-identical for the same input, and a file
whose bytes would not change is not rewritten, so mtimes stay and `git status` stays clean. Files a previous run
wrote (they carry the converter's label) that the current run no longer produces are removed; nothing else is
touched. Secret files are created with mode 0600: they hold user data and keys.
"""

import filecmp
import os
import tempfile
from dataclasses import dataclass, field
from typing import IO, Dict, Iterable, List, Set

from ..errors import UserError
from ..printers import as_list, dump_json, dump_yaml
from .emit import Emitter

CLUSTER_DIR = "cluster"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "VirtualMachineClusterInstancetype",
                  "VirtualMachineClusterPreference", "StorageClass"}
MARKER = "vmmove.io/converted-from: openstack"


def yaml_stream(objects: Iterable[dict]) -> str:
    """printers.dump_yaml_documents' bytes (see emit.py)."""
    emitter = Emitter()
    return "".join("---\n" + emitter.document(obj) for obj in objects)


def write_yaml_stream(objects: Iterable[dict], stream: IO[str]) -> None:
    """The bytes of yaml_stream, written a document at a time."""
    emitter = Emitter()
    for obj in objects:
        stream.write("---\n" + emitter.document(obj))


def json_list(objects: Iterable[dict]) -> str:
    return dump_json(as_list(list(objects)))


def write_json_list(objects: Iterable[dict], stream: IO[str]) -> None:
    """The bytes of json_list, written an item at a time: dump_json's layout puts each item at depth 2, and JSON
    text has no line breaks inside strings, so an item is its own dump_json indented by eight spaces."""
    head, tail = dump_json(as_list([])).split('"items": [],\n')
    stream.write(head)
    first = True
    for obj in objects:
        item = dump_json(obj)[:-1].replace("\n", "\n        ")
        stream.write(('"items": [\n        ' if first else ",\n        ") + item)
        first = False
    stream.write('"items": [],\n' if first else "\n    ],\n")
    stream.write(tail)


def file_name(obj: dict) -> str:
    kind = obj["kind"].lower()
    group = obj.get("apiVersion", "v1").split("/")[0] if "/" in obj.get("apiVersion", "") else ""
    # Calico's NetworkPolicy shares the kind name with the core one.
    if group == "projectcalico.org":
        kind = f"{kind}.{group}"
    return f"{kind}-{obj['metadata']['name']}.yaml"


def folder(obj: dict) -> str:
    if obj["kind"] in CLUSTER_SCOPED:
        return CLUSTER_DIR
    return obj["metadata"].get("namespace") or CLUSTER_DIR


def kustomization(resources: List[str]) -> str:
    return dump_yaml({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                      "resources": resources})


@dataclass
class TreeResult:
    written: List[str] = field(default_factory=list)
    unchanged: List[str] = field(default_factory=list)
    removed: List[str] = field(default_factory=list)


def tree_files(objects: Iterable[dict]) -> Iterable[tuple]:
    """(relative path, bytes, secret?) for the whole tree, an object at a time, then the kustomizations."""
    seen: Set[str] = set()
    per_folder: Dict[str, List[str]] = {}
    emitter = Emitter()
    for obj in objects:
        d = folder(obj)
        rel = f"{d}/{file_name(obj)}"
        if rel in seen:
            raise UserError(f"two objects would be written to {rel}; this is a bug, please report it")
        seen.add(rel)
        yield rel, emitter.document(obj).encode("utf-8"), obj["kind"] == "Secret"
        per_folder.setdefault(d, []).append(file_name(obj))
    for d, entries in per_folder.items():
        yield f"{d}/kustomization.yaml", kustomization(sorted(entries)).encode("utf-8"), False
    order = sorted(per_folder, key=lambda d: (d != CLUSTER_DIR, d))
    yield "kustomization.yaml", kustomization(order).encode("utf-8"), False


def write_if_changed(path: str, data: bytes, secret: bool = False) -> bool:
    """Write atomically unless the file already holds these bytes; True when written."""
    mode = 0o600 if secret else 0o644
    try:
        with open(path, "rb") as fh:
            if fh.read() == data:
                if secret and (os.stat(path).st_mode & 0o077):
                    os.chmod(path, 0o600)
                return False
    except FileNotFoundError:
        pass
    _replace(path, [data], mode)
    return True


def write_chunks_if_changed(path: str, chunks: Iterable[str]) -> bool:
    """write_if_changed for text made piece by piece (a big report): written to a temporary file beside `path`,
    which replaces `path` only when the bytes differ; True when written."""
    tmp = _replace(path, (c.encode("utf-8") for c in chunks), 0o644, keep=False)
    try:
        if os.path.isfile(path) and filecmp.cmp(tmp, path, shallow=False):
            return False
        os.replace(tmp, path)
        return True
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _replace(path: str, chunks: Iterable[bytes], mode: int, keep: bool = True) -> str:
    """Write `chunks` to a new temporary file beside `path` with `mode`, then move it onto `path` unless not
    `keep`; the temporary file's path. Nothing is left behind on failure."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".vmmove-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.chmod(tmp, mode)
        if keep:
            os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return tmp


def write_tree(objects: Iterable[dict], root: str) -> TreeResult:
    if os.path.exists(root) and not os.path.isdir(root):
        raise UserError(f"--output-dir {root}: exists and is not a directory")
    result = TreeResult()
    files: Set[str] = set()
    try:
        for rel, data, secret in tree_files(objects):
            files.add(rel)
            (result.written if write_if_changed(os.path.join(root, rel), data, secret) else result.unchanged).append(rel)
        result.written.sort()
        result.unchanged.sort()
        for dirpath, _, filenames in os.walk(root):
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                if rel in files or not name.endswith(".yaml") or name == "kustomization.yaml":
                    continue
                with open(full, "r", encoding="utf-8", errors="replace") as fh:
                    if MARKER not in fh.read():
                        continue
                os.unlink(full)
                result.removed.append(rel)
    except OSError as err:
        raise UserError(f"--output-dir {root}: {err}") from err
    return result

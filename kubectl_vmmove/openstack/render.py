"""Manifests to bytes: a YAML stream, a JSON List, or a GitOps tree of files.

The tree has a folder per namespace plus `cluster/` for cluster-scoped objects, one `<kind>-<name>.yaml` per object,
a `kustomization.yaml` in each folder and one at the top. Output is byte-identical for the same input, and a file
whose bytes would not change is not rewritten, so mtimes stay and `git status` stays clean. Files a previous run
wrote (they carry the converter's label) that the current run no longer produces are removed; nothing else is
touched. Secret files are created with mode 0600: they hold user data and keys.
"""

import os
import tempfile
from dataclasses import dataclass, field
from typing import Dict, List

from ..errors import UserError
from ..printers import as_list, dump_json, dump_yaml, dump_yaml_documents

CLUSTER_DIR = "cluster"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "VirtualMachineClusterInstancetype",
                  "VirtualMachineClusterPreference", "StorageClass"}
MARKER = "vmmove.io/converted-from: openstack"


def yaml_stream(objects: List[dict]) -> str:
    return dump_yaml_documents(objects)


def json_list(objects: List[dict]) -> str:
    return dump_json(as_list(objects))


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


def tree_files(objects: List[dict]) -> Dict[str, tuple]:
    """relative path -> (bytes, secret?) for the whole tree."""
    files: Dict[str, tuple] = {}
    per_folder: Dict[str, List[str]] = {}
    for obj in objects:
        d = folder(obj)
        rel = f"{d}/{file_name(obj)}"
        if rel in files:
            raise UserError(f"two objects would be written to {rel}; this is a bug, please report it")
        files[rel] = (dump_yaml(obj).encode("utf-8"), obj["kind"] == "Secret")
        per_folder.setdefault(d, []).append(file_name(obj))
    for d, entries in per_folder.items():
        files[f"{d}/kustomization.yaml"] = (kustomization(sorted(entries)).encode("utf-8"), False)
    order = sorted(per_folder, key=lambda d: (d != CLUSTER_DIR, d))
    files["kustomization.yaml"] = (kustomization(order).encode("utf-8"), False)
    return files


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
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".vmmove-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def write_tree(objects: List[dict], root: str) -> TreeResult:
    if os.path.exists(root) and not os.path.isdir(root):
        raise UserError(f"--output-dir {root}: exists and is not a directory")
    result = TreeResult()
    files = tree_files(objects)
    try:
        for rel in sorted(files):
            data, secret = files[rel]
            (result.written if write_if_changed(os.path.join(root, rel), data, secret) else result.unchanged).append(rel)
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
        raise UserError(f"--output-dir {root}: {err}")
    return result

"""A saved plan file: sealed by `plan` with a digest over its spec, read back by `run -f` only when the seal holds,
and compared step by step with the plan `run` derives again from the cluster and the plan's inputs.

The digest is a checksum, not a signature: it tells a damaged file (cut short, two plans pasted together, a stray
edit) from the one `plan` wrote, so `run` never executes steps nobody reviewed. What `run` executes is decided by
the re-derivation: a file that carries a fresh digest over edited steps still differs from what the cluster and
the plan's inputs give, and is refused with the first difference named.

Fields of a step that `run` decides again at run time (IGNORED_STEP_FIELDS: whether a transfer goes through CDI's
ObjectTransfer) are left out of both the digest and the comparison.
"""

import hashlib
import json
from typing import Any, List, Optional

from ...errors import UserError
from . import moveplan as planmod

DIGEST_ANNOTATION = "vmmove.io/plan-digest"
IGNORED_STEP_FIELDS = ("objectTransfer",)
# Fields of a VM entry besides its steps that run and verify act on (estimates and the VM's status are reports).
DECIDING_VM_FIELDS = ("targetRunStrategy", "macAddresses", "firmwareUUID")
_STEP_LISTS = ("prepare", "cleanup")


def _without_ignored(steps) -> List[Any]:
    return [{k: v for k, v in s.items() if k not in IGNORED_STEP_FIELDS} if isinstance(s, dict) else s
            for s in steps or ()]


def canonical_spec(doc: dict) -> dict:
    """The spec as the digest and the comparison see it (IGNORED_STEP_FIELDS taken out of every step)."""
    spec = dict(doc.get("spec") or {})
    for key in _STEP_LISTS:
        if isinstance(spec.get(key), list):
            spec[key] = _without_ignored(spec[key])
    vms = []
    for vm in spec.get("vms") or ():
        if isinstance(vm, dict):
            vm = dict(vm)
            for key in ("steps", "cleanup"):
                if isinstance(vm.get(key), list):
                    vm[key] = _without_ignored(vm[key])
        vms.append(vm)
    if "vms" in spec:
        spec["vms"] = vms
    return spec


def digest(doc: dict) -> str:
    text = json.dumps(canonical_spec(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(doc: dict) -> dict:
    """Write the digest of `doc`'s spec into its annotations; returns `doc`."""
    metadata = doc.setdefault("metadata", {})
    metadata.setdefault("annotations", {})[DIGEST_ANNOTATION] = digest(doc)
    return doc


def damaged(origin: str, why: str, doc: Any = None) -> UserError:
    spec: dict = doc["spec"] if isinstance(doc, dict) and isinstance(doc.get("spec"), dict) else {}
    source = spec["source"].get("namespace") if isinstance(spec.get("source"), dict) else None
    target = spec["target"].get("namespace") if isinstance(spec.get("target"), dict) else None
    where = f"-n {source} --to {target}" if isinstance(source, str) and isinstance(target, str) else \
        "-n SOURCE --to TARGET"
    name = origin if origin not in ("-", "") else "plan.yaml"
    return UserError(f'the plan file "{origin}" is damaged or edited ({why}): plan again with '
                     f"'kubectl vmmove plan {where} ... -o yaml > {name}' and review that plan")


def read(text: str, origin: str) -> dict:
    """The plan in `text`, only when it is one whole MovePlan whose digest matches its spec."""
    import yaml

    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise damaged(origin, "not valid YAML" + (f" at line {mark.line + 1}" if mark else "")) from err
    if len(docs) != 1:
        raise damaged(origin, f"it holds {len(docs)} YAML documents; a plan is one" if docs else "it is empty",
                      docs[0] if docs else None)
    doc = docs[0]
    try:
        planmod.validate(doc, origin)
    except UserError as err:
        raise damaged(origin, str(err), doc) from err
    sealed = ((doc.get("metadata") or {}).get("annotations") or {}).get(DIGEST_ANNOTATION)
    if not sealed:
        raise damaged(origin, f"it has no {DIGEST_ANNOTATION} annotation", doc)
    if sealed != digest(doc):
        raise damaged(origin, "its digest does not match its spec", doc)
    return doc


# ---------------------------------------------------------------------------------------------- comparing


def _step_text(step: Any) -> str:
    if not isinstance(step, dict):
        return "an invalid step"
    return f'{step.get("action")} {str(step.get("kind", "")).lower()}/{step.get("name")}'


def _first_path(want: Any, have: Any, path: str = "") -> Optional[str]:
    """The first path where two values differ, or None when they are equal."""
    if isinstance(want, dict) and isinstance(have, dict):
        for key in sorted(set(want) | set(have)):
            found = _first_path(want.get(key), have.get(key), f"{path}.{key}" if path else key)
            if found is not None:
                return found
        return None
    if isinstance(want, list) and isinstance(have, list) and len(want) == len(have):
        for i, (w, h) in enumerate(zip(want, have)):
            found = _first_path(w, h, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    return None if want == have else (path or ".")


def _comparable(step: Any) -> Any:
    """A step as compared with the one derived now: the resourceVersion of a source that has a generation is left
    out, since status updates change it and the stale check (moveplan.stale) already judged that source."""
    if not isinstance(step, dict) or not isinstance(step.get("source"), dict):
        return step
    source = step["source"]
    if "generation" not in source:
        return step
    return {**step, "source": {k: v for k, v in source.items() if k != "resourceVersion"}}


def _first_step_difference(where: str, saved: List[Any], fresh: List[Any]) -> Optional[str]:
    for i in range(max(len(saved), len(fresh))):
        mine = _comparable(saved[i]) if i < len(saved) else None
        theirs = _comparable(fresh[i]) if i < len(fresh) else None
        if mine == theirs:
            continue
        label = f"{where} step {i + 1}"
        if mine is None:
            return f"{label}: the plan has none, the cluster gives {_step_text(theirs)}"
        if theirs is None:
            return f"{label} ({_step_text(mine)}): the cluster gives no such step"
        if _step_text(mine) != _step_text(theirs):
            return f"{label}: the plan has {_step_text(mine)}, the cluster gives {_step_text(theirs)}"
        return f"{label} ({_step_text(mine)}) differs at {_first_path(mine, theirs)}"
    return None


def first_difference(saved_doc: dict, fresh_doc: dict) -> Optional[str]:
    """Where the steps of a saved plan first differ from those derived now; None when they are the same."""
    saved, fresh = canonical_spec(saved_doc), canonical_spec(fresh_doc)
    for key in ("source", "target"):
        if saved.get(key) != fresh.get(key):
            return f"{key} {saved.get(key)} in the plan, {fresh.get(key)} now"
    found = _first_step_difference("prepare", saved.get("prepare") or [], fresh.get("prepare") or [])
    if found:
        return found
    saved_vms = {v.get("name"): v for v in saved.get("vms") or () if isinstance(v, dict)}
    fresh_vms = {v.get("name"): v for v in fresh.get("vms") or ()}
    if list(saved_vms) != list(fresh_vms):
        return f"VMs {', '.join(map(str, saved_vms))} in the plan, {', '.join(fresh_vms)} now"
    for name, vm in saved_vms.items():
        for key, label in (("steps", f"VM {name}"), ("cleanup", f"VM {name} cleanup")):
            found = _first_step_difference(label, vm.get(key) or [], fresh_vms[name].get(key) or [])
            if found:
                return found
        for key in DECIDING_VM_FIELDS:
            if vm.get(key) != fresh_vms[name].get(key):
                return f"VM {name} {key}: {vm.get(key)} in the plan, {fresh_vms[name].get(key)} now"
    return _first_step_difference("cleanup", saved.get("cleanup") or [], fresh.get("cleanup") or [])

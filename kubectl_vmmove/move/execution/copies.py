"""Creating the target objects of a plan, each only when it is not there yet.

An object that exists and carries this move's id was made by an earlier run and is reused; one that exists
without it belongs to somebody else: that VM fails with a conflict and the object is never overwritten.
Secrets and ConfigMaps are read from the source at the moment they are copied (plans hold their names only).
"""

import copy

from ...kube import errors as kerr
from ...kube import kinds
from .. import rewrite
from ..context import RunContext, StepFailed


def _kind(name: str):
    return kinds.by_kind(name)



def ensure(ctx: RunContext, kind_name: str, obj: dict) -> str:
    """Create `obj` in the target unless this move already did. Returns "created" or "exists"."""
    kind = _kind(kind_name)
    name = obj["metadata"]["name"]
    namespace = ctx.target if kind.namespaced else None
    existing = ctx.api.get_or_none(kind, name, namespace)
    if existing is not None:
        if kind_name == "Namespace" or ctx.ours(existing):
            return "exists"
        raise ctx.not_ours(kind_name, name, existing)
    try:
        ctx.api.create(kind, obj, namespace=namespace, retry_unsafe=True)
    except kerr.AlreadyExists as exists:
        existing = ctx.api.get(kind, name, namespace)
        if kind_name != "Namespace" and not ctx.ours(existing):
            raise ctx.not_ours(kind_name, name, existing) from exists
        return "exists"
    except kerr.Invalid as err:
        raise StepFailed(f"the server refused {kind_name.lower()} {ctx.target}/{name}: {err.message}") from err
    except kerr.Forbidden as err:
        raise StepFailed(f"not allowed to create {kind_name.lower()} {name} in namespace {ctx.target}: "
                         f"{err.message}") from err
    return "created"


def create(ctx: RunContext, step: dict) -> str:
    obj = copy.deepcopy(step["object"])
    if step["kind"] != "Namespace":
        obj["metadata"]["namespace"] = ctx.target
    try:
        return ensure(ctx, step["kind"], obj)
    except kerr.ApiError as err:
        if isinstance(err, StepFailed):
            raise
        raise StepFailed(f"cannot create {step['kind'].lower()} {ctx.target}/{step['name']}: {err.message}") from err


def copy_at_run_time(ctx: RunContext, step: dict) -> str:
    """Secrets and ConfigMaps: read now from the source, rewritten for the target, never printed or journaled."""
    kind = _kind(step["kind"])
    existing = ctx.api.get_or_none(kind, step["name"], ctx.target)
    if existing is not None and ctx.ours(existing):
        return "exists"
    if existing is not None and not rewrite.copied_from(existing, ctx.source, step["name"]):
        raise ctx.not_ours(step["kind"], step["name"], existing)
    source = ctx.api.get_or_none(kind, step["name"], ctx.source)
    if source is None:
        raise StepFailed(f'{step["kind"].lower()} "{step["name"]}" no longer exists in namespace "{ctx.source}"; '
                         "the VM needs it")
    if existing is not None:
        # An earlier move (moving VMs in waves) copied this shared object from the same source: use its copy when
        # the data is still the same, never overwrite it.
        if rewrite.data_digest(existing) == rewrite.data_digest(source):
            return "exists"
        other = ((existing.get("metadata") or {}).get("labels") or {}).get(rewrite.MOVE_ID_LABEL) or "an earlier move"
        raise StepFailed(f'{step["kind"].lower()} "{step["name"]}" in namespace "{ctx.target}" was copied from '
                         f'"{ctx.source}" by {other} and its data now differs from the source; it is left untouched. '
                         "Make them equal (or remove the copy), then re-run")
    obj = rewrite.FOR_KIND[step["kind"]](source, ctx.target, source_namespace=ctx.source, move_id=ctx.move_id)
    return ensure(ctx, step["kind"], obj)




def label(ctx: RunContext, step: dict) -> str:
    kind = _kind(step["kind"])
    namespace = ctx.target if kind.namespaced else None
    obj = ctx.api.get_or_none(kind, step["name"], namespace)
    if obj is None:
        raise StepFailed(f"{step['kind'].lower()} {step['name']} does not exist; cannot label it")
    have = (obj.get("metadata") or {}).get("labels") or {}
    want = {k: v for k, v in (step.get("labels") or {}).items() if have.get(k) != v}
    if not want:
        return "unchanged"
    ctx.api.patch(kind, step["name"], {"metadata": {"labels": want}}, namespace=namespace)
    return "labelled"


def set_owner(ctx: RunContext, step: dict) -> str:
    """Give an object the new VM as owner, so that deleting the VM takes it along as it did in the source.

    The persistent TPM/EFI state claim is cloned through a DataVolume of the same name; the DataVolume is given
    the owner then (the claim belongs to it), otherwise garbage collection would keep the claim alive."""
    owner_kind = step.get("owner", {}).get("kind", "VirtualMachine")
    owner = ctx.api.get(_kind(owner_kind), step["owner"]["name"], ctx.target)
    ref = {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
           "uid": owner["metadata"]["uid"]}
    kind = _kind(step["kind"])
    if step["kind"] == "PersistentVolumeClaim":
        dv = ctx.api.get_or_none(kinds.DATAVOLUME, step["name"], ctx.target)
        if dv is not None and ctx.ours(dv):
            kind = kinds.DATAVOLUME
    obj = ctx.api.get_or_none(kind, step["name"], ctx.target)
    if obj is None:
        raise StepFailed(f"{kind.kind.lower()} {step['name']} does not exist in {ctx.target}; cannot set its owner")
    refs = list((obj.get("metadata") or {}).get("ownerReferences") or [])
    if any(r.get("uid") == ref["uid"] for r in refs):
        return "unchanged"
    if not any(r.get("controller") for r in refs):
        ref["controller"] = True
    ref["blockOwnerDeletion"] = True
    # Stale references to a VM of the same name from an earlier attempt would hold the object back.
    refs = [r for r in refs if not (r.get("kind") == owner["kind"] and r.get("name") == ref["name"])]
    ctx.api.patch(kind, step["name"], {"metadata": {"ownerReferences": refs + [ref],
                                                    "resourceVersion": obj["metadata"]["resourceVersion"]}},
                  namespace=ctx.target)
    return "owner set"


def label_namespace(ctx: RunContext, step: dict) -> str:
    ns = ctx.api.get(kinds.NAMESPACE, step["name"])
    have = (ns.get("metadata") or {}).get("labels") or {}
    want = {k: v for k, v in (step.get("labels") or {}).items() if have.get(k) != v}
    if not want:
        return "unchanged"
    ctx.api.patch(kinds.NAMESPACE, step["name"], {"metadata": {"labels": want}})
    return "labelled"

"""CDI's admission webhooks (pkg/apiserver/webhooks): the DataVolume mutator that authorises cross-namespace clones
and stamps the clone token, the DataVolume validator (one source, no pre-existing claim unless it may be adopted)
and the ObjectTransfer validator.  The clone authorisation helpers are shared with KubeVirt's VM controller, which
runs the same check for a VM's ServiceAccount."""

import base64
import json

from .base import annotations, can, user_name, webhook_denied

DV = "datavolumes.cdi.kubevirt.io"
PVC = "persistentvolumeclaims"
DATASOURCE = "datasources.cdi.kubevirt.io"
OBJECT_TRANSFER = "objecttransfers.cdi.kubevirt.io"

CLONE_TOKEN = "cdi.kubevirt.io/storage.clone.token"
EXTENDED_TOKEN = "cdi.kubevirt.io/storage.extended.clone.token"
PRE_POPULATED = "cdi.kubevirt.io/storage.prePopulated"
CHECK_STATIC = "cdi.kubevirt.io/storage.checkStaticVolume"
POPULATED_FOR = "cdi.kubevirt.io/storage.populatedFor"
ALLOW_ADOPTION = "cdi.kubevirt.io/allowClaimAdoption"
CREATED_FOR_DV = "cdi.kubevirt.io/createdForDataVolume"

SOURCE_KINDS = ("http", "s3", "gcs", "registry", "pvc", "upload", "blank", "imageio", "vddk", "snapshot")

MUTATE_WEBHOOK = "datavolume-mutate.cdi.kubevirt.io"
VALIDATE_WEBHOOK = "datavolume-validate.cdi.kubevirt.io"
TRANSFER_WEBHOOK = "objecttransfer-validate.cdi.kubevirt.io"


def can_clone(sim, user, namespace, name, snapshot=False):
    """CDI's SubjectAccessReviews in the clone source namespace (authorize_utils.go)."""
    if snapshot:
        if can(sim, user, "create", "cdi.kubevirt.io", "datavolumes", "source", namespace, name):
            return True
        # The implicit check asks for "pvcs", which no role grants: in practice only datavolumes/source works.
        return can(sim, user, "create", "", "pods", "", namespace, name) and \
            can(sim, user, "create", "", "pvcs", "", namespace, name)
    return can(sim, user, "create", "cdi.kubevirt.io", "datavolumes", "source", namespace, name) or \
        can(sim, user, "create", "", "pods", "", namespace, name)


def resolve_data_source(store, dv, default_ns):
    """(kind, namespace, name) of what a ``sourceRef: {kind: DataSource}`` points at, or None if missing."""
    ref = (dv.get("spec") or {}).get("sourceRef") or {}
    ns = ref.get("namespace") or default_ns
    try:
        ds = store.peek(DATASOURCE, ns, ref.get("name"))
    except KeyError:
        return None
    for _ in range(2):      # one level of DataSource -> DataSource indirection is allowed
        if ds is None:
            return None
        src = (ds.get("spec") or {}).get("source") or {}
        if src.get("pvc"):
            return "pvc", src["pvc"].get("namespace") or ds["metadata"]["namespace"], src["pvc"].get("name")
        if src.get("snapshot"):
            return ("snapshot", src["snapshot"].get("namespace") or ds["metadata"]["namespace"],
                    src["snapshot"].get("name"))
        if src.get("dataSource"):
            ds = store.peek(DATASOURCE, src["dataSource"].get("namespace") or ds["metadata"]["namespace"],
                            src["dataSource"].get("name"))
            continue
        return None
    return None


def clone_source(store, dv):
    """(kind, namespace, name) of a DataVolume's clone source, or None for imports/blank."""
    ns = dv["metadata"].get("namespace", "")
    source = (dv.get("spec") or {}).get("source") or {}
    if source.get("pvc"):
        return "pvc", source["pvc"].get("namespace") or ns, source["pvc"].get("name")
    if source.get("snapshot"):
        return "snapshot", source["snapshot"].get("namespace") or ns, source["snapshot"].get("name")
    if ((dv.get("spec") or {}).get("sourceRef") or {}).get("kind") == "DataSource":
        return resolve_data_source(store, dv, ns)
    return None


def stamp_clone_token(dv, rng):
    """The webhook's short-lived clone token: an opaque JWT-shaped string bound to source and target."""
    src = ((dv.get("spec") or {}).get("source") or {})
    kind = "pvc" if "pvc" in src else "snapshot" if "snapshot" in src else None
    if kind is None and not (dv.get("spec") or {}).get("sourceRef"):
        return dv
    payload = {"operation": "Clone", "name": (src.get(kind) or {}).get("name"),
               "namespace": (src.get(kind) or {}).get("namespace"),
               "params": {"targetNamespace": dv["metadata"].get("namespace"), "targetName": dv["metadata"]["name"]},
               "nonce": "%016x" % rng.getrandbits(64)}

    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).decode().rstrip("=")
    token = ".".join((b64({"alg": "PS256"}), b64(payload), "%032x" % rng.getrandbits(128)))
    dv.setdefault("metadata", {}).setdefault("annotations", {})[CLONE_TOKEN] = token
    return dv


def claim_may_exist(pvc, dv):
    """ClaimMayExistBeforeDataVolume: populated for this DV, or adoption allowed by the DV's annotation."""
    if annotations(pvc).get(POPULATED_FOR) == dv["metadata"]["name"]:
        return True
    if dv["metadata"].get("uid") and annotations(pvc).get(CREATED_FOR_DV) == dv["metadata"]["uid"]:
        return False
    return str(annotations(dv).get(ALLOW_ADOPTION, "")).lower() == "true"


def validate_claim_may_exist(store, dv):
    pvc = store.peek(PVC, dv["metadata"]["namespace"], dv["metadata"]["name"])
    if pvc is not None and PRE_POPULATED not in annotations(dv) and not claim_may_exist(pvc, dv):
        raise webhook_denied(VALIDATE_WEBHOOK, f" Destination PVC {dv['metadata']['namespace']}/"
                                               f"{dv['metadata']['name']} already exists")


class CDIAdmission:
    """Registered as a controller so that the API pipeline runs it for DataVolumes and ObjectTransfers."""

    def __init__(self, sim, rng):
        self.sim = sim
        self.store = sim.store
        self.rng = rng

    def reconcile(self, now):
        return False

    def admit(self, op, resource, obj, old, user):
        rkey = getattr(resource, "key", resource)
        if rkey == DV:
            return self._admit_datavolume(op, obj, old, user)
        if rkey == OBJECT_TRANSFER:
            return self._admit_transfer(op, obj, old)
        return obj

    def _admit_datavolume(self, op, dv, old, user):
        if op not in ("CREATE", "UPDATE") or (dv.get("metadata") or {}).get("deletionTimestamp"):
            return dv
        spec = dv.get("spec") or {}
        if op == "UPDATE" and old is not None and (old.get("spec") or {}) != spec:
            # The spec of a DataVolume is immutable once created (datavolume-validate).
            raise webhook_denied(VALIDATE_WEBHOOK, " Cannot update DataVolume Spec", reason="")
        if op == "CREATE":
            self._validate_source(dv)
        ns = dv["metadata"].get("namespace", "")
        src = clone_source(self.store, dv)
        if src is not None and src[1] != ns and PRE_POPULATED not in annotations(dv) \
                and CHECK_STATIC not in annotations(dv):
            if not can_clone(self.sim, user, src[1], src[2], snapshot=src[0] == "snapshot"):
                raise webhook_denied(MUTATE_WEBHOOK, f" User {user_name(user)} has insufficient permissions in clone "
                                                     f"source namespace {src[1]}", reason="")
        if op == "CREATE":
            if src is not None:
                stamp_clone_token(dv, self.rng)
            validate_claim_may_exist(self.store, dv)
        return dv

    def _validate_source(self, dv):
        spec = dv.get("spec") or {}
        source, ref = spec.get("source"), spec.get("sourceRef")
        name = dv["metadata"].get("name", "")
        if not source and not ref:
            raise webhook_denied(VALIDATE_WEBHOOK, " Data volume should have either Source or SourceRef, or be "
                                                   "externally populated")
        if source and ref:
            raise webhook_denied(VALIDATE_WEBHOOK, " Data volume should have either Source or SourceRef, or be "
                                                   "externally populated")
        if source:
            kinds = [k for k in source if k in SOURCE_KINDS]
            if len(kinds) != 1:
                raise webhook_denied(VALIDATE_WEBHOOK, f" Data volume {name} must have exactly one source type "
                                                       f"specified, found {len(kinds)}")
        if ref and ref.get("kind") != "DataSource":
            raise webhook_denied(VALIDATE_WEBHOOK, f" Unsupported sourceRef kind {ref.get('kind')}, currently only "
                                                   f"DataSource is supported")
        if "pvc" not in spec and "storage" not in spec:
            raise webhook_denied(VALIDATE_WEBHOOK, " Missing Data volume PVC")

    def _admit_transfer(self, op, ot, old):
        if op == "UPDATE" and old is not None and (old.get("spec") or {}) != (ot.get("spec") or {}):
            raise webhook_denied(TRANSFER_WEBHOOK, "ObjectTransfer spec is immutable", reason="")
        if op != "CREATE":
            return ot
        spec = ot.get("spec") or {}
        source, target = spec.get("source") or {}, spec.get("target") or {}
        if source.get("kind") not in ("PersistentVolumeClaim", "DataVolume"):
            raise webhook_denied(TRANSFER_WEBHOOK, f"Unsupported kind \"{source.get('kind')}\"", reason="")
        if not source.get("namespace") or not source.get("name"):
            raise webhook_denied(TRANSFER_WEBHOOK, "Source namespace and name required", reason="")
        if not target.get("namespace") and not target.get("name"):
            raise webhook_denied(TRANSFER_WEBHOOK, "Target namespace and/or target name must be supplied",
                                 reason="")
        tns = target.get("namespace") or source["namespace"]
        tname = target.get("name") or source["name"]
        resource = PVC if source["kind"] == "PersistentVolumeClaim" else DV
        if self.store.peek(resource, tns, tname) is not None:
            raise webhook_denied(TRANSFER_WEBHOOK, f"Target {tns}/{tname} already exists", reason="")
        return ot


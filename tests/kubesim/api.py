"""The request pipeline every write goes through (HTTP requests, ``sim.apply`` and controllers that want admission):
decode → prune/default → namespace lifecycle → validation → admission (controllers' webhooks, quota) → store.

Authorisation of the caller is done by the HTTP layer before this; ``user`` here is what admission sees."""

import copy
import ipaddress
import random

from . import errors, managedfields, nodeports, validation
from .errors import ApiError
from .rbac import ADMIN
from .store import apply_patch


def _mismatch(t, body_api_version, version):
    return ApiError(400, "BadRequest", f"the API version in the data ({body_api_version}) does not match the "
                                       f"expected API version ({t.api_version_for(version)})")


class Pipeline:
    def __init__(self, sim):
        self.sim = sim
        self.store = sim.store
        self._next_ip = int(ipaddress.ip_address("10.96.0.10"))
        self._node_port_random = random.Random()

    # ------------------------------------------------------------------ decoding
    def _decode(self, t, body, namespace, version, name=None):
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", f"{t.kind} in version \"{version}\" cannot be handled as a {t.kind}: "
                                              f"json: cannot unmarshal {type(body).__name__} into Go value of type "
                                              f"struct")
        obj = copy.deepcopy(body)
        api_version = obj.get("apiVersion")
        kind = obj.get("kind")
        if not kind:
            raise ApiError(400, "BadRequest", "Object 'Kind' is missing in '" + str(body)[:200] + "'")
        if api_version and api_version not in [t.api_version_for(v) for v in t.versions]:
            raise _mismatch(t, api_version, version)
        if kind != t.kind:
            raise ApiError(400, "BadRequest", f"{kind} in version \"{version}\" cannot be handled as a {t.kind}: "
                                              f"no kind \"{kind}\" is registered for version "
                                              f"\"{t.api_version_for(version)}\"")
        obj["apiVersion"] = t.api_version
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise ApiError(400, "BadRequest", f"{t.kind} in version \"{version}\" cannot be handled as a {t.kind}: "
                                              f"json: cannot unmarshal into Go struct field {t.kind}.metadata of "
                                              f"type v1.ObjectMeta")
        if t.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace "
                                                  "sent on the request")
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if name is not None and meta.get("name") and meta["name"] != name:
            raise ApiError(400, "BadRequest", f"the name of the object ({meta['name']}) does not match the name on "
                                              f"the URL ({name})")
        if name is not None:
            meta["name"] = name
        validation.decode(t, obj)
        return obj

    def _prune(self, t, obj, field_validation, version):
        """Custom resources: prune/default/validate by schema; returns (causes, warnings)."""
        if not t.custom:
            return [], []
        unknown, causes = validation.process_custom(t, obj)
        warnings = []
        if unknown:
            if field_validation == "Strict":
                detail = ", ".join(f'unknown field "{u}"' for u in unknown)
                raise ApiError(400, "BadRequest", f"{t.kind} in version \"{version}\" cannot be handled as a "
                                                  f"{t.kind}: strict decoding error: {detail}")
            if field_validation != "Ignore":
                warnings = [f'unknown field "{u}"' for u in unknown]
        return causes, warnings

    # ------------------------------------------------------------------ defaulting
    def _default(self, t, obj, old):
        key = t.key
        if key == "namespaces":
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
            if old is None:
                obj["status"] = {"phase": "Active"}
        elif key == "services":
            self._default_service(obj, old)
        elif key == "secrets":
            if not obj.get("type"):
                obj["type"] = "Opaque"
        elif key == "persistentvolumeclaims":
            spec = obj.setdefault("spec", {})
            spec.setdefault("volumeMode", "Filesystem")
            if old is None and "storageClassName" not in spec:
                default = self.default_storage_class()
                if default:
                    spec["storageClassName"] = default
            if old is None:
                obj["status"] = {"phase": "Pending"}
        elif key == "persistentvolumes":
            spec = obj.setdefault("spec", {})
            spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
            spec.setdefault("volumeMode", "Filesystem")
            if old is None:
                obj["status"] = {"phase": "Pending"}
        elif key == "pods":
            if old is None:
                obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        elif key == "networkpolicies.networking.k8s.io":
            spec = obj.setdefault("spec", {})
            if not spec.get("policyTypes"):
                spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
        elif key == "storageclasses.storage.k8s.io":
            obj.setdefault("reclaimPolicy", "Delete")
            obj.setdefault("volumeBindingMode", "Immediate")

    def default_storage_class(self):
        for rec in sorted(self.store.all_records("storageclasses.storage.k8s.io"),
                          key=lambda r: r.obj["metadata"]["creationTimestamp"], reverse=True):
            ann = rec.obj["metadata"].get("annotations") or {}
            if ann.get("storageclass.kubernetes.io/is-default-class") == "true":
                return rec.obj["metadata"]["name"]
        return None

    def _default_service(self, obj, old):
        spec = obj.setdefault("spec", {})
        stype = spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        ospec = (old or {}).get("spec") or {}
        if stype != "ExternalName":
            if "clusterIP" not in spec and ospec.get("clusterIP"):
                spec["clusterIP"] = ospec["clusterIP"]
            if not spec.get("clusterIP"):
                spec["clusterIP"] = str(ipaddress.ip_address(self._next_ip))
                self._next_ip += 1
            spec["clusterIPs"] = [spec["clusterIP"]]
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
        for p in spec.get("ports") or []:
            p.setdefault("protocol", "TCP")
            if "targetPort" not in p and isinstance(p.get("port"), int):
                p["targetPort"] = p["port"]
        if stype in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
            others = [rec.obj for rec in self.store.all_records("services")
                      if old is None or rec.obj["metadata"]["uid"] != old["metadata"]["uid"]]
            nodeports.assign(obj, ospec, nodeports.held(others), self._node_port_random)
        if old is None:
            obj["status"] = {"loadBalancer": {}}

    # ------------------------------------------------------------------ validation + admission
    def _validate(self, t, obj, old, causes):
        validation.validate_metadata(t, obj, causes)
        if not t.custom:
            validation.validate_core(t, obj, old, causes)
        if causes:
            raise errors.invalid(t.kind, t.group, obj["metadata"].get("name", ""), causes)

    def _admit(self, op, t, obj, old, user):
        for ctrl in list(self.sim.controllers):
            result = ctrl.admit(op, t.key, obj, old, user)
            if result is not None:
                obj = result
        if op in ("CREATE", "UPDATE"):
            self.sim.quota.admit(t, obj["metadata"].get("namespace", ""), obj, old)
        return obj

    # ------------------------------------------------------------------ verbs
    def create(self, t, namespace, body, user=ADMIN, dry_run=False, field_validation="Warn", version=None,
               manager=None, operation="Update"):
        """Returns (stored object, warnings); ``manager`` is the field manager recorded in managedFields."""
        version = version or t.version
        obj = self._decode(t, body, namespace, version)
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + self.store.random_suffix()
        causes, warnings = self._prune(t, obj, field_validation, version)
        with self.store.lock:
            self.store.check_namespace_open(t, meta.get("namespace", ""), meta.get("name", ""))
            if not meta.get("name"):
                raise errors.invalid(t.kind, t.group, "", [("metadata.name",
                                                            "Required value: name or generateName is required")])
            self._default(t, obj, None)
            self._validate(t, obj, None, causes)
            obj = self._admit("CREATE", t, obj, None, user)
            self._stamp(t, None, obj, manager, operation, version, None)
            return self.store.create(obj, dry_run=dry_run), warnings

    def update(self, t, namespace, name, body, user=ADMIN, subresource=None, dry_run=False, field_validation="Warn",
               version=None, manager=None):
        version = version or t.version
        obj = self._decode(t, body, namespace, version, name=name)
        with self.store.lock:
            rec = self.store.get_record(t, namespace, name)
            if rec is None:
                raise errors.not_found(t.plural, t.group, name)
            if t.custom and not subresource and not obj["metadata"].get("resourceVersion"):
                raise errors.invalid(t.kind, t.group, name, [("metadata.resourceVersion",
                                                              "Invalid value: 0x0: must be specified for an update")])
            return self._update(t, rec, obj, user, subresource, dry_run, field_validation, version, manager)

    def _stamp(self, t, old, obj, manager, operation, version, subresource):
        managedfields.stamp(old, obj, manager or "kubesim", operation, t.api_version_for(version),
                            self.store.clock.timestamp(), t.status, subresource)

    def _update(self, t, rec, obj, user, subresource, dry_run, field_validation, version, manager=None,
                operation="Update"):
        old = rec.obj
        want_rv = obj["metadata"].get("resourceVersion")
        if want_rv and want_rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(t.plural, t.group, old["metadata"]["name"])
        merged = self.store.merge_update(t, old, obj, subresource)
        causes, warnings = self._prune(t, merged, field_validation, version)
        self._default(t, merged, old)
        self._validate(t, merged, old, causes)
        merged = self._admit("UPDATE", t, merged, old, user)
        self._stamp(t, old, merged, manager, operation, version, subresource)
        merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        return self.store.update(merged, dry_run=dry_run, merged=True), warnings

    def patch(self, t, namespace, name, patch, patch_type, user=ADMIN, subresource=None, dry_run=False,
              field_validation="Warn", version=None, force=False, manager=None):
        version = version or t.version
        if patch_type == "strategic" and t.custom:
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
        with self.store.lock:
            rec = self.store.get_record(t, namespace, name)
            operation = "Update"
            if patch_type == "apply":
                if rec is None:
                    body = dict(patch)
                    return self.create(t, namespace, body, user, dry_run, field_validation, version, manager,
                                       "Apply")
                patch_type, operation = "merge", "Apply"
            if rec is None:
                raise errors.not_found(t.plural, t.group, name)
            doc = copy.deepcopy(rec.obj)
            doc["apiVersion"] = t.api_version_for(version)
            new = apply_patch(doc, patch, patch_type)
            if not isinstance(new, dict):
                raise ApiError(422, "Invalid", "patch produced a non-object document")
            new.setdefault("metadata", {})
            if not isinstance(new["metadata"], dict):
                raise ApiError(400, "BadRequest", "metadata must be an object")
            new["metadata"]["name"] = name
            if t.namespaced:
                new["metadata"]["namespace"] = namespace
            new["kind"] = t.kind
            new["apiVersion"] = t.api_version
            validation.decode(t, new)
            if not new["metadata"].get("resourceVersion"):
                new["metadata"]["resourceVersion"] = rec.obj["metadata"]["resourceVersion"]
            return self._update(t, rec, new, user, subresource, dry_run, field_validation, version, manager,
                                operation)

    def delete(self, t, namespace, name, user=ADMIN, propagation=None, preconditions=None, dry_run=False):
        with self.store.lock:
            rec = self.store.get_record(t, namespace, name)
            if rec is None:
                raise errors.not_found(t.plural, t.group, name)
            self._admit("DELETE", t, rec.copy(), rec.obj, user)
            return self.store.delete(t.key, namespace, name, propagation=propagation or "Background",
                                     preconditions=preconditions, dry_run=dry_run)

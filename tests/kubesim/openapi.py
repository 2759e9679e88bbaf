"""A minimal OpenAPI surface: the index and one document per group-version listing each kind's PATCH operation
with its query parameters.  kubectl reads it to learn that the server validates fields itself (fieldValidation), so
``kubectl apply``/``create`` send ``fieldValidation=Strict`` instead of downloading schemas to validate locally."""

import hashlib
import json

_PARAMS = [{"name": n, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
           for n in ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")]


def _gv_path(group, version):
    return f"apis/{group}/{version}" if group else f"api/{version}"


def index(registry):
    paths = {}
    for group, versions in [("", ["v1"])] + registry.groups():
        for v in versions:
            gv = _gv_path(group, v)
            digest = hashlib.sha256(gv.encode()).hexdigest()[:16].upper()
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest}"}
    return {"paths": paths}


def group_version_doc(registry, group, version):
    types = registry.for_group_version(group, version)
    if not types:
        return None
    paths = {}
    for t in types:
        if t.virtual:
            continue
        gvk = {"group": t.group, "version": version, "kind": t.kind}
        base = f"/{_gv_path(group, version)}"
        item = f"{base}/namespaces/{{namespace}}/{t.plural}/{{name}}" if t.namespaced else f"{base}/{t.plural}/{{name}}"
        paths[item] = {"patch": {"operationId": f"patch{t.kind}", "x-kubernetes-action": "patch",
                                 "x-kubernetes-group-version-kind": gvk, "parameters": _PARAMS,
                                 "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.28.7"}, "paths": paths,
            "components": {"schemas": {}}}


# OpenAPI v2 with no definitions: kubectl's client-side validation (used for kinds the v3 check does not cover, such
# as v1 List) then finds no schema for a kind and skips it, leaving validation to the server.  kubectl asks for the
# gnostic protobuf encoding; fields: Document.swagger = 1, Document.info = 2 (Info.title = 1, Info.version = 2),
# Document.paths = 8.
V2_PROTOBUF_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def _pb_string(field, value):
    data = value.encode()
    return bytes([(field << 3) | 2, len(data)]) + data


def v2_protobuf():
    info = _pb_string(1, "Kubernetes") + _pb_string(2, "v1.28.7")
    return _pb_string(1, "2.0") + bytes([(2 << 3) | 2, len(info)]) + info + bytes([(8 << 3) | 2, 0])


def v2_json():
    return json.dumps({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.28.7"}, "paths": {},
                       "definitions": {}}).encode()

"""Validation and defaulting of objects on the way in: metadata for every kind, the fields of core kinds that tests
touch (with the apiserver's messages), and the custom resources' structural schemas (``schema.py``)."""

import base64
import binascii
import json
import re

from . import errors, quantity, schema
from .errors import ApiError

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")

MSG_SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                 "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
MSG_LABEL = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
MSG_DNS1035 = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
               "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
               "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
MSG_QUALIFIED = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                 "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                 "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
MSG_LABEL_VALUE = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
                   "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
                   "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def _q(value):
    return json.dumps(value)


# ------------------------------------------------------------------ metadata
def _check_name(t, name, field, causes):
    if t.plural in ("namespaces",):
        if len(name) > 63:
            causes.append((field, f"Invalid value: {_q(name)}: must be no more than 63 characters"))
        elif not _DNS1123_LABEL.match(name):
            causes.append((field, f"Invalid value: {_q(name)}: {MSG_LABEL}"))
    elif t.plural in ("services",):
        if len(name) > 63:
            causes.append((field, f"Invalid value: {_q(name)}: must be no more than 63 characters"))
        elif not _DNS1035_LABEL.match(name):
            causes.append((field, f"Invalid value: {_q(name)}: {MSG_DNS1035}"))
    elif t.group == "rbac.authorization.k8s.io" or t.plural == "events":
        if "/" in name or "%" in name or name in (".", ".."):
            causes.append((field, f"Invalid value: {_q(name)}: may not contain '/'"))
    else:
        if len(name) > 253:
            causes.append((field, f"Invalid value: {_q(name)}: must be no more than 253 characters"))
        elif not _DNS1123_SUBDOMAIN.match(name):
            causes.append((field, f"Invalid value: {_q(name)}: {MSG_SUBDOMAIN}"))


def _check_qualified_key(key, field, causes):
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        causes.append((field, f"Invalid value: {_q(key)}: prefix part {MSG_SUBDOMAIN}"))
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        causes.append((field, f"Invalid value: {_q(key)}: {MSG_QUALIFIED}"))


def validate_metadata(t, obj, causes):
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        causes.append(("metadata", "Required value"))
        return
    name = meta.get("name")
    if name is not None and not isinstance(name, str):
        raise ApiError(400, "BadRequest", f"{t.kind} in version \"{t.version}\" cannot be handled as a {t.kind}: "
                                          f"json: cannot unmarshal {type(name).__name__} into Go struct field "
                                          f"ObjectMeta.metadata.name of type string")
    if name:
        _check_name(t, name, "metadata.name", causes)
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        causes.append(("metadata.labels", f"Invalid value: {_q(labels)}: must be a map"))
        labels = {}
    for k, v in labels.items():
        _check_qualified_key(k, "metadata.labels", causes)
        if not isinstance(v, str):
            raise ApiError(400, "BadRequest", f"{t.kind} in version \"{t.version}\" cannot be handled as a {t.kind}: "
                                              f"json: cannot unmarshal {_json_type(v)} into Go struct field "
                                              f"ObjectMeta.metadata.labels of type string")
        if len(v) > 63 or not _LABEL_VALUE.match(v):
            causes.append(("metadata.labels", f"Invalid value: {_q(v)}: {MSG_LABEL_VALUE}"))
    annotations = meta.get("annotations") or {}
    total = 0
    for k, v in annotations.items():
        _check_qualified_key(k, "metadata.annotations", causes)
        if not isinstance(v, str):
            raise ApiError(400, "BadRequest", f"{t.kind} in version \"{t.version}\" cannot be handled as a {t.kind}: "
                                              f"json: cannot unmarshal {_json_type(v)} into Go struct field "
                                              f"ObjectMeta.metadata.annotations of type string")
        total += len(k) + len(v)
    if total > 256 * 1024:
        causes.append(("metadata.annotations", f"Too long: must have at most {256 * 1024} bytes"))
    for i, ref in enumerate(meta.get("ownerReferences") or []):
        for field in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(field):
                causes.append((f"metadata.ownerReferences[{i}].{field}", "Invalid value: \"\": "
                                                                         f"{field} must not be empty"))
    for i, fin in enumerate(meta.get("finalizers") or []):
        if "/" not in fin and fin not in ("kubernetes", "orphan", "foregroundDeletion"):
            causes.append((f"metadata.finalizers[{i}]",
                           f"Invalid value: {_q(fin)}: name is neither a standard finalizer name nor is it fully "
                           f"qualified"))


def _json_type(v):
    return {bool: "bool", int: "number", float: "number", list: "array", dict: "object"}.get(type(v), "value")


# ------------------------------------------------------------------ custom resources
def process_custom(t, obj):
    """Prune/default/validate a custom resource in place: returns (unknown field paths, causes)."""
    if not t.schema:
        return [], []
    res = schema.process(schema.load(t.schema), obj)
    return res.unknown, res.causes


# ------------------------------------------------------------------ core kinds
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")


def _quantity_ok(value, field, causes):
    if not quantity.is_valid(value):
        causes.append((field, f"Invalid value: {_q(value)}: quantities must match the regular expression "
                              f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
        return False
    return True


def _validate_pvc(obj, old, causes):
    spec = obj.get("spec") or {}
    modes = spec.get("accessModes") or []
    if not modes:
        causes.append(("spec.accessModes", "Required value: at least 1 access mode is required"))
    for m in modes:
        if m not in ACCESS_MODES:
            causes.append(("spec.accessModes", f"Unsupported value: {_q(m)}: supported values: "
                                               + ", ".join(_q(a) for a in ACCESS_MODES)))
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if storage is None:
        causes.append(("spec.resources[storage]", "Required value"))
    elif _quantity_ok(storage, "spec.resources[storage]", causes) and quantity.parse(storage) <= 0:
        causes.append(("spec.resources[storage]", f"Invalid value: {_q(storage)}: must be greater than zero"))
    if spec.get("volumeMode") not in (None, "Filesystem", "Block"):
        causes.append(("spec.volumeMode", f"Unsupported value: {_q(spec['volumeMode'])}: supported values: "
                                          f'"Block", "Filesystem"'))
    if old is not None:
        ospec = old.get("spec") or {}
        strip = ("resources", "volumeAttributesClassName")
        a = {k: v for k, v in spec.items() if k not in strip}
        b = {k: v for k, v in ospec.items() if k not in strip}
        # volumeName may be set once, by the binder.
        if not ospec.get("volumeName"):
            a.pop("volumeName", None)
            b.pop("volumeName", None)
        if a != b:
            causes.append(("spec", "Forbidden: spec is immutable after creation except resources.requests and "
                                   "volumeAttributesClassName for bound claims"))
        ostorage = ((ospec.get("resources") or {}).get("requests") or {}).get("storage")
        if storage and ostorage and quantity.is_valid(storage) and quantity.parse(storage) < quantity.parse(ostorage):
            phase = (old.get("status") or {}).get("phase")
            if phase == "Bound":
                causes.append(("spec.resources.requests.storage", "Forbidden: field can not be less than previous "
                                                                  "value"))


def _validate_pv(obj, causes):
    spec = obj.get("spec") or {}
    storage = (spec.get("capacity") or {}).get("storage")
    if storage is None:
        causes.append(("spec.capacity", "Required value"))
    else:
        _quantity_ok(storage, "spec.capacity[storage]", causes)
    if not spec.get("accessModes"):
        causes.append(("spec.accessModes", "Required value"))
    if spec.get("persistentVolumeReclaimPolicy") not in (None, "Retain", "Delete", "Recycle"):
        causes.append(("spec.persistentVolumeReclaimPolicy",
                       f"Unsupported value: {_q(spec['persistentVolumeReclaimPolicy'])}: supported values: "
                       f'"Delete", "Recycle", "Retain"'))


SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")


def _validate_service(obj, causes):
    spec = obj.get("spec") or {}
    stype = spec.get("type", "ClusterIP")
    if stype not in SERVICE_TYPES:
        causes.append(("spec.type", f"Unsupported value: {_q(stype)}: supported values: "
                                    + ", ".join(_q(s) for s in SERVICE_TYPES)))
    ports = spec.get("ports") or []
    if not ports and stype != "ExternalName" and spec.get("clusterIP") != "None":
        causes.append(("spec.ports", "Required value"))
    names = set()
    for i, p in enumerate(ports):
        port = p.get("port")
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            causes.append((f"spec.ports[{i}].port", f"Invalid value: {_q(port)}: must be between 1 and 65535, "
                                                    f"inclusive"))
        if p.get("protocol", "TCP") not in ("TCP", "UDP", "SCTP"):
            causes.append((f"spec.ports[{i}].protocol", f"Unsupported value: {_q(p['protocol'])}: supported values: "
                                                        f'"SCTP", "TCP", "UDP"'))
        if len(ports) > 1 and not p.get("name"):
            causes.append((f"spec.ports[{i}].name", "Required value"))
        if p.get("name"):
            if p["name"] in names:
                causes.append((f"spec.ports[{i}].name", f"Duplicate value: {_q(p['name'])}"))
            names.add(p["name"])
        np = p.get("nodePort")
        if np is not None and (stype not in ("NodePort", "LoadBalancer")):
            causes.append((f"spec.ports[{i}].nodePort", "Forbidden: may not be used when `type` is 'ClusterIP'"))
        elif np is not None and not 30000 <= np <= 32767:
            causes.append((f"spec.ports[{i}].nodePort", f"Invalid value: {np}: provided port is not in the valid "
                                                        f"range. The range of valid ports is 30000-32767"))


def _validate_keys(obj, field, causes):
    for k in (obj.get(field) or {}):
        if len(k) > 253 or not _CONFIG_KEY.match(k):
            causes.append((f"{field}[{k}]", f"Invalid value: {_q(k)}: a valid config key must consist of alphanumeric "
                                            f"characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                                            f"'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"))


# core.MaxSecretSize: what a ConfigMap's data + binaryData (decoded) or a Secret's data (decoded) may total.
MAX_DATA_BYTES = 1024 * 1024
MSG_TOO_LONG = f"Too long: must have at most {MAX_DATA_BYTES} bytes"


def _decoded_len(value):
    try:
        return len(base64.b64decode(value or "", validate=True))
    except (binascii.Error, ValueError, TypeError):
        return len(str(value))


def _validate_size(key, obj, causes):
    """The apiserver's size rule: ValidateConfigMap reports it on the whole object (field "[]"), ValidateSecret on
    `data`."""
    if key == "configmaps":
        total = sum(len(str(v).encode("utf-8")) for v in (obj.get("data") or {}).values()) + \
            sum(_decoded_len(v) for v in (obj.get("binaryData") or {}).values())
        if total > MAX_DATA_BYTES:
            causes.append(("[]", MSG_TOO_LONG))
    else:
        if sum(_decoded_len(v) for v in (obj.get("data") or {}).values()) > MAX_DATA_BYTES:
            causes.append(("data", MSG_TOO_LONG))


def _decode_secret(t, obj):
    """Secret data must be base64 (a decoding error, 400, like the real decoder); stringData is merged into data."""
    data = obj.get("data") or {}
    for _k, v in data.items():
        if not isinstance(v, str):
            raise ApiError(400, "BadRequest", f"Secret in version \"v1\" cannot be handled as a Secret: json: cannot "
                                              f"unmarshal {_json_type(v)} into Go struct field Secret.data of type "
                                              f"[]uint8")
        try:
            base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "BadRequest", "Secret in version \"v1\" cannot be handled as a Secret: illegal "
                                              "base64 data at input byte 0") from None
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = dict(data)
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data


def _validate_rbac(t, obj, causes):
    if t.kind in ("Role", "ClusterRole"):
        for i, rule in enumerate(obj.get("rules") or []):
            if not rule.get("verbs"):
                causes.append((f"rules[{i}].verbs", "Required value: verbs must contain at least one value"))
            if not rule.get("nonResourceURLs") and not rule.get("resources") and t.kind == "Role":
                causes.append((f"rules[{i}].resources", "Required value: resource rules must supply at least one "
                                                        "resource"))
    else:
        ref = obj.get("roleRef") or {}
        if not ref.get("name"):
            causes.append(("roleRef.name", "Required value"))
        if ref.get("kind") not in ("Role", "ClusterRole"):
            causes.append(("roleRef.kind", f"Unsupported value: {_q(ref.get('kind'))}: supported values: "
                                           f'"ClusterRole", "Role"'))
        if t.kind == "ClusterRoleBinding" and ref.get("kind") == "Role":
            causes.append(("roleRef.kind", 'Unsupported value: "Role": supported values: "ClusterRole"'))
        for i, s in enumerate(obj.get("subjects") or []):
            if s.get("kind") not in ("User", "Group", "ServiceAccount"):
                causes.append((f"subjects[{i}].kind", f"Unsupported value: {_q(s.get('kind'))}: supported values: "
                                                      f'"Group", "ServiceAccount", "User"'))
            if not s.get("name"):
                causes.append((f"subjects[{i}].name", "Required value"))


def _validate_quota(obj, causes):
    for k, v in ((obj.get("spec") or {}).get("hard") or {}).items():
        _quantity_ok(v, f"spec.hard[{k}]", causes)


_QUANTITY_FIELDS = {
    "persistentvolumeclaims": (("spec", "resources", "requests"), ("spec", "resources", "limits")),
    "persistentvolumes": (("spec", "capacity"),),
    "resourcequotas": (("spec", "hard"),),
}


def decode(t, obj):
    """Decoding-time rules (400 BadRequest on failure), before defaulting and validation."""
    if t.key == "secrets":
        _decode_secret(t, obj)
    for path in _QUANTITY_FIELDS.get(t.key, ()):
        node = obj
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        for value in (node or {}).values() if isinstance(node, dict) else ():
            if not quantity.is_valid(value):
                # A resource.Quantity that does not parse fails the JSON decoding of the whole object.
                raise errors.ApiError(400, "BadRequest", f'{t.kind} in version "{t.version}" cannot be handled as a '
                                                         f"{t.kind}: quantities must match the regular expression "
                                                         f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def validate_core(t, obj, old, causes):
    key = t.key
    if key == "persistentvolumeclaims":
        _validate_pvc(obj, old, causes)
    elif key == "persistentvolumes":
        _validate_pv(obj, causes)
    elif key == "services":
        _validate_service(obj, causes)
    elif key in ("configmaps", "secrets"):
        _validate_keys(obj, "data", causes)
        if key == "configmaps":
            _validate_keys(obj, "binaryData", causes)
        _validate_size(key, obj, causes)
        if old is not None and key == "secrets" and old.get("type", "Opaque") != obj.get("type", "Opaque"):
            causes.append(("type", f"Invalid value: {_q(obj.get('type'))}: field is immutable"))
        if old is not None and old.get("immutable") and (old.get("data") != obj.get("data")):
            causes.append(("data", "Forbidden: field is immutable when `immutable` is set"))
    elif t.group == "rbac.authorization.k8s.io":
        _validate_rbac(t, obj, causes)
    elif key == "resourcequotas":
        _validate_quota(obj, causes)
    elif key == "pods":
        if not (obj.get("spec") or {}).get("containers"):
            causes.append(("spec.containers", "Required value"))

"""Just enough of the Kubernetes protobuf encoding to read the request bodies kubectl's typed commands send
(``kubectl create namespace|configmap|secret|serviceaccount|role|rolebinding|clusterrole|clusterrolebinding``,
``kubectl auth can-i [--list]``, ``kubectl auth whoami``).  Responses are always JSON,
which those clients accept (they send ``Accept: application/vnd.kubernetes.protobuf,application/json``).

Field numbers are the ones in k8s.io/api generated.proto files."""

from .errors import ApiError

MAGIC = b"k8s\x00"


def _varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _fields(buf):
    """(field number, wire type, value) for each field of one message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            val = buf[i:i + n]
            i += n
        elif wt == 1:
            val = buf[i:i + 8]
            i += 8
        elif wt == 5:
            val = buf[i:i + 4]
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        yield num, wt, val


# A schema maps field number -> (json name, kind) where kind is "string", "bytes", "int", "bool", a nested schema
# (dict), ("repeated", kind or nested schema) or ("map", value kind).
_STR, _BYTES, _INT, _BOOL = "string", "bytes", "int", "bool"

OBJECT_META = {1: ("name", _STR), 2: ("generateName", _STR), 3: ("namespace", _STR), 6: ("resourceVersion", _STR),
               11: ("labels", ("map", _STR)), 12: ("annotations", ("map", _STR)),
               14: ("finalizers", ("repeated", _STR))}
RESOURCE_ATTRIBUTES = {1: ("namespace", _STR), 2: ("verb", _STR), 3: ("group", _STR), 4: ("version", _STR),
                       5: ("resource", _STR), 6: ("subresource", _STR), 7: ("name", _STR)}
NON_RESOURCE_ATTRIBUTES = {1: ("path", _STR), 2: ("verb", _STR)}
LABEL_SELECTOR = {1: ("matchLabels", ("map", _STR)),
                  2: ("matchExpressions", ("repeated", {1: ("key", _STR), 2: ("operator", _STR),
                                                        3: ("values", ("repeated", _STR))}))}
# k8s.io/api/rbac/v1
POLICY_RULE = {1: ("verbs", ("repeated", _STR)), 2: ("apiGroups", ("repeated", _STR)),
               3: ("resources", ("repeated", _STR)), 4: ("resourceNames", ("repeated", _STR)),
               5: ("nonResourceURLs", ("repeated", _STR))}
SUBJECT = {1: ("kind", _STR), 2: ("apiGroup", _STR), 3: ("name", _STR), 4: ("namespace", _STR)}
ROLE_REF = {1: ("apiGroup", _STR), 2: ("kind", _STR), 3: ("name", _STR)}
ROLE = {1: ("metadata", OBJECT_META), 2: ("rules", ("repeated", POLICY_RULE)),
        3: ("aggregationRule", {1: ("clusterRoleSelectors", ("repeated", LABEL_SELECTOR))})}
BINDING = {1: ("metadata", OBJECT_META), 2: ("subjects", ("repeated", SUBJECT)), 3: ("roleRef", ROLE_REF)}

SCHEMAS = {
    "Namespace": {1: ("metadata", OBJECT_META), 2: ("spec", {1: ("finalizers", ("repeated", _STR))})},
    "ConfigMap": {1: ("metadata", OBJECT_META), 2: ("data", ("map", _STR)), 3: ("binaryData", ("map", _BYTES)),
                  4: ("immutable", _BOOL)},
    "Secret": {1: ("metadata", OBJECT_META), 2: ("data", ("map", _BYTES)), 3: ("type", _STR),
               4: ("stringData", ("map", _STR)), 5: ("immutable", _BOOL)},
    "ServiceAccount": {1: ("metadata", OBJECT_META)},
    "SelfSubjectAccessReview": {1: ("metadata", OBJECT_META),
                                2: ("spec", {1: ("resourceAttributes", RESOURCE_ATTRIBUTES),
                                             2: ("nonResourceAttributes", NON_RESOURCE_ATTRIBUTES)})},
    "SubjectAccessReview": {1: ("metadata", OBJECT_META),
                            2: ("spec", {1: ("resourceAttributes", RESOURCE_ATTRIBUTES),
                                         2: ("nonResourceAttributes", NON_RESOURCE_ATTRIBUTES), 3: ("user", _STR),
                                         4: ("groups", ("repeated", _STR)), 6: ("uid", _STR)})},
    "LocalSubjectAccessReview": None,   # same shape as SubjectAccessReview, filled below
    "SelfSubjectRulesReview": {1: ("metadata", OBJECT_META), 2: ("spec", {1: ("namespace", _STR)})},
    "SelfSubjectReview": {1: ("metadata", OBJECT_META)},
    "Role": ROLE,                       # a Role never has field 3 (aggregationRule) set
    "ClusterRole": ROLE,
    "RoleBinding": BINDING,
    "ClusterRoleBinding": BINDING,
}
SCHEMAS["LocalSubjectAccessReview"] = SCHEMAS["SubjectAccessReview"]


def _scalar(kind, wt, val):
    if kind == _STR:
        return bytes(val).decode()
    if kind == _BYTES:
        import base64
        return base64.b64encode(bytes(val)).decode()   # JSON form of []byte
    if kind == _INT:
        return val
    if kind == _BOOL:
        return bool(val)
    raise AssertionError(kind)


def _decode(schema, buf):
    out = {}
    for num, wt, val in _fields(buf):
        spec = schema.get(num)
        if spec is None:
            continue
        name, kind = spec
        if isinstance(kind, dict):
            out[name] = _decode(kind, val)
        elif isinstance(kind, tuple) and kind[0] == "repeated":
            item = _decode(kind[1], val) if isinstance(kind[1], dict) else _scalar(kind[1], wt, val)
            out.setdefault(name, []).append(item)
        elif isinstance(kind, tuple) and kind[0] == "map":
            entry = {n: v for n, _, v in _fields(val)}
            out.setdefault(name, {})[bytes(entry.get(1, b"")).decode()] = _scalar(kind[1], 2, entry.get(2, b""))
        elif kind == _STR and not len(val):
            continue   # Go writes every non-pointer string; JSON's omitempty, which a server's output has, drops ""
        else:
            out[name] = _scalar(kind, wt, val)
    return out


def decode(body):
    """A JSON-shaped dict from a protobuf request body (the ``k8s\\0`` + runtime.Unknown envelope)."""
    if not body.startswith(MAGIC):
        raise ApiError(400, "BadRequest", "provided protobuf data is missing the k8s magic prefix")
    api_version = kind = ""
    raw = b""
    for num, _, val in _fields(memoryview(body)[len(MAGIC):]):
        if num == 1:
            for n, _, v in _fields(val):
                if n == 1:
                    api_version = bytes(v).decode()
                elif n == 2:
                    kind = bytes(v).decode()
        elif num == 2:
            raw = val
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ApiError(415, "UnsupportedMediaType", f"kubesim cannot decode protobuf for kind {kind!r}; send "
                                                    f"application/json")
    obj = _decode(schema, raw)
    obj["apiVersion"] = api_version
    obj["kind"] = kind
    return obj

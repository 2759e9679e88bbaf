"""API errors raised by the store and the request pipeline, rendered as Kubernetes ``Status`` objects."""

_REASON_CODES = {
    "BadRequest": 400,
    "Unauthorized": 401,
    "Forbidden": 403,
    "NotFound": 404,
    "MethodNotAllowed": 405,
    "NotAcceptable": 406,
    "AlreadyExists": 409,
    "Conflict": 409,
    "Gone": 410,
    "RequestEntityTooLarge": 413,
    "UnsupportedMediaType": 415,
    "Invalid": 422,
    "TooManyRequests": 429,
    "InternalError": 500,
    "ServiceUnavailable": 503,
    "Timeout": 504,
}


class ApiError(Exception):
    """An error the API server answers with: HTTP ``code``, Status ``reason``, ``message`` and ``details``."""

    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self):
        st = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            st["details"] = self.details
        return st

    def __repr__(self):
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def _details(name, group, kind, causes=None):
    d = {"name": name, "kind": kind}
    if group:
        d["group"] = group
    if causes:
        d["causes"] = causes
    return d


def qualified(plural, group):
    """``plural.group`` as the API server prints resources in messages (core resources are bare)."""
    return f"{plural}.{group}" if group else plural


def not_found(plural, group, name):
    return ApiError(404, "NotFound", f'{qualified(plural, group)} "{name}" not found', _details(name, group, plural))


def already_exists(plural, group, name):
    return ApiError(409, "AlreadyExists", f'{qualified(plural, group)} "{name}" already exists',
                    _details(name, group, plural))


def conflict(plural, group, name, why="the object has been modified; please apply your changes to the latest "
                                       "version and try again"):
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": {why}',
                    _details(name, group, plural))


def invalid(kind, group, name, causes):
    """422 Invalid; ``causes`` is a list of (field, message) pairs, message already in apiserver wording."""
    kind_q = f"{kind}.{group}" if group else kind
    texts = [f"{field}: {msg}" if field else msg for field, msg in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    cause_objs = [{"reason": _cause_reason(msg), "message": msg, "field": field} for field, msg in causes]
    return ApiError(422, "Invalid", f'{kind_q} "{name}" is invalid: {joined}', _details(name, group, kind, cause_objs))


def _cause_reason(msg):
    if msg.startswith("Invalid value: ") and " in body must be of type " in msg:
        return "FieldValueTypeInvalid"   # the CRD schema's type check (field.TypeInvalid)
    for prefix, reason in (("Required value", "FieldValueRequired"), ("Unsupported value", "FieldValueNotSupported"),
                           ("Forbidden", "FieldValueForbidden"), ("Too many", "FieldValueTooMany"),
                           ("Too long", "FieldValueTooLong"),
                           ("Duplicate value", "FieldValueDuplicate")):
        if msg.startswith(prefix):
            return reason
    return "FieldValueInvalid"


def generic_unprocessable(server_message):
    """422 as ``NewGenericServerResponse`` makes it (a JSON patch that cannot be applied): the generic text, the
    underlying error only as a cause."""
    return ApiError(422, "Invalid", "the server rejected our request due to an error in our request",
                    {"causes": [{"reason": "UnexpectedServerResponse", "message": server_message}]})


def precondition_conflict(kind, group, name, field, want, have):
    """409 for a delete whose uid/resourceVersion precondition does not hold (the storage layer's text)."""
    tail = ("The object might have been deleted and then recreated" if field == "UID"
            else "The object might have been modified")
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {qualified(kind, group)} "{name}": the '
                                     f'{field} in the precondition ({want}) does not match the {field} in record '
                                     f'({have}). {tail}', _details(name, group, kind))


def too_large_resource_version(wanted, current):
    return ApiError(504, "Timeout", f"Timeout: Too large resource version: {wanted}, current: {current}",
                    {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                     "retryAfterSeconds": 1})


def forbidden(plural, group, name, why):
    target = f'{qualified(plural, group)} "{name}"' if name else qualified(plural, group)
    return ApiError(403, "Forbidden", f"{target} is forbidden: {why}", _details(name, group, plural) if name else
                    {"group": group, "kind": plural} if group else {"kind": plural})


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def gone(message="The provided continue parameter is too old to display a consistent list result. You can start a "
                 "new list without the continue parameter, or use the continue token in this response to retrieve "
                 "the remainder of the results. Continuing with the provided token results in an inconsistent list "
                 "- objects that were created, modified, or deleted between the time the first chunk was returned "
                 "and now may show up in the list."):
    return ApiError(410, "Expired", message)

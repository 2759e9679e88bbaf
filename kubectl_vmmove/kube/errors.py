"""Typed API errors carrying the server's Status message, so callers branch on kind and users read the server."""

from ..errors import UserError


class ApiError(UserError):
    """A failed API call. `str()` is the server's own message, as kubectl prints it after `error: `."""

    status = 0
    reason = ""

    def __init__(self, message, status=None, reason=None, details=None, retry_after=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if reason is not None:
            self.reason = reason
        self.details = details or {}
        self.retry_after = retry_after


class BadRequest(ApiError):
    status, reason = 400, "BadRequest"


class Unauthorized(ApiError):
    status, reason = 401, "Unauthorized"


class Forbidden(ApiError):
    status, reason = 403, "Forbidden"


class NotFound(ApiError):
    status, reason = 404, "NotFound"


class MethodNotAllowed(ApiError):
    status, reason = 405, "MethodNotAllowed"


class AlreadyExists(ApiError):
    status, reason = 409, "AlreadyExists"


class Conflict(ApiError):
    status, reason = 409, "Conflict"


class Gone(ApiError):
    """410: a watch or continue token older than the server keeps; relist and go on."""

    status, reason = 410, "Gone"


class Invalid(ApiError):
    status, reason = 422, "Invalid"


class TooManyRequests(ApiError):
    status, reason = 429, "TooManyRequests"


class Unavailable(ApiError):
    """The server could not be reached or kept failing (5xx, connection resets) after the retries."""

    status, reason = 503, "ServiceUnavailable"


class ServerGone(Unavailable):
    """The server stopped answering and the outage budget ran out (see client.RetryPolicy): not one failed call but
    a server that is gone, so a run stops everything and says how to continue once it is back."""


class Timeout(ApiError):
    status, reason = 504, "Timeout"


_BY_REASON = {c.reason: c for c in (BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, AlreadyExists,
                                    Conflict, Gone, Invalid, TooManyRequests, Timeout)}
_BY_STATUS = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed,
              409: Conflict, 410: Gone, 422: Invalid, 429: TooManyRequests, 504: Timeout}


def from_status(http_status, body, retry_after=None):
    """Build the typed error for an HTTP failure from the Status object the server sent (or its absence)."""
    status_obj = body if isinstance(body, dict) and body.get("kind") == "Status" else {}
    reason = status_obj.get("reason") or ""
    message = status_obj.get("message") or ""
    cls = _BY_REASON.get(reason) or _BY_STATUS.get(http_status)
    if cls is None:
        cls = Unavailable if http_status >= 500 else ApiError
    if not message:
        message = f"the server responded with status {http_status}"
        if http_status == 401:
            message = "You must be logged in to the server (Unauthorized)"
    return cls(message, status=http_status, reason=reason or cls.reason, details=status_obj.get("details"),
               retry_after=retry_after)

"""How the exporter rides through a cloud under load: bounded retries of its GETs on 429 and 5xx answers.

The export only reads, so every request is safe to repeat. keystoneauth can retry status codes itself
(`status_code_retries`), but it honours Retry-After only as whole seconds and without an upper bound, does not
retry 500/502/504 unless told, and reports retries through its own logger without the URL; the loop in
`export.RawApi.get` uses this policy instead, so each retry is one line at -v=4 naming the URL and the wait.
"""

import datetime
import email.utils
from typing import Optional

# 500 is included: nova and neutron answer a passing database or message-queue failure with a plain 500, and the
# export only reads. 501 (not implemented) and 505 are not transient.
RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

ATTEMPTS = 5  # tries per request, the first included
BASE_DELAY = 1.0  # seconds before the first retry when the service does not say; doubles each time
MAX_DELAY = 20.0
MAX_RETRY_AFTER = 60.0  # a longer Retry-After is cut to this: the export should fail rather than hang for hours


def retry_after_seconds(value: Optional[str], now: Optional[datetime.datetime] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 10.2.3); None when the
    header is missing or unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return max((when - now).total_seconds(), 0.0)


def default_policy():
    """The retry policy of a real export (the move's backoff with jitter, slower steps for a cloud under load)."""
    from ...kube.client import RetryPolicy

    return RetryPolicy(attempts=ATTEMPTS, base_delay=BASE_DELAY, max_delay=MAX_DELAY,
                       max_retry_after=MAX_RETRY_AFTER)

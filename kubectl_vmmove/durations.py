"""Go-style durations as kubectl takes them on the command line (`30`, `90s`, `5m`, `1h30m`, `500ms`)."""

import re
from typing import Optional

from .errors import UsageError

_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value, flag: str = "--request-timeout") -> Optional[float]:
    """Seconds for `value`; a bare integer is seconds; 0 means no limit and gives None."""
    text = str(value).strip()
    if text.startswith("-"):
        raise UsageError(f'invalid {flag} value "{value}": a duration cannot be negative; use e.g. 30s, 5m or 1h30m '
                         "(0 means no limit)")
    if re.fullmatch(r"\d+", text):
        seconds = float(text)
    else:
        pos, seconds = 0, 0.0
        for m in _PART.finditer(text):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * _SECONDS[m.group(2)]
            pos = m.end()
        if pos != len(text) or not text:
            raise UsageError(
                f'invalid {flag} value "{value}": use a single integer in seconds, or an integer followed by a '
                "time unit (e.g. 1s | 2m | 3h | 1h30m)"
            )
    return seconds or None


_AGE_PART = re.compile(r"(\d+)(d|h|m|s)")
_AGE_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_age(value, flag: str) -> int:
    """Seconds for an age as kubectl prints one in AGE (`30d`, `3d12h`, `90m`, `45s`; `0s` is allowed)."""
    text = str(value).strip()
    pos, seconds = 0, 0
    for m in _AGE_PART.finditer(text):
        if m.start() != pos:
            break
        seconds += int(m.group(1)) * _AGE_SECONDS[m.group(2)]
        pos = m.end()
    if not text or pos != len(text):
        raise UsageError(f'invalid {flag} value "{value}": use an age as kubectl prints it, a whole number followed '
                         "by a unit d, h, m or s (e.g. 30d | 12h | 1d12h)")
    return seconds

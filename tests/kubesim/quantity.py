"""Kubernetes resource quantities ("10Gi", "500m", "1e3") as exact fractions, and back to canonical text."""

import fractions
import re

_SUFFIX = {
    "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
    "n": fractions.Fraction(1, 10 ** 9), "u": fractions.Fraction(1, 10 ** 6), "m": fractions.Fraction(1, 1000),
    "": 1, "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18,
}
_RE = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")


class QuantityError(ValueError):
    pass


def parse(text):
    """The value of a quantity string (or int/float) as a Fraction; raises QuantityError when malformed."""
    if isinstance(text, bool):
        raise QuantityError(text)
    if isinstance(text, int):
        return fractions.Fraction(text)
    if isinstance(text, float):
        return fractions.Fraction(str(text))
    m = _RE.match(str(text).strip())
    if not m:
        raise QuantityError(text)
    number, suffix = fractions.Fraction(m.group(1)), m.group(2) or ""
    if suffix[:1] in ("e", "E"):
        return number * fractions.Fraction(10) ** int(suffix[1:])
    return number * _SUFFIX[suffix]


def is_valid(text):
    try:
        parse(text)
        return True
    except QuantityError:
        return False


def format_quantity(value, binary=True):
    """Canonical text for a value: the largest binary (or decimal) suffix that divides it exactly."""
    value = fractions.Fraction(value)
    if value.denominator == 1:
        n = value.numerator
        if n == 0:
            return "0"
        if binary:
            for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
                if n % _SUFFIX[suffix] == 0:
                    return f"{n // _SUFFIX[suffix]}{suffix}"
        for suffix in ("E", "P", "T", "G", "M", "k"):
            if n % _SUFFIX[suffix] == 0:
                return f"{n // _SUFFIX[suffix]}{suffix}"
        return str(n)
    milli = value * 1000
    if milli.denominator == 1:
        return f"{milli.numerator}m"
    return str(float(value))

"""Kubernetes resource quantities ("10Gi", "500M", "1e3") as bytes, and bytes back to short human text."""

import re
from decimal import Decimal, InvalidOperation
from typing import Dict, Union

_SUFFIX: Dict[str, Union[int, Decimal]] = {
    "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
    "m": Decimal("0.001"), "": 1, "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15,
    "E": 10 ** 18,
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[mkMGTPE]|[eE][+-]?\d+)?$")


def to_bytes(value) -> int:
    """The integer value of a quantity, rounded up as the API server rounds storage; 0 for empty or malformed."""
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, (int, float)):
        return int(-(-Decimal(str(value)) // 1))
    m = _QUANTITY.match(str(value).strip())
    if not m:
        return 0
    try:
        number = Decimal(m.group(1))
    except InvalidOperation:
        return 0
    suffix = m.group(2) or ""
    if suffix[:1] in ("e", "E"):
        amount = number * (Decimal(10) ** int(suffix[1:]))
    else:
        amount = number * Decimal(_SUFFIX[suffix])
    return int(-(-amount // 1))


def human_bytes(n: int) -> str:
    """Binary units the way `kubectl get pvc` shows capacities: 10Gi, 1536Mi, 512Ki."""
    if not n:
        return "0"
    for unit, size in (("Ei", 2 ** 60), ("Pi", 2 ** 50), ("Ti", 2 ** 40), ("Gi", 2 ** 30), ("Mi", 2 ** 20),
                       ("Ki", 2 ** 10)):
        if n >= size:
            value = n / size
            text = f"{value:.1f}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
    return str(n)

"""Node port allocation as kube-apiserver does it (default --service-node-port-range 30000-32767).

A port given in the Service is taken as asked, or refused with 422 "provided port is already allocated" when another
Service holds it. A port left out is picked at random: kube-apiserver's port allocator
(pkg/registry/core/service/portallocator, allocator.go `calculateRangeOffset`; allocator/bitmap.go
`randomScanStrategyWithOffset`, ServiceNodePortStaticSubrange, on by default since v1.27) reserves the lowest
min(max(16, size/32), 128) ports of the range for ports users choose: it starts at a random port of the upper band
and scans forward (wrapping inside that band), and only when the upper band is full does the same in the lower band.
With the default range that is 86 ports, so a dynamically allocated port is in 30086-32767 while any is free there.
"""

import random
from typing import Iterable, Optional

RANGE_BASE = 30000
RANGE_SIZE = 2768   # 30000-32767


def static_band(size: int = RANGE_SIZE) -> int:
    """How many ports at the bottom of the range dynamic allocation leaves for ports users choose."""
    if size <= 16:
        return 0
    return min(max(16, size // 32), 128)


def allocate(used: Iterable[int], rng: random.Random, base: int = RANGE_BASE, size: int = RANGE_SIZE) -> Optional[int]:
    """A free port as the real allocator picks one, or None when the whole range is taken."""
    taken = {p - base for p in used if base <= p < base + size}
    offset = static_band(size)
    upper = size - offset
    start = rng.randrange(upper)
    for i in range(upper):
        at = offset + (start + i) % upper
        if at not in taken:
            return base + at
    if offset:
        start = rng.randrange(offset)
        for i in range(offset):
            at = (start + i) % offset
            if at not in taken:
                return base + at
    return None

"""Manifests held packed until they are printed: what keeps a 50,000-server conversion within 1 GiB.

A VirtualMachine as nested dicts takes about ten times the memory of its bytes, and a big estate's manifests,
the estate they come from and the report are all alive at the end of a conversion. Packed with marshal (the
interpreter's own serialiser: exact types, the fastest codec in the standard library, only ever read back by this
same process) and compressed with the first manifest of its kind as the dictionary (objects of a kind share
most of their text: a VirtualMachine then takes about a tenth of its JSON size), each is unpacked one at a time as
it is written.
"""

import marshal
import zlib
from typing import Any, Callable, Dict, Iterator, List, Sequence, Tuple, Union, overload


class PackedObjects(Sequence[dict]):
    """A sorted list of manifests, each packed as it is added; iterating unpacks them one by one.

    An object must be complete when added: later changes to the dict are not seen."""

    def __init__(self, sort_key: Callable[[dict], Any]):
        self._sort_key = sort_key
        self._items: List[Tuple[Any, str, bytes]] = []
        self._dictionaries: Dict[str, bytes] = {}  # kind -> zlib dictionary

    def append(self, obj: dict) -> None:
        data = marshal.dumps(obj)
        kind = obj.get("kind", "")
        dictionary = self._dictionaries.setdefault(kind, data[-32768:])
        packer = zlib.compressobj(1, zdict=dictionary)
        self._items.append((self._sort_key(obj), kind, packer.compress(data) + packer.flush()))

    def _unpack(self, kind: str, data: bytes) -> dict:
        return marshal.loads(zlib.decompressobj(zdict=self._dictionaries[kind]).decompress(data))

    def extend(self, objs) -> None:
        for obj in objs:
            self.append(obj)

    def sort(self) -> None:
        """Stable, by the sort key each object had when added."""
        self._items.sort(key=lambda item: item[0])

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> dict: ...

    @overload
    def __getitem__(self, index: slice) -> List[dict]: ...

    def __getitem__(self, index: Union[int, slice]) -> Union[dict, List[dict]]:
        if isinstance(index, slice):
            return [self._unpack(kind, data) for _, kind, data in self._items[index]]
        _, kind, data = self._items[index]
        return self._unpack(kind, data)

    def __iter__(self) -> Iterator[dict]:
        for _, kind, data in self._items:
            yield self._unpack(kind, data)

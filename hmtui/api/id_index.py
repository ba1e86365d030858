"""Compact sets and maps of message ids, for histories of 100,000 messages and more.

A Python `set` of 100,000 ints costs about 7 MiB (a hash table plus an int object per id); the
thread's memory must stay nearly flat in its length (issue 11), so ids that fit in 64 bits live
in sorted `array`s (8 bytes an id, 8 more for a value) with a small dict of recent insertions
merged in now and then. Other ids (strings, huge ints, anything hashable) go to a plain dict:
the API's ids are ints, so that side stays empty in practice.

Lookups are a bisect (O(log n)); every MERGE_AT insertions the arrays are copied once with the
new ids in place (array slices, in C: a run of new ids between two old ones goes in as one
slice, and a batch older or newer than all of them is one concatenation), so inserting 100,000
ids costs a few hundredths of a second all told.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Hashable, Iterable, Iterator
from itertools import islice

_MIN = -(2**63)
_MAX = 2**63 - 1
# Recent insertions kept in a dict before they are merged into the arrays: the dict costs ~100
# bytes an id, so it stays small; a merge copies the arrays (a memmove) and bisects each id.
MERGE_AT = 4096


def _fits(key: object) -> bool:
    return type(key) is int and _MIN <= key <= _MAX  # not bool: True and 1 are different ids


class IdMap:
    """Id → number (`typecode` of `array`: "q" for ints, "d" for floats)."""

    __slots__ = ("_keys", "_values", "_recent", "_other", "_typecode", "_shadowed")

    def __init__(self, typecode: str = "q") -> None:
        self._typecode = typecode
        self._keys = array("q")
        self._values = array(typecode)
        self._recent: dict[int, int | float] = {}
        self._other: dict[Hashable, int | float] = {}
        self._shadowed = 0  # recent keys that the arrays hold too (a new value, not a new key)

    def __len__(self) -> int:
        return len(self._keys) + len(self._recent) - self._shadowed + len(self._other)

    def _in_arrays(self, key: int) -> bool:
        keys = self._keys
        if not keys or key < keys[0] or key > keys[-1]:  # a history's new ids: no bisect
            return False
        i = bisect_left(keys, key)
        return i < len(keys) and keys[i] == key

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def get(self, key: object, default: int | float | None = None) -> int | float | None:
        if not _fits(key):
            try:
                return self._other.get(key, default)  # type: ignore[arg-type]
            except TypeError:  # unhashable: never an id here
                return default
        found = self._recent.get(key)  # type: ignore[arg-type]
        if found is not None:
            return found
        keys = self._keys
        i = bisect_left(keys, key)  # type: ignore[arg-type]
        if i < len(keys) and keys[i] == key:
            return self._values[i]
        return default

    def __setitem__(self, key: Hashable, value: int | float) -> None:
        # Into the recent ones even when the arrays hold the key: the recent value shadows the
        # old one (`get` looks there first) until the merge replaces it.
        if not _fits(key):
            self._other[key] = value
            return
        recent = self._recent
        if key not in recent and self._in_arrays(key):  # type: ignore[arg-type]
            self._shadowed += 1
        recent[key] = value  # type: ignore[index]
        if len(recent) >= MERGE_AT:
            self._merge()

    def update(self, pairs: Iterable[tuple[Hashable, int | float]]) -> None:
        """Many at once, without a call per pair. Taken MERGE_AT at a time, so that neither the
        pairs nor the recent ids are ever many more than that in memory."""
        each = iter(pairs)
        while part := list(islice(each, MERGE_AT)):
            if not self._update_run(part):
                self._update_each(part)

    def _update_each(self, pairs: list[tuple[Hashable, int | float]]) -> None:
        recent, other = self._recent, self._other
        for key, value in pairs:
            if type(key) is int and _MIN <= key <= _MAX:
                if key not in recent and self._in_arrays(key):
                    self._shadowed += 1
                recent[key] = value
                if len(recent) >= MERGE_AT:
                    self._merge()
            else:
                other[key] = value

    def surely_new(self, keys: list[Hashable]) -> bool:
        """True when none of `keys` can be in the map, decided in C: plain ints, all older or
        all newer than the arrays' and none of them recent (a page of a whole history). False
        says only that it is not known that way (they may still all be new)."""
        if not keys:
            return True
        if not all(type(key) is int for key in keys):
            return False
        low, high = min(keys), max(keys)  # type: ignore[type-var]
        arrays = self._keys
        if low < _MIN or high > _MAX or (arrays and not (high < arrays[0] or low > arrays[-1])):
            return False
        return self._recent.keys().isdisjoint(keys)

    def _update_run(self, pairs: list[tuple[Hashable, int | float]]) -> bool:
        """`update` in C when it can be (False: it could not, nothing done): ids that are all
        plain ints, none of them known yet, all older or all newer than the arrays' (a page of a
        whole history). Then nothing is shadowed and no id needs a bisect."""
        if not pairs:
            return True
        if not self.surely_new([key for key, _ in pairs]):
            return False
        recent = self._recent
        recent.update(pairs)
        if len(recent) >= MERGE_AT:
            self._merge()
        return True

    def clear(self) -> None:
        self._keys = array("q")
        self._values = array(self._typecode)
        self._recent.clear()
        self._other.clear()
        self._shadowed = 0

    def keys(self) -> Iterator[Hashable]:
        self._merge()
        yield from self._keys
        yield from self._other

    def _merge(self) -> None:
        if not self._recent:
            return
        recent = sorted(self._recent.items())
        self._recent.clear()
        self._shadowed = 0
        new_keys = array("q", [key for key, _ in recent])
        new_values = array(self._typecode, [value for _, value in recent])
        old_keys, old_values = self._keys, self._values
        # A history's ids mostly come in runs older or newer than all the others: one copy.
        if not old_keys or new_keys[0] > old_keys[-1]:
            old_keys.extend(new_keys)
            old_values.extend(new_values)
            return
        if new_keys[-1] < old_keys[0]:
            new_keys.extend(old_keys)
            new_values.extend(old_values)
            self._keys, self._values = new_keys, new_values
            return
        keys, values = array("q"), array(self._typecode)
        start, i, n, size = 0, 0, len(new_keys), len(old_keys)
        while i < n:
            key = new_keys[i]
            at = bisect_left(old_keys, key, start)
            keys.extend(old_keys[start:at])
            values.extend(old_values[start:at])
            if at < size and old_keys[at] == key:  # a new value for a key of the arrays
                keys.append(key)
                values.append(new_values[i])
                start, i = at + 1, i + 1
                continue
            # Every new key below the next old one goes in as one slice.
            end = n if at == size else bisect_left(new_keys, old_keys[at], i)
            keys.extend(new_keys[i:end])
            values.extend(new_values[i:end])
            start, i = at, end
        keys.extend(old_keys[start:])
        values.extend(old_values[start:])
        self._keys, self._values = keys, values


class IdSet:
    """A set of ids, 9 bytes an int id (see the module docstring)."""

    __slots__ = ("_map",)

    def __init__(self, ids: Iterable[Hashable] = ()) -> None:
        self._map = IdMap("b")
        self.update(ids)

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, key: object) -> bool:
        return self._map.get(key) is not None

    def __iter__(self) -> Iterator[Hashable]:
        return self._map.keys()

    def add(self, key: Hashable) -> None:
        self._map[key] = 0

    def update(self, ids: Iterable[Hashable]) -> None:
        self._map.update((key, 0) for key in ids)

    def clear(self) -> None:
        self._map.clear()

"""One bounded least-recently-used store: the engine's tables, frames and values all use it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["LRU"]

V = TypeVar("V")


class LRU(Generic[V]):
    """At most ``size`` values by key; the least recently used is dropped first.

    A kind of key may keep fewer: a key whose class has an integer ``kept`` attribute keeps at
    most that many values of its class (a large result, such as a million customers' features,
    need not be kept for every date a page has shown).

    >>> cache: LRU[int] = LRU(2)
    >>> cache.get_or_build("a", lambda: 1), cache.get_or_build("b", lambda: 2)
    (1, 2)
    >>> cache.get_or_build("a", lambda: 99)  # kept: not built again
    1
    >>> cache.get_or_build("c", lambda: 3)  # "b" is now the least recently used: dropped
    3
    >>> list(cache)
    ['a', 'c']
    >>> class Big(str):
    ...     kept = 1
    >>> big: LRU[int] = LRU(5)
    >>> _ = [big.get_or_build(k, lambda: 0) for k in ("a", Big("x"), Big("y"))]
    >>> list(big)  # one Big kept: the most recent
    ['a', 'y']
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"an LRU keeps at least one value, not {size}")
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        """The value kept for ``key``, made by ``build()`` and kept when missing."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = build()
        self._items[key] = value
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        kept = getattr(type(key), "kept", None)
        if isinstance(kept, int):
            same = [k for k in self._items if type(k) is type(key)]  # least recent first
            for old in same[: max(len(same) - kept, 0)]:
                del self._items[old]
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[Hashable]:
        """The keys, least recently used first."""
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Forget every value."""
        self._items.clear()

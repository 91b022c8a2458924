"""The engine object: caches (one LRU, typed keys), the tables that serve every as_of, and the
choice of faster paths; a page or report owns one (:class:`Engine`)."""

from segwork.engine.engine import Data, Engine, engine_for
from segwork.engine.keys import CacheKey, PageMemo
from segwork.engine.lru import LRU

__all__ = ["LRU", "CacheKey", "Data", "Engine", "PageMemo", "engine_for"]

"""What a search runs on: one revision's search files plus a bounded cache of products."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from shopagent.tools.catalog.files import SearchFiles
from shopagent.tools.catalog.text import _stem
from shopagent.tools.store.schema import Product

PRODUCT_CACHE = 2048
"""Products kept in memory per catalog (least recently used ones are dropped)."""


class ProductCache:
    """Products by row, at most ``size`` of them; misses are fetched in one call."""

    def __init__(
        self, fetch: Callable[[list[int]], dict[int, Product]], size: int = PRODUCT_CACHE
    ) -> None:
        self.fetch = fetch
        self.size = max(1, size)
        self._items: OrderedDict[int, Product] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get_many(self, ids: Sequence[int]) -> dict[int, Product]:
        found: dict[int, Product] = {}
        with self._lock:
            for pid in ids:
                product = self._items.get(pid)
                if product is not None:
                    self._items.move_to_end(pid)
                    found[pid] = product
        missing = [pid for pid in dict.fromkeys(ids) if pid not in found]
        self.hits += len(found)
        self.misses += len(missing)
        if missing:
            fetched = self.fetch(missing)
            found.update(fetched)
            with self._lock:
                for pid, product in fetched.items():
                    self._items[pid] = product
                    self._items.move_to_end(pid)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return found


@dataclass
class _Snapshot:
    """The collection at one revision: its search files (memory-mapped) and product cache."""

    files: SearchFiles
    products: ProductCache
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def revision(self) -> str:
        return self.files.revision

    def load(self, rows: Sequence[int]) -> dict[int, Product]:
        """The products at ``rows`` (those still in the index)."""
        return self.products.get_many(rows)


def _split_compound(token: str, vocab: Mapping[str, int]) -> list[str]:
    """Two indexed words (3+ letters each) that make up ``token``, longest head first."""
    for cut in range(len(token) - 3, 2, -1):
        head, tail = token[:cut], _stem(token[cut:])
        if head in vocab and tail in vocab:
            return [head, tail]
    return []

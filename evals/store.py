"""The eval store: a deterministic demo store (fixed seed and ``today``) and its search index.

Dialogs never run against the user's ``var/`` store. The store is generated from a
:class:`StoreSpec` (same spec, same store), loaded into an in-memory database, and indexed
with the real :class:`~shopagent.tools.catalog.ChromaCatalog` and the bundled MiniLM. The index
lives in ``<cache_dir>/store-<hash>-<embedder>/chroma`` (one per embedder) and is reused by every
run while the store's content hash is unchanged
(:meth:`~shopagent.tools.catalog.ChromaCatalog.index` is incremental anyway).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from shopagent.agent.understanding.intents import IntentRouter
from shopagent.evals.entities import StoreIndex
from shopagent.tools.catalog import ChromaCatalog, open_catalog
from shopagent.tools.embeddings import Embedder
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.generate import generate_store
from shopagent.tools.store.schema import StoreData

from shopagent.settings import Settings

COLLECTION = "eval_products"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreSpec:
    """Arguments of the seeded generator for the eval store."""

    seed: int = 7
    today: date = date(2026, 11, 20)
    n_products: int = 400
    n_customers: int = 60
    n_orders: int = 400
    profile: str | None = None
    """A store profile (``tools/store/data/profiles``) to generate instead of the demo store
    (its own seed and size)."""

    def generate(self) -> StoreData:
        if self.profile:
            from shopagent.tools.store.profile import generate_profile_store, load_profile

            return generate_profile_store(load_profile(self.profile), today=self.today)
        return generate_store(
            seed=self.seed,
            n_products=self.n_products,
            n_customers=self.n_customers,
            n_orders=self.n_orders,
            today=self.today,
        )


@dataclass
class EvalStore:
    """The master copy of the eval store (never written) plus its shared search index."""

    spec: StoreSpec
    data: StoreData
    db: StoreDB
    catalog: ChromaCatalog
    index: StoreIndex
    digest: str
    cache_dir: Path

    def clone(self) -> StoreDB:
        """A private in-memory copy for one dialog (its writes stay in it)."""
        return self.db.clone_to(":memory:")

    def describe(self) -> dict[str, object]:
        """What the report records about the store."""
        spec = asdict(self.spec)
        if self.spec.profile:  # the profile's own seed and size
            from shopagent.tools.store.profile import load_profile

            spec["seed"] = load_profile(self.spec.profile).seed
        return {
            **{k: str(v) for k, v in spec.items()},
            "hash": self.digest,
            "products": len(self.data.products),
            "customers": len(self.data.customers),
            "orders": len(self.data.orders),
        }

    def close(self) -> None:
        self.db.close()

    def intent_router(self, embedder: Embedder) -> IntentRouter:
        """The router the product would use on this store: the intent model trained on it
        by ``shopagent train``'s own function (cached beside the index; retrained only when
        the store or the training data changed), loaded as the service loads it. The
        exemplar kNN router only when no model can be trained or loaded."""
        from shopagent.agent.understanding.classifier import load_router
        from shopagent.agent.understanding.training import train_store

        home = self.cache_dir / "intent"
        try:
            train_store(self.db, home, embedder.embed, embedder.identity)
        except (ImportError, ValueError, OSError) as exc:  # the documented fallback
            log.warning("cannot train the intent model on the eval store (%s): kNN router", exc)
        return load_router(home, embedder.embed, embedder.identity)


def store_digest(data: StoreData) -> str:
    """A content hash of the whole store (16 hex digits)."""
    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()[:16]


def open_eval_store(
    spec: StoreSpec,
    cache_dir: Path,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvalStore:
    """Generate the store, load it in memory and bring its cached index up to date."""
    data = spec.generate()
    digest = store_digest(data)
    db = StoreDB.in_memory(data)
    if embedder is None:
        from shopagent.tools.embeddings import shared_embedder

        embedder = shared_embedder(settings.embedder)
    # one cache per embedder: vectors of another embedder may have another dimension, and
    # the en and zh/es suites run with different embedders (issue 16)
    embedded_by = hashlib.sha256(embedder.identity.encode()).hexdigest()[:8]
    root = cache_dir / f"store-{digest}-{embedded_by}"
    root.mkdir(parents=True, exist_ok=True)
    catalog_settings = settings.model_copy(
        update={"chroma_path": root / "chroma", "chroma_url": None, "collection": COLLECTION}
    )
    catalog = open_catalog(catalog_settings, embedder)
    marker = root / "indexed"
    if not marker.exists() or marker.read_text().strip() != digest:
        catalog.index(data.products, progress=progress)
        marker.write_text(digest + "\n")
    return EvalStore(
        spec=spec,
        data=data,
        db=db,
        catalog=catalog,
        index=StoreIndex.from_db(db, spec.today),
        digest=digest,
        cache_dir=root,
    )

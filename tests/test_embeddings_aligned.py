"""The aligned embedder: static product vectors mapped into MiniLM's space by a map learned
from the store's own products, MiniLM query vectors (real models, real embedded Chroma)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from catalog_common import _client, _ids
from catalog_products import sample_products
from shopagent.tools.catalog import ChromaCatalog
from shopagent.tools.catalog.index import _fit_sample
from shopagent.tools.catalog.records import embedding_text
from shopagent.tools.embeddings import AlignedEmbedder, make_embedder
from shopagent.tools.embeddings.aligned import ALPHAS, ridge_loo
from shopagent.tools.store.generate import generate_store
from shopagent.tools.store.schema import Product

from shopagent.errors import IndexMissing

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def aligned() -> AlignedEmbedder:
    embedder = make_embedder("aligned", max_seq_length=128)
    assert isinstance(embedder, AlignedEmbedder)
    embedder.prepare()  # distilled / exported from the bundled weights once per machine
    return embedder


@pytest.fixture(scope="module")
def store() -> list[Product]:
    return generate_store(
        seed=11, n_products=360, n_customers=1, n_orders=1, today=date(2025, 6, 1)
    ).products


def test_the_map_is_learned_from_product_texts_and_generalises(
    aligned: AlignedEmbedder, store: list[Product]
) -> None:
    texts = [embedding_text(p) for p in store]
    train, held_out = texts[:300], texts[300:]
    fitted = aligned.fit(train)
    assert aligned.projection is None  # the shared embedder is untouched: fit returns a view
    assert fitted.projection is not None and fitted.projection.shape == (256, 384)
    assert fitted.identity == f"{aligned.identity}:{fitted.digest}"
    assert aligned.identity == "model:aligned256:128"
    assert fitted.student is aligned.student and fitted.teacher is aligned.teacher

    mapped = fitted.embed(held_out)
    assert mapped.shape == (60, 384) and mapped.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(mapped, axis=1), 1.0, atol=1e-5)
    # Products the map never saw land near where MiniLM puts them...
    truth = aligned.teacher.embed(held_out)
    agreement = float((mapped * truth).sum(axis=1).mean())
    assert agreement > 0.75
    # ...far nearer than the unmapped static vectors padded into the same space would.
    static = aligned.student.embed(held_out)
    padded = np.pad(static, ((0, 0), (0, 384 - 256)))
    assert agreement > float((padded * truth).sum(axis=1).mean()) + 0.3
    # A text's own map vector is its nearest among the held-out products for most texts.
    assert float(np.mean((mapped @ truth.T).argmax(axis=1) == np.arange(60))) > 0.5


def test_queries_are_minilm_vectors_and_products_need_a_map(aligned: AlignedEmbedder) -> None:
    query = "flashlight you wear on your head"
    np.testing.assert_allclose(
        aligned.embed_one(query), aligned.teacher.embed([query])[0], atol=0.02
    )
    assert aligned.dimension == 384
    with pytest.raises(IndexMissing) as info:
        aligned.embed(["a product"])
    assert "shopagent index" in (info.value.hint or "")
    with pytest.raises(ValueError):
        aligned.fit(["  "])


def test_the_map_is_saved_and_restored_by_digest(
    tmp_path: Path, aligned: AlignedEmbedder, store: list[Product]
) -> None:
    fitted = aligned.fit([embedding_text(p) for p in store[:80]])
    path = fitted.save(tmp_path)
    assert path.parent == tmp_path and fitted.digest in path.name
    back = aligned.restore(fitted.identity, tmp_path)
    assert back is not None and back.digest == fitted.digest
    np.testing.assert_array_equal(back.projection, fitted.projection)
    assert aligned.accepts(fitted.identity) and not aligned.accepts("model:static256:128")
    # Another embedder's index, another sequence length, or a lost file: nothing to restore.
    assert aligned.restore("model:static256:128", tmp_path) is None
    assert aligned.restore(fitted.identity.replace(":128:", ":64:"), tmp_path) is None
    path.unlink()
    assert aligned.restore(fitted.identity, tmp_path) is None


def test_the_catalog_learns_the_map_once_and_keeps_it_for_reindexing(
    tmp_path: Path, aligned: AlignedEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    products = sample_products()
    catalog = ChromaCatalog(_client(tmp_path), "products", aligned)
    first = catalog.index(products)
    assert first.embedded == len(products)
    stored = catalog._collection().metadata["embedder"]
    assert stored.startswith(f"{aligned.identity}:")
    [saved] = list(catalog.files_dir.glob("projection-*.npy"))

    # One changed product: the same map, one text embedded, the same identity.
    changed = products[0].model_copy(update={"description": "A brand new description."})
    again = catalog.index([changed, *products[1:]])
    assert again.embedded == 1 and again.unchanged == len(products) - 1
    assert catalog._collection().metadata["embedder"] == stored
    assert list(catalog.files_dir.glob("projection-*.npy")) == [saved]

    # A fresh process (a new, unfitted embedder) searches it without a mismatch warning.
    reader = ChromaCatalog(
        _client(tmp_path), "products", make_embedder("aligned", max_seq_length=128)
    )
    with caplog.at_level(logging.WARNING):
        hits = reader.search("kettle with a thermometer for pour-over coffee", k=3)
    assert "k-gooseneck-kettle" in _ids(hits)
    assert "re-embed" not in caplog.text

    # The map file lost: a new map is learned and every product re-embedded with it.
    saved.unlink()
    rebuilt = catalog.index([changed, *products[1:]])
    assert rebuilt.embedded == len(products)
    assert list(catalog.files_dir.glob("projection-*.npy"))


def test_the_fit_sample_is_spread_and_stable() -> None:
    ids = [f"p{i:05d}" for i in range(5000)]
    sample = _fit_sample(ids, 500)
    assert len(sample) == len(set(sample)) == 500
    assert sample == _fit_sample(list(reversed(ids)), 500)  # not the catalog's order
    assert max(int(pid[1:]) for pid in sample) > 4000 and min(int(p[1:]) for p in sample) < 1000
    assert _fit_sample(ids[:10], 500) == ids[:10]


@pytest.mark.parametrize(("n", "noise"), [(40, 0.5), (300, 0.05), (300, 2.0)])
def test_the_ridge_map_matches_scikit_learns_ridgecv(n: int, noise: float) -> None:
    from sklearn.linear_model import RidgeCV

    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 24))
    y = x @ rng.normal(size=(24, 6)) + noise * rng.normal(size=(n, 6))
    weights, alpha = ridge_loo(x, y)
    reference = RidgeCV(alphas=ALPHAS, fit_intercept=False).fit(x, y)
    assert alpha == pytest.approx(reference.alpha_)
    np.testing.assert_allclose(weights, reference.coef_.T, rtol=1e-4, atol=1e-5)


def test_switching_the_embedder_rebuilds_vectors_of_another_dimension(
    tmp_path: Path, aligned: AlignedEmbedder
) -> None:
    """An index built by the former default (static, 256 dims) upgraded to aligned (MiniLM's
    384): every product is re-embedded into a fresh collection and search works."""
    products = sample_products()
    static = make_embedder("static", max_seq_length=128)
    ChromaCatalog(_client(tmp_path), "products", static).index(products)
    catalog = ChromaCatalog(_client(tmp_path), "products", aligned)
    result = catalog.index(products)
    assert result.embedded == len(products)
    assert catalog._collection().metadata["embedder"].startswith(f"{aligned.identity}:")
    hits = catalog.search("kettle with a thermometer for pour-over coffee", k=3)
    assert "k-gooseneck-kettle" in _ids(hits)

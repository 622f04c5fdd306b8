"""Opening a Chroma client (embedded or server) from plain values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from shopagent.tools.catalog.config import StockFilter

from shopagent.errors import CatalogUnavailable

if TYPE_CHECKING:
    from shopagent.tools.catalog.search import ChromaCatalog
    from shopagent.tools.embeddings import Embedder


def _is_unreachable(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, httpx.TransportError | ConnectionError):
        return True
    return isinstance(exc, ValueError) and "could not connect" in str(exc).casefold()


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def _parse_url(url: str) -> tuple[str, int, bool]:
    parsed = urlparse(url if "://" in url else f"http://{url}")
    ssl = parsed.scheme == "https"
    host = parsed.hostname or "localhost"
    port = parsed.port or (443 if ssl else 8000)
    return host, port, ssl


@dataclass(frozen=True)
class CatalogConfig:
    """The values :func:`open_catalog` needs (the caller takes them from its settings)."""

    chroma_dir: Path
    """Embedded Chroma directory (used when ``chroma_url`` is not set)."""
    chroma_url: str | None = None
    """Chroma server URL (server mode)."""
    collection: str = "products"
    embedder: str = "aligned"
    """Embedder name (see :func:`shopagent.tools.embeddings.make_embedder`)."""
    max_seq_length: int | None = None
    model_cache_dir: Path | None = None
    """Where derived model files go (default: the machine cache)."""

    @classmethod
    def of(cls, settings: Any) -> CatalogConfig:
        """The values read from an object with the settings' field names (duck-typed, so
        this layer does not depend on the settings class)."""
        return cls(
            chroma_dir=Path(settings.chroma_dir),
            chroma_url=settings.chroma_url,
            collection=settings.collection,
            embedder=settings.embedder,
            max_seq_length=settings.embedder_max_seq_length,
            model_cache_dir=settings.model_cache_dir,
        )


def open_catalog(
    config: CatalogConfig | Any,
    embedder: Embedder | None = None,
    *,
    stock_filter: StockFilter | None = None,
) -> ChromaCatalog:
    """The catalog ``config`` points at: a Chroma server when ``chroma_url`` is set, else the
    embedded index in ``chroma_dir``. Raises CatalogUnavailable when the server is unreachable.

    ``config`` is a :class:`CatalogConfig` (an object with the settings' field names is read
    with :meth:`CatalogConfig.of`). Without ``embedder``, the one it names (``embedder``,
    ``max_seq_length``; derived model files in ``model_cache_dir`` when set, else the machine
    cache), shared per process: indexing and search then embed alike.
    """
    import chromadb
    from shopagent.tools.catalog.search import ChromaCatalog

    cfg = config if isinstance(config, CatalogConfig) else CatalogConfig.of(config)
    if embedder is None:
        from shopagent.tools.embeddings import shared_embedder

        embedder = shared_embedder(
            cfg.embedder, max_seq_length=cfg.max_seq_length, cache_dir=cfg.model_cache_dir
        )

    if cfg.chroma_url:
        host, port, ssl = _parse_url(cfg.chroma_url)
        try:
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_chroma_settings())
        except Exception as exc:
            if _is_unreachable(exc):
                raise CatalogUnavailable(
                    f"cannot reach the Chroma server at {cfg.chroma_url}: {exc}"
                ) from exc
            raise
    else:
        path = cfg.chroma_dir
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    return ChromaCatalog(client, cfg.collection, embedder, stock_filter=stock_filter)

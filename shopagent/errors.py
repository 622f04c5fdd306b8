"""One error hierarchy. Every error says what went wrong and how to fix it."""

from __future__ import annotations


class ShopAgentError(Exception):
    """Root of all ShopAgent errors.

    ``hint`` tells the user how to fix the problem; the CLI prints it under the message.
    """

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  fix: {self.hint}" if self.hint else base


class ConfigError(ShopAgentError):
    """A setting is missing or invalid."""

    hint = "check SHOPAGENT_* environment variables and shopagent.toml"


class NothingToConfirm(ConfigError):
    """A confirmation was answered on a thread that waits for none."""

    hint = "only confirm after a turn returned a `confirmation`"


class ModelUnavailable(ShopAgentError):
    """The chat model cannot be built or does not answer."""

    hint = "run `make demo` to install the bundled model, or pick another with --model"


class StoreNotFound(ShopAgentError):
    """The store data (database or store directory) does not exist."""

    hint = "run `shopagent store demo` then `shopagent index` (or `make demo`)"


class IndexMissing(ShopAgentError):
    """The catalog search index has not been built."""

    hint = "run `shopagent index`"


class CatalogUnavailable(ShopAgentError):
    """The catalog search backend (Chroma) cannot be reached."""

    hint = "check SHOPAGENT_CHROMA_URL, or unset it to use the embedded index"


class InventoryUnavailable(ShopAgentError):
    """The price/stock API did not answer in time or returned an error."""

    hint = "check SHOPAGENT_INVENTORY_URL, or unset it to let the CLI start the API itself"


class NotVerified(ShopAgentError):
    """An order tool was called without a verified customer."""

    hint = "verify with email plus order number (or zip), or pass --customer EMAIL"


class StoreFormatError(ShopAgentError):
    """A store file does not match docs/store-format.md."""

    hint = "see docs/store-format.md for the expected files and fields"

    def __init__(self, message: str, *, file: str = "", line: int = 0, field: str = "") -> None:
        where = ":".join(str(p) for p in (file, line or "") if p)
        prefix = f"{where}: " if where else ""
        suffix = f" (field {field!r})" if field else ""
        super().__init__(f"{prefix}{message}{suffix}")
        self.file, self.line, self.field = file, line, field


class UpstreamError(ShopAgentError):
    """An HTTP service we depend on failed after bounded retries."""

    hint = "check that the service is running and reachable; retry later"


class ActionNotAllowed(ShopAgentError):
    """A write (return, cancellation) is not allowed by the store's rules."""

    hint = "check the order's status and the return policy"


class TurnTimeout(ShopAgentError):
    """A part of the turn did not finish within the turn's time budget."""

    hint = "raise SHOPAGENT_TURN_BUDGET_S, or check the slow dependency"


class StorageUnavailable(ShopAgentError):
    """A database (the store, or the conversation checkpoints) is busy or unreachable."""

    hint = (
        "retry in a moment; if it persists, check what holds the database's write lock "
        "(SQLite) or that PostgreSQL is reachable"
    )

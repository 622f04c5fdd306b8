"""What every ``shopagent`` command group shares: error display and quiet library logs."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console

from shopagent.errors import ShopAgentError

err = Console(stderr=True)

NOISY = ("httpx", "chromadb", "transformers", "sentence_transformers", "uvicorn", "bm25s")


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """ShopAgent errors, invalid settings and file system errors (a path too long,
    unreadable, ...) become a message plus fix on stderr and exit code 2, never a trace."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ShopAgentError as exc:
            message, _, _ = str(exc).partition("\n  fix:")
            err.print(f"[bold red]error:[/] {message}", highlight=False)
            if exc.hint:
                err.print(f"[yellow]fix:[/] {exc.hint}", highlight=False)
            raise typer.Exit(2) from None
        except ValidationError as exc:  # settings from SHOPAGENT_* / shopagent.toml
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or exc.title
            err.print(
                f"[bold red]error:[/] invalid setting {where}: {first.get('msg', exc)}",
                highlight=False,
            )
            err.print(
                "[yellow]fix:[/] check the SHOPAGENT_* environment variables and shopagent.toml",
                highlight=False,
            )
            raise typer.Exit(2) from None
        except OSError as exc:
            where = f" ({exc.filename!r})" if exc.filename else ""
            err.print(f"[bold red]error:[/] {exc.strerror or exc}{where}", highlight=False)
            err.print("[yellow]fix:[/] check the path and its permissions", highlight=False)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper


def quiet_logs(also: Iterable[str] = ()) -> None:
    """Warnings only, and errors only from chatty libraries (plus ``also``)."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    for noisy in (*NOISY, *also):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass

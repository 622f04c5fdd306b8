"""What every ``shopagent`` command group shares: error display and quiet library logs."""

from __future__ import annotations

import json
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


def error_parts(exc: BaseException) -> tuple[str, str] | None:
    """``(message, fix)`` for an error the user can fix: ShopAgent errors, invalid settings
    and file system errors (a path too long, unreadable, ...). None for anything else."""
    if isinstance(exc, ShopAgentError):
        return str(exc).partition("\n  fix:")[0], exc.hint
    if isinstance(exc, ValidationError):  # settings from SHOPAGENT_* / shopagent.toml
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or exc.title
        return (
            f"invalid setting {where}: {first.get('msg', exc)}",
            "check the SHOPAGENT_* environment variables and shopagent.toml",
        )
    if isinstance(exc, OSError):
        where = f" ({exc.filename!r})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}", "check the path and its permissions"
    return None


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Errors the user can fix (:func:`error_parts`) become a message plus fix on stderr and
    exit code 2, never a trace."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as exc:
            parts = error_parts(exc)
            if parts is None:
                raise
            err.print(f"[bold red]error:[/] {parts[0]}", highlight=False)
            if parts[1]:
                err.print(f"[yellow]fix:[/] {parts[1]}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def json_error(exc: BaseException) -> typer.Exit:
    """For ``--json`` commands: print ``{"error", "hint"}`` as the last line of stdout and
    return the exit to raise (code 2); errors that are bugs are raised as they are."""
    parts = error_parts(exc)
    if parts is None:
        raise exc
    print(json.dumps({"error": parts[0], "hint": parts[1]}, ensure_ascii=False))
    return typer.Exit(2)


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

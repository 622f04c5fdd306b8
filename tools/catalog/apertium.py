"""A word lexicon read from an installed Apertium language pair (``lexicon.WordLexicon``).

Apertium is a maintained rule-based translation platform; Debian packages its pairs
(``apt-get install apertium-eng-spa``). Whole-sentence translation of a shopper's query is
poor ("tienda de campaña" → "campaign shop"), but its two dictionaries are good at what the
glossary lacks, one word at a time: the analyser gives a word's lemma and part of speech
("mocasines" → ``mocasín<n><m><pl>``), the bilingual dictionary its English lemma
("moccasin"). Only nouns and adjectives are kept: a shopper's search is a noun phrase, and a
verb reading of a noun ("fundas" → "you melt") is the usual wrong guess.

Each dictionary runs as one long-lived ``lt-proc -z`` process (null-flushed: one word in,
one answer out, about 0.1 ms), started on the first lookup and shared under a lock. A missing
pair, a dead process or a slow answer makes the lexicon return nothing: search then reads the
glossary alone, as without Apertium.
"""

from __future__ import annotations

import logging
import re
import select
import shutil
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

DATA_DIRS = (Path("/usr/share/apertium"), Path("/usr/local/share/apertium"))
"""Where Debian's packages and Apertium's ``make install`` put the language pairs."""

TIMEOUT = 2.0
"""Seconds to wait for one answer before the lexicon is switched off."""

KEEP = ("<n>", "<adj>")
"""Parts of speech translated (Apertium tags)."""

_UNIT = re.compile(r"\^([^/$]*)/([^$]*)\$")


class _Process:
    """One ``lt-proc -z`` dictionary, asked one chunk at a time."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def ask(self, text: str) -> str:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        # A blank before the flush: the bilingual mode waits for one after the last unit.
        self.proc.stdin.write(text.replace("\0", " ").encode() + b"\n\0")
        self.proc.stdin.flush()
        out = b""
        while not out.endswith(b"\0"):
            ready, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
            chunk = self.proc.stdout.read1(65536) if ready else b""
            if not chunk:
                self.close()
                raise OSError(f"{self.args[0]} gave no answer")
            out += chunk
        return out[:-1].decode(errors="replace")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class ApertiumLexicon:
    """Words of the pair's source language → English lemmas (nouns and adjectives)."""

    def __init__(self, folder: Path, pair: str) -> None:
        self._analyser = _Process(["lt-proc", "-z", str(folder / f"{pair}.automorf.bin")])
        self._bilingual = _Process(["lt-proc", "-z", "-b", str(folder / f"{pair}.autobil.bin")])
        self._lock = threading.Lock()
        self._cache: dict[str, str | None] = {}
        self._broken = False

    @classmethod
    def installed(cls, pair: str) -> ApertiumLexicon | None:
        """The lexicon of ``pair`` ("spa-eng") when Apertium and the pair are installed."""
        if shutil.which("lt-proc") is None:
            return None
        source, target = pair.split("-")
        for root in DATA_DIRS:
            for name in (f"apertium-{source}-{target}", f"apertium-{target}-{source}"):
                folder = root / name
                if (folder / f"{pair}.automorf.bin").is_file():
                    return cls(folder, pair)
        return None

    def lookup(self, words: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        with self._lock:
            for word in dict.fromkeys(words):
                if word not in self._cache and not self._broken:
                    try:
                        self._cache[word] = self._word(word)
                    except OSError as exc:  # the glossary alone serves from here on
                        log.warning("Apertium lexicon switched off: %s", exc)
                        self._broken = True
                if english := self._cache.get(word):
                    out[word] = english
        return out

    def _word(self, word: str) -> str | None:
        for surface, readings in _UNIT.findall(self._analyser.ask(word)):
            for reading in readings.split("/"):
                if any(tag in reading for tag in KEEP) and " " not in surface:
                    return self._english(reading)
        return None

    def _english(self, reading: str) -> str | None:
        lemma = reading.split("<", 1)[0]
        tags = "".join(re.findall(r"<[^>]*>", reading))
        for _, answers in _UNIT.findall(self._bilingual.ask(f"^{lemma}{tags}$")):
            first = answers.split("/")[0]
            if first.startswith(("@", "*", "#")):
                return None
            english = re.sub(r"<[^>]*>", "", first).replace("#", "").replace("_", " ")
            return " ".join(english.split()) or None
        return None

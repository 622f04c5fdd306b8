"""Language detection on short shopper turns: accuracy and speed of the served-language
detector (agent/understanding/language.py) on benchmarks/data/language_utterances.yaml.

    python benchmarks/language_detection.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml
from shopagent.agent.understanding.language import detect_language

DATA = Path(__file__).parent / "data" / "language_utterances.yaml"


def main() -> None:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    threads = data.pop("threads")
    t0 = time.perf_counter()
    detect_language("warm up the detector")
    load_s = time.perf_counter() - t0
    per_lang: dict[str, list[int]] = {}
    misses: list[tuple[str, str, str]] = []
    t0 = time.perf_counter()
    count = 0
    for lang, texts in data.items():
        hits = per_lang.setdefault(lang, [0, 0])
        for text in texts:
            got = detect_language(text)
            count += 1
            hits[0] += got == lang
            hits[1] += 1
            if got != lang:
                misses.append((lang, text, got))
    ms = (time.perf_counter() - t0) / count * 1000
    thread_ok = thread_n = 0
    for thread in threads:
        previous = None
        for text, want in thread:
            previous = detect_language(text, previous)
            thread_ok += previous == want
            thread_n += 1
    out = {
        "accuracy": {k: round(v[0] / v[1], 3) for k, v in per_lang.items()},
        "overall": round(sum(v[0] for v in per_lang.values()) / count, 3),
        "thread_turns": f"{thread_ok}/{thread_n}",
        "ms_per_turn": round(ms, 3),
        "load_s": round(load_s, 2),
        "misses": misses,
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()

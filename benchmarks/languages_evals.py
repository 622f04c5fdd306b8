"""Task success of the zh and es suites against the English dialogs they mirror
(``benchmarks/data/language_mirrors.yaml``), all on one model and one embedder.

    .venv/bin/python benchmarks/languages_evals.py --run --out var/eval-runs/languages [-m local]
    .venv/bin/python benchmarks/languages_evals.py --out var/eval-runs/languages   # summary only

``--run`` runs ``shopagent eval run es zh`` and ``shopagent eval run <suites> -d <mirrors>``
with ``SHOPAGENT_EMBEDDER`` (default ``use-multilingual``, the embedder a shop serving zh/es
runs) into ``<out>/es-zh`` and ``<out>/en-mirror``; the summary reads their report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MIRRORS = ROOT / "benchmarks" / "data" / "language_mirrors.yaml"
EN_SUITES = (
    "search price_stock context compare product_question return_policy orders clarify returns "
    "cancel handoff greeting"
).split()


def _run(args: list[str], out: Path, model: str, embedder: str) -> None:
    env = {**os.environ, "SHOPAGENT_EMBEDDER": embedder, "HF_HUB_OFFLINE": "1"}
    cli = Path(sys.executable).parent / "shopagent"
    cmd = [str(cli), "eval", "run", *args, "-m", model, "--out", str(out)]
    print("$", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, env=env, cwd=ROOT, check=False)


def _success(report: Path, ids: set[str]) -> tuple[int, int, list[str]]:
    """Passed dialogs among ``ids`` (task success as the eval report counts it)."""
    from shopagent.evals.results import DialogRecord

    data = json.loads(report.read_text(encoding="utf-8"))
    rows = [DialogRecord.model_validate(d) for d in data["dialogs"] if d["id"] in ids]
    failed = [d.id for d in rows if not d.passed]
    return len(rows) - len(failed), len(rows), failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--run", action="store_true")
    parser.add_argument("-m", "--model", default="local")
    parser.add_argument("--embedder", default="use-multilingual")
    args = parser.parse_args(argv)
    mirrors: dict[str, str] = yaml.safe_load(MIRRORS.read_text(encoding="utf-8"))["mirrors"]
    english = sorted(set(mirrors.values()))
    if args.run:
        _run(["es", "zh"], args.out / "es-zh", args.model, args.embedder)
        globs = [x for d in english for x in ("-d", d)]
        _run([*EN_SUITES, *globs], args.out / "en-mirror", args.model, args.embedder)
    out = {}
    for lang in ("es", "zh"):
        ids = {f"{lang}-{k}" for k in mirrors}
        out[lang] = _success(args.out / "es-zh" / "report.json", ids)
    out["en (mirrored)"] = _success(args.out / "en-mirror" / "report.json", set(english))
    for name, (ok, total, failed) in out.items():
        print(f"{name:14} {ok}/{total} = {100 * ok / max(total, 1):.1f}%  failed: {failed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``report.json``: the whole run, machine-readable (``eval compare`` reads it back)."""

from __future__ import annotations

from pathlib import Path

from shopagent.evals.results import RunReport

from shopagent.errors import ConfigError

REPORT_JSON = "report.json"


def write_json(report: RunReport, out_dir: Path) -> Path:
    """Write ``report.json`` into ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_JSON
    path.write_text(report.model_dump_json(indent=1) + "\n", encoding="utf-8")
    return path


def load_report(path: Path) -> RunReport:
    """A run's report from its ``--out`` directory or its ``report.json``."""
    file = path / REPORT_JSON if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(
            f"no eval report at {file}",
            hint="pass the --out directory of a `shopagent eval run` (or its report.json)",
        )
    try:
        return RunReport.model_validate_json(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{file} is not an eval report: {str(exc)[:300]}") from None

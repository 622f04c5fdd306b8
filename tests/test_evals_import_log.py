"""``eval import-log``: logged conversations become anonymised dialog skeletons."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml
from shopagent.evals.cli import eval_app
from shopagent.evals.import_log import import_log
from shopagent.evals.loader import parse_file
from typer.testing import CliRunner

from shopagent.errors import ConfigError

LOG = """conversation_id,timestamp,role,message
c-1,2026-11-02T10:00:01,user,Hi! Where is my order SA-100234?
c-1,2026-11-02T10:00:02,assistant,Please give me your email.
c-1,2026-11-02T10:00:04,user,"It's jane.doe@example.com, zip code 60614"
c-1,2026-11-02T10:00:03,assistant,Thanks.
c 2,2026-11-02T11:00:00,customer,Do you sell gooseneck kettles?
c 2,2026-11-02T11:00:09,user,
"""


def test_import_anonymises_and_validates(tmp_path: Path) -> None:
    source = tmp_path / "support-log.csv"
    source.write_text(LOG)
    text, stats = import_log(source)
    assert (stats.conversations, stats.turns, stats.skipped_rows) == (2, 3, 3)
    assert "jane.doe" not in text and "SA-100234" not in text and "60614" not in text
    data = yaml.safe_load(text)
    first, second = data["dialogs"]
    assert first["id"] == "support-log-c-1" and "todo" in first["tags"]
    assert first["vars"] == {"c1": "customer", "o1": "order: owner=c1"}
    assert [t["user"] for t in first["turns"]] == [
        "Hi! Where is my order {o1.number}?",
        "It's {c1.email}, zip code {c1.zip}",
    ]
    assert second["turns"] == [{"user": "Do you sell gooseneck kettles?", "expect": {}}]
    out = tmp_path / "imported.yaml"
    out.write_text(text)
    assert [d.id for d in parse_file(out)] == ["support-log-c-1", "support-log-c-2"]


def test_guessed_intents_and_errors(tmp_path: Path) -> None:
    source = tmp_path / "log.csv"
    source.write_text("session_id,text\n1,hello there\n")
    text, _ = import_log(source, prefix="Week 47", guess_intent=lambda m: "greeting")
    data = yaml.safe_load(text)
    assert data["suite"] == "week-47"
    assert data["dialogs"][0]["turns"][0]["expect"] == {"intent": "greeting"}
    bad = tmp_path / "bad.csv"
    bad.write_text("who,what\n1,hi\n")
    with pytest.raises(ConfigError, match="no conversation_id column"):
        import_log(bad)


def test_cli(tmp_path: Path) -> None:
    source = tmp_path / "log.csv"
    source.write_text(LOG)
    app = typer.Typer()
    app.add_typer(eval_app, name="eval")
    out = tmp_path / "dialogs" / "log.yaml"
    result = CliRunner().invoke(app, ["eval", "import-log", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(parse_file(out)) == 2

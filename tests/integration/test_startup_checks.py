"""At start-up the bot checks the knowledge's ``tests:`` with the matcher it will use."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import build
from bot.cli import main
from bot.settings import load_settings

KNOWLEDGE = """\
product: Toasters
entries:
  - id: toast-burns
    title: The toast comes out burnt
    symptoms: [my toast is always burnt, the toaster burns the bread]
    fix: Turn the browning dial down to 3.
    tests: [toast comes out black, my parrot sings opera]
  - id: toaster-stuck
    title: The lever does not stay down
    symptoms: [the lever pops straight back up, toaster lever won't stay down]
    fix: Plug the toaster in; the lever only holds with power.
"""


def test_a_test_phrasing_that_misses_is_logged_and_the_bot_still_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "toasters.yaml").write_text(KNOWLEDGE, encoding="utf-8")
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'db'}", knowledge_dir=kb)
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        app = build(settings)
    assert app.conversations.services.knowledge.get("toast-burns") is not None
    misses = [r.getMessage() for r in caplog.records if "knowledge test misses" in r.getMessage()]
    assert len(misses) == 1, misses
    assert "toasters.yaml › toast-burns › tests: 'my parrot sings opera'" in misses[0]
    assert "matcher · thresholds: answer" in misses[0]


def test_the_bot_does_not_start_on_knowledge_with_a_key_given_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the bot refuses at start is what kb validate and /reload refuse, in their words."""
    kb = tmp_path / "kb"
    kb.mkdir()
    repeated = KNOWLEDGE.replace(
        "    fix: Turn the browning dial down to 3.\n",
        "    fix: Turn the browning dial down to 3.\n    fix: Unplug it.\n",
    )
    (kb / "toasters.yaml").write_text(repeated, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:test")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db'}")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(kb))
    monkeypatch.setenv("MATCHER", "lexical")

    assert main(["run"]) == 2

    assert capsys.readouterr().err.splitlines() == [
        "supportbot: the knowledge files have 1 problem(s):",
        "  toasters.yaml › toast-burns › fix: given twice (lines 6 and 7); keep one",
    ]

"""At start-up the bot checks the knowledge's ``tests:`` with the matcher it will use."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import build
from bot.settings import load_settings

KNOWLEDGE = """\
product: Toasters
entries:
  - id: toast-burns
    title: The toast comes out burnt
    symptoms: [my toast is always burnt, the toaster burns the bread]
    fix: Turn the browning dial down to 3.
    tests: [toast comes out black, the weather in rome]
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
    assert "toasters.yaml › toast-burns › tests: 'the weather in rome'" in misses[0]
    assert "matcher · thresholds: answer" in misses[0]

"""The running bot picks up edited knowledge files, and keeps the old ones if broken."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bot.app import build
from bot.settings import load_settings

FILE = """\
product: Kettles
entries:
  - id: kettle-leaks
    title: Water leaks from the kettle
    symptoms: [there is water under my kettle, the kettle is leaking]
    fix: Do not fill above MAX.
"""
MORE = """\
  - id: kettle-smells
    title: The kettle smells of plastic
    symptoms: [my kettle smells of plastic, the water tastes like plastic]
    fix: Boil and discard water three times.
"""


def touch_later(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a visibly newer file


def test_edits_are_reloaded_and_broken_edits_keep_the_old(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "kettles.yaml").write_text(FILE, encoding="utf-8")
    app = build(load_settings(database_url=f"sqlite:///{tmp_path / 'db'}", knowledge_dir=kb))
    assert app.knowledge_watch.check() is False  # nothing changed yet

    touch_later(kb / "kettles.yaml", FILE + MORE)
    assert app.knowledge_watch.check() is True
    services = app.conversations.services
    assert services.knowledge.get("kettle-smells") is not None
    best = services.matcher.match("my kettle smells of plastic").best
    assert best is not None and best.entry_id == "kettle-smells"

    with caplog.at_level(logging.ERROR):
        touch_later(kb / "kettles.yaml", FILE + MORE + "  - id: Bad Id\n")
        assert app.knowledge_watch.check() is False
    assert app.conversations.services is services  # still the last good knowledge
    assert "kettles.yaml › Bad Id › fix" in caplog.text

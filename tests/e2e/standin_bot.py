"""``python -m tests.e2e.standin_bot run``: the real ``supportbot`` command line, with the
follow-ups run through ``tests.followup_standin`` until ``flows.followup`` lands."""

from __future__ import annotations

import dataclasses
import sys

import bot.app
from bot.cli import main
from bot.clock import Clock
from bot.settings import Settings
from tests.followup_standin import StandInFollowUps

_build = bot.app.build


def build(settings: Settings, *, clock: Clock | None = None) -> bot.app.App:
    app = _build(settings, clock=clock)
    return dataclasses.replace(app, followups=StandInFollowUps(app.clock))


bot.app.build = build

if __name__ == "__main__":
    sys.exit(main())

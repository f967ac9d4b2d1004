"""Fixtures for end-to-end tests against the fake Telegram Bot API."""

from collections.abc import Iterator

import pytest

from tests.e2e.fake_bot_api import FakeBotApi


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    """A started :class:`FakeBotApi`; stopped after the test."""
    fake = FakeBotApi().start()
    try:
        yield fake
    finally:
        fake.stop()

"""A week of scripted traffic through the real bot and the fake Bot API, then
``supportbot report --json`` must give exactly the counts of that traffic.

The bot's clock is moved a day at a time (``SUPPORTBOT_TEST_CLOCK_SHIFT_FILE``), so the
follow-ups fall due as they would over a week: 24 hours after each resolution.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.botprocess import AGENT_CHAT, BotProcess
from tests.e2e.conftest import KETTLES
from tests.e2e.fake_bot_api import FakeBotApi, JSONDict
from tests.e2e.test_report_html import CHROMIUM, render

DAY = 86_400
BEA = 777  # an admin, so an agent too
CRACKED = """\
  - id: kettle-arrived-cracked
    title: Kettle arrived cracked
    kind: replacement
    symptoms:
      - my kettle arrived cracked
      - the kettle came broken in the box
    fix: We're sorry it arrived like that.
    replacement: {within_days: 30}
"""


class Chat:
    """One customer: says something or presses a button, then waits for the bot's answer."""

    def __init__(self, fake: FakeBotApi, chat_id: int, name: str) -> None:
        self.fake, self.chat_id, self.name = fake, chat_id, name

    def sent(self) -> list[JSONDict]:
        return self.fake.sent_messages(self.chat_id)

    def wait_for(self, part: str, after: int = 0, timeout: float = 30) -> JSONDict:
        """The first message (after the first ``after``) whose text holds ``part``."""

        def found() -> JSONDict | None:
            return next((m for m in self.sent()[after:] if part in m["text"]), None)

        ok = self.fake._wait(lambda: found() is not None, timeout)
        assert ok, f"{self.name} never read {part!r}; got {[m['text'] for m in self.sent()]}"
        message = found()
        assert message is not None
        return message

    def say(self, text: str, expect: str) -> JSONDict:
        before = len(self.sent())
        self.fake.push_text(self.chat_id, text, first_name=self.name)
        return self.wait_for(expect, before)

    def press(self, label_part: str, expect: str, message: JSONDict | None = None) -> JSONDict:
        message = message or self.sent()[-1]
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        labels = [b for row in rows for b in row]
        exact = [b for b in labels if b["text"] == label_part]
        data = next((b["callback_data"] for b in exact or labels if label_part in b["text"]), None)
        assert data is not None, f"no {label_part!r} button in {message}"
        before = len(self.sent())
        self.fake.push_callback(self.chat_id, data, message["message_id"], first_name=self.name)
        return self.wait_for(expect, before)


@pytest.fixture
def week(fake_api: FakeBotApi, tmp_path: Path) -> Iterator[tuple[BotProcess, Path]]:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "kettles.yaml").write_text(KETTLES + CRACKED, encoding="utf-8")
    shift = tmp_path / "clock-shift"
    shift.write_text("0", encoding="utf-8")
    process = BotProcess(
        fake_api,
        tmp_path,
        KNOWLEDGE_DIR=str(knowledge),
        ADMIN_IDS=str(BEA),
        QUIET_HOURS="",
        SUPPORTBOT_TEST_CLOCK_SHIFT_FILE=str(shift),
    ).start()
    try:
        yield process, shift
    finally:
        if process.alive():
            process.kill()


def topic_of(fake: FakeBotApi, name: str) -> int:
    """The thread of the customer's topic in the team's chat, once the bot has opened it."""

    def mine() -> list[JSONDict]:
        return [t for t in fake.topics(AGENT_CHAT) if t["name"].endswith(f"· {name}")]

    assert fake._wait(lambda: bool(mine()), 30), fake.topics(AGENT_CHAT)
    [topic] = mine()
    thread = int(topic["message_thread_id"])

    def card() -> bool:  # posted once the bot has stored the topic: agents can answer now
        return any(m.get("message_thread_id") == thread for m in fake.sent_messages(AGENT_CHAT))

    assert fake._wait(card, 30), fake.sent_messages(AGENT_CHAT)
    return thread


def in_topic(fake: FakeBotApi, thread: int, text: str) -> None:
    fake.push_text(AGENT_CHAT, text, user_id=BEA, first_name="Bea", message_thread_id=thread)


def report(bot: BotProcess, *args: str) -> Any:
    done = bot.cli("report", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def test_a_week_of_traffic_is_reported_exactly(
    fake_api: FakeBotApi, week: tuple[BotProcess, Path], tmp_path: Path
) -> None:
    bot, shift = week
    ann, bob, cat = (
        Chat(fake_api, 101, "Ann"),
        Chat(fake_api, 102, "Bob"),
        Chat(fake_api, 103, "Cat"),
    )
    dan, eve = Chat(fake_api, 104, "Dan"), Chat(fake_api, 105, "Eve")

    # day 0: two problems solved by the bot; one question it cannot answer goes to Bea
    ann.say("my kettle does not heat the water", "Did this fix it?")
    ann.press("Yes", "glad")
    bob.say("there is water under my kettle", "Did this fix it?")
    bob.press("Yes", "glad")
    cat.say("can I buy it in blue", "describe it another way")
    cat.say("do you sell it in blue", "passed this to our support team")
    thread = topic_of(fake_api, "Cat")
    in_topic(fake_api, thread, "Not yet, but soon!")
    cat.wait_for("Not yet, but soon!")
    in_topic(fake_api, thread, "/resolve")
    cat.wait_for("marked your request")

    # day 1: the follow-ups of day 0; a cracked kettle replaced; another blue-kettle question
    shift.write_text(str(DAY + 3600), encoding="utf-8")
    ann.wait_for("Is everything working now?")
    ann.press("Yes", "How would you rate")
    ann.press("⭐" * 5, "Anything you'd like to tell us")
    bob.wait_for("Is everything working now?")
    bob.press("Yes", "How would you rate")
    bob.press("⭐" * 4, "Anything you'd like to tell us")
    cat.wait_for("Is everything working now?")
    cat.press("No", "")  # back to the team: reopened
    dan.say("my kettle arrived cracked", "order number?")
    dan.say("A-12345", "When did you buy it")
    dan.say("yesterday", "requested a replacement for order")
    in_topic(fake_api, topic_of(fake_api, "Dan"), "/approve")
    dan.wait_for("is approved")
    eve.say("is it sold in blue", "describe it another way")
    eve.say("how much is shipping to Canada", "passed this to our support team")

    # days 2 to 6: nothing more happens; the report looks back a week from day 6
    shift.write_text(str(6 * DAY), encoding="utf-8")
    # Bea, an admin, asks in Telegram
    bea = Chat(fake_api, BEA, "Bea")
    stats = bea.say("/stats 7d", "The last 7 days")["text"]
    for line in (
        "Requests: 5",
        "Solved by the bot: 40% (2)",
        "Handed to a person: 40% (2)",
        "Satisfaction: 4.5 ★ from 2",
        "Reopened: 25% (1)",
        "Questions the knowledge missed: 4",
    ):
        assert line in stats, stats
    unmatched = bea.say("/unmatched", "Questions the knowledge missed")["text"]
    assert "7 days</b>: 4, in 2 groups" in unmatched, unmatched
    assert "<b>3×</b>" in unmatched and "“is it sold in blue”" in unmatched
    assert "a candidate for a new one" in unmatched

    page = tmp_path / "week.html"
    figures = report(bot, "--since", "7d", "--json", "--html", str(page))
    assert bot.stop() == 0

    assert figures["tickets"]["total"] == 5
    statuses = {k: v for k, v in figures["tickets"]["by_status"].items() if v}
    assert statuses == {"resolved": 3, "reopened": 1, "waiting_agent": 1}  # Ann Bob Dan; Cat; Eve
    assert figures["bot_resolved"] == {"count": 2, "share": 0.4}  # Ann, Bob
    assert figures["handoffs"] == {"count": 2, "rate": 0.4, "by_reason": {"no_match": 2}}
    assert figures["first_response"]["count"] == 1  # Bea answered Cat; nobody Eve yet
    assert figures["csat"] | {"average": round(figures["csat"]["average"], 2)} == {
        "count": 2,
        "average": 4.5,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
    }
    assert figures["reopen"] == {"reopened": 1, "resolved": 4, "rate": 0.25}  # Cat, of 4
    assert figures["replacements"] == {"requested": 1, "approved": 1, "denied": 0, "pending": 0}
    assert figures["followups"] == {"sent": 3, "answered": 3, "expired": 0, "unanswered": 0}
    outcomes = {e["id"]: (e["offered"], e["fixed"], e["failed"]) for e in figures["entries"]}
    assert outcomes == {
        "kettle-does-not-heat": (1, 1, 0),
        "kettle-leaks": (1, 1, 0),
        "kettle-arrived-cracked": (1, 0, 0),
    }
    days = figures["days"]
    assert len(days) == 8  # the week's days, the first and last partly
    totals = {k: sum(d[k] for d in days) for k in days[0] if k != "date"}
    assert totals == {"bot_resolved": 2, "agent_resolved": 0, "replaced": 1, "open": 2, "closed": 0}

    unmatched = figures["unmatched"]
    assert unmatched["count"] == 4 and unmatched["by_reason"]["unknown"] == 4
    blue, shipping = unmatched["groups"]
    assert blue["size"] == 3 and set(blue["examples"]) == {
        "can I buy it in blue",
        "do you sell it in blue",
        "is it sold in blue",
    }
    assert blue["verdict"] == "new_entry"
    assert shipping["examples"] == ["how much is shipping to Canada"]

    if CHROMIUM is None:  # the figures are checked; the page needs a browser
        pytest.skip("no chromium on PATH: install Debian's chromium to render the HTML report")
    rendered = render(page, tmp_path / "chromium")
    assert all(chart.svgs >= 1 for chart in rendered.charts.values()), rendered.charts
    assert sum(b > 0 for b in rendered.charts["chart-csat"].lengths()) == 2  # 4 and 5 stars
    assert len(rendered.charts["chart-unmatched"].bars) == 2  # the two groups

"""The terminal channel as a newcomer uses it: `supportbot chat`, scripted on stdin."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BUTTON_ROW = re.compile(r"^ {6}\[\d+\] ")


def chat(tmp_path: Path, typed: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", *args],
        input=typed,
        env={
            **clean,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
            "MATCHER": "lexical",
            **env,
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def bot_messages(stdout: str) -> list[str]:
    """The bot's messages in a chat transcript, in order, without their button rows.

    A message starts with ``bot › `` and goes on over lines indented by six spaces; the
    ``[1] label`` rows under it are buttons, and everything else (``you › ``, notes, notices to
    the support team) is not the bot talking to the customer.
    """
    messages: list[list[str]] = []
    current: list[str] | None = None
    for line in stdout.splitlines():
        if line.startswith("bot › "):
            current = [line.removeprefix("bot › ")]
            messages.append(current)
        elif current is not None and line.startswith(" " * 6) and not BUTTON_ROW.match(line):
            current.append(line[6:])
        else:
            current = None
    return ["\n".join(lines) for lines in messages]


def test_bot_messages_leave_out_buttons_and_other_lines() -> None:
    transcript = (
        "(picking up where we left off; /start begins anew)\n"
        "you › no\n"
        "bot › Let's try something else: Wi-Fi\n"
        "      \n"
        "      1. Restart the router.\n"
        "bot › Did this fix it?\n"
        "      [1] ✅ Yes, it's fixed   [2] ❌ No, still broken\n"
        "      [3] 🙋 Talk to a person\n"
        "[to the support team] 🆕 T-00001 needs a person\n"
    )
    assert bot_messages(transcript) == [
        "Let's try something else: Wi-Fi\n\n1. Restart the router.",
        "Did this fix it?",
    ]


def test_a_demo_problem_in_the_customers_own_words_is_resolved(tmp_path: Path) -> None:
    result = chat(tmp_path, "my earbuds won't connect to my phone\n1\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Headphones do not pair over Bluetooth" in out
    assert "[1] ✅ Yes, it's fixed" in out
    assert "so glad it works again" in out
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("typed", "args", "asked"),
    [
        ("it's broken", (), "Did you mean one of these?"),
        ("my speaker smells like burning plastic", (), "Did you mean one of these?"),
        ("сломалось", ("--lang", "ru"), "Вы имели в виду что-то из этого?"),
    ],
)
def test_a_message_that_says_too_little_gets_a_question_not_a_fix(
    tmp_path: Path, typed: str, args: tuple[str, ...], asked: str
) -> None:
    """The trial's "it's broken" was shown the cracked-watch fix and asked for an order number
    for a replacement; now the customer is asked which problem they mean."""
    result = chat(tmp_path, f"{typed}\n", *args)
    assert result.returncode == 0, result.stderr
    messages = bot_messages(result.stdout)
    assert asked in messages[-1], messages
    assert not any("order number" in m or "номер заказа" in m for m in messages), messages


def test_the_chat_resumes_from_the_database(tmp_path: Path) -> None:
    chat(tmp_path, "my earbuds won't connect to my phone\n")
    result = chat(tmp_path, "2\n")  # a new process: the open question is shown again ...
    assert "picking up where we left off" in result.stdout
    shown, answered = bot_messages(result.stdout)
    assert shown == "Did this fix it?"
    # ... so "2" presses its "No": the other candidates are other products (a speaker, a
    # watch): a person, not their fixes
    assert answered.startswith("I've passed this to our support team"), answered
    assert "[to the support team]" in result.stdout
    result = chat(tmp_path, "any news?\n")  # with a person now: no buttons to show again
    assert "picking up where we left off" in result.stdout
    assert "Did this fix it?" not in result.stdout


def test_buttons_by_label_commands_and_a_person(tmp_path: Path) -> None:
    result = chat(tmp_path, "my earbuds won't connect to my phone\ntalk to a person\n/status\n")
    out = result.stdout
    assert "passed this to our support team" in out
    assert "[to the support team]" in out
    assert "waiting for a person" in out


def test_bad_knowledge_stops_with_file_entry_field(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "broken.yaml").write_text(
        "product: Kettles\nentries:\n  - id: kettle-cold\n    title: Cold\n    symptoms: []\n"
        "    fix: Wipe it.\n",
        encoding="utf-8",
    )
    result = chat(tmp_path, "hello\n", KNOWLEDGE_DIR=str(kb))
    assert result.returncode == 2
    assert "broken.yaml › kettle-cold › symptoms" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_setting_stops_with_one_line(tmp_path: Path) -> None:
    result = chat(tmp_path, "", AGENT_CHAT_ID="the-agents")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "supportbot: Setting AGENT_CHAT_ID: Input should be a valid integer, unable to parse"
        " string as an integer (got 'the-agents')"
    ]


def test_a_replacement_with_a_relative_date_and_an_order_number_as_typed(tmp_path: Path) -> None:
    typed = "my watch won't turn on\n2\nhelp\norder nw 123456\ntwo weeks ago\n"
    result = chat(tmp_path, typed, MAX_FIX_ATTEMPTS="1")  # no second fix: the replacement
    assert result.returncode == 0, result.stderr
    said = bot_messages(result.stdout)
    assert said[-4].startswith("I'm sorry that didn't do it. Good news: this product can")
    assert said[-3].startswith("Hmm, I couldn't read that as an order number")  # "help"
    assert said[-2].startswith("Thank you! When did you buy it?")
    assert said[-1].startswith("All set: I've requested a replacement for order NW-123456.")
    # the team's card: the date two weeks before the bot's today, whatever day that is
    assert "Order: NW-123456, bought " in result.stdout
    assert "(14 days ago, limit 30 days)" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_shops_date_order_and_order_number_pattern_are_used(tmp_path: Path) -> None:
    typed = "my watch won't turn on\n2\nNW-1234\n01/02/2020\n1\n"
    env = {"MAX_FIX_ATTEMPTS": "1", "DATE_ORDER": "MDY", "ORDER_NUMBER_PATTERN": r"NW\d{4}"}
    result = chat(tmp_path, typed, **env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # MDY reads January 2 first; both readings are long past, so the customer is asked
    assert "did you mean January 2, 2020 or February 1, 2020?" in out
    assert "[1] 📅 January 2, 2020" in out and "[2] 📅 February 1, 2020" in out
    assert "past the replacement window of 30 days" in out
    assert "Order: NW1234" in out  # the shop's pattern wants no hyphen
    with sqlite3.connect(tmp_path / "chat.db") as db:
        [(bought,)] = db.execute("SELECT purchase_date FROM ticket").fetchall()
    assert bought == "2020-01-02"  # "1" pressed: the first reading


def test_the_terminal_plays_the_team_so_a_person_does_reply(tmp_path: Path) -> None:
    typed = (
        "/team hello?\n"  # nothing is with the team yet
        "my earbuds won't connect to my phone\n/human\n"
        "/team Hi, I'm on it. Which phone is it?\nan old iphone\n/team /resolve\n/status\n"
    )
    result = chat(tmp_path, typed)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[no request is with the support team now" in out
    said = bot_messages(out)
    assert said[-4] == "Sam from our team: Hi, I'm on it. Which phone is it?"
    assert said[-3].startswith("Thanks, I've added this to request T-00001")
    assert said[-2].startswith("Our team has marked your request T-00001 as solved")
    assert said[-1].endswith("· solved")
    assert "[to the support team] 💬 T-00001 customer (id 1): an old iphone" in out
    assert "[to the support team] ✅ T-00001 resolved by Sam" in out


def test_a_russian_customer_in_the_terminal(tmp_path: Path) -> None:
    typed = (
        "мои наушники не коннектятся к телефону\n1\n"  # the demo's Russian translation
        "хочу поговорить с живым человеком\n/language\n1\n"
    )
    result = chat(tmp_path, typed, "--lang", "ru")
    assert result.returncode == 0, result.stderr
    said = bot_messages(result.stdout)
    assert said[0].startswith("Здравствуйте!")
    assert said[1].startswith("Кажется, я знаю, в чём дело: Наушники не подключаются по Bluetooth")
    assert said[2] == "Помогло?"
    assert said[3].startswith("Как здорово, что всё снова работает!")  # "1": yes, fixed
    assert "T-00002" in said[4] and re.search("[а-я]{5}", said[4]), said[4]
    assert "language: ru" in result.stdout  # on the team's card, which stays in English
    assert said[-2].startswith("На каком языке")
    assert said[-1].startswith("Okay, I'll write in English")


def test_with_escalation_off_status_and_the_banner_promise_no_team(tmp_path: Path) -> None:
    """ESCALATION=off: a noted replacement is not "waiting for confirmation" (nobody here
    confirms it), /status says how to reach the shop, and the terminal offers no team role."""
    typed = "my headphones won't charge\n2\n2\n2\nNW 123456\nlast week\n/status\n/team /approve\n"
    contact = "support@shop.example"
    result = chat(tmp_path, typed, ESCALATION="off", SUPPORT_CONTACT=contact)
    assert result.returncode == 0, result.stderr
    said = bot_messages(result.stdout)
    assert any(m.startswith("I've noted your replacement request for order NW-1") for m in said)
    [status] = [m for m in said if m.startswith("Your requests:")]
    assert "T-00001 · my headphones won't charge · replacement request saved for the shop" in status
    assert "waiting for confirmation" not in status
    assert f"contact the shop at {contact}" in status
    assert "you are the support team too" not in result.stdout
    assert "[ESCALATION=off: there is no support team in this chat" in result.stdout
    with sqlite3.connect(tmp_path / "chat.db") as db:
        [(state,)] = db.execute("SELECT status FROM ticket").fetchall()
    assert state == "replacement_requested"  # /team /approve did nothing

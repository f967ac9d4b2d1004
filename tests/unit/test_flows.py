"""Every conversation transition, on fakes of the ports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.escalation import topic_name
from flows.model import (
    ChatId,
    ClearButtons,
    CopyToAgents,
    MediaKind,
    NotifyAgents,
    OpenTopic,
    Person,
    Reply,
    State,
    Ticket,
    TicketId,
    TicketStatus,
)

from .fakes import Harness

PAIRING = "my headphones will not pair with my phone"
T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
TABLE = {
    PAIRING: [("pairing", 88.0), ("reset", 60.0), ("charging", 30.0)],
    "something about sound": [("reset", 55.0), ("pairing", 50.0), ("delivery", 20.0)],
    "the moon is made of cheese": [("delivery", 12.0)],
}


@pytest.fixture
def bot() -> Harness:
    return Harness(TABLE)


def test_start_greets_by_name_escaped(bot: Harness) -> None:
    bot.command("start")
    assert "Hi Ann &lt;b&gt;!" in bot.said()
    assert bot.conversation().state is State.DESCRIBE


def test_confident_match_shows_fix_and_asks(bot: Harness) -> None:
    bot.text(PAIRING)
    said = bot.said()
    assert "Headphones do not pair" in said and "Hold the power button" in said
    assert "Did this fix it?" in said
    assert bot.conversation().state is State.CONFIRM
    [ticket] = bot.tickets()
    assert ticket.status is TicketStatus.OPEN and ticket.entry_id == "pairing"
    assert ticket.summary == PAIRING


def test_yes_resolves_ticket(bot: Harness) -> None:
    bot.text(PAIRING)
    bot.press(bot.button("Yes"))
    assert "glad it works" in bot.said()
    [ticket] = bot.tickets()
    assert ticket.status is TicketStatus.RESOLVED
    assert bot.conversation().state is State.DESCRIBE and bot.conversation().ticket_id is None
    assert ClearButtons(bot.person.chat_id, 1) in bot.last


def test_typed_yes_and_no_count_as_answers(bot: Harness) -> None:
    bot.text(PAIRING)
    bot.text("Nope")
    assert "Reset the headphones" in bot.said()
    bot.text("yes!")
    assert bot.tickets()[0].status is TicketStatus.RESOLVED


def test_other_text_while_confirming_asks_again_with_buttons(bot: Harness) -> None:
    bot.text(PAIRING)
    bot.text("the light blinks red")
    assert "did that fix it" in bot.said().lower()
    assert bot.button("Yes")
    assert bot.conversation().state is State.CONFIRM


def test_no_shows_next_candidate_then_replacement(bot: Harness) -> None:
    bot.text(PAIRING)
    bot.press(bot.button("No"))
    assert "Let's try something else" in bot.said() and "Reset the headphones" in bot.said()
    bot.press(bot.button("No"))
    # "charging" scored under the suggest floor, so it is not offered; pairing allows replacement
    assert "order number" in bot.said()
    assert bot.conversation().state is State.ORDER_NUMBER
    tried = [t["id"] for t in bot.tickets()[0].tried]
    assert tried == ["pairing", "reset"]


def test_replacement_within_window_is_recorded_with_reference(bot: Harness) -> None:
    bot.text(PAIRING)
    bot.press(bot.button("No"))
    bot.press(bot.button("No"))
    bot.text("what?")
    assert "couldn't read that as an order number" in bot.said()
    bot.text("#nw-123456")
    assert "When did you buy it?" in bot.said()
    bot.text("a while back")
    assert "couldn't read that as a date" in bot.said()
    bot.text("next year")
    assert "still ahead" in bot.said()
    bot.text((bot.clock.now() + timedelta(days=3)).date().isoformat())
    assert "still ahead" in bot.said()
    bot.text("10 days ago")
    [ticket] = bot.tickets()
    assert ticket.status is TicketStatus.REPLACEMENT_REQUESTED
    assert ticket.order_number == "NW-123456"
    assert f"reference is <b>{ticket.ref}</b>" in bot.said()
    assert "NW-123456" in bot.notices()[0] and "10 days ago" in bot.notices()[0]
    assert bot.conversation().state is State.WITH_AGENT


def test_replacement_outside_window_goes_to_a_person(bot: Harness) -> None:
    bot.text(PAIRING)
    bot.press(bot.button("No"))
    bot.press(bot.button("No"))
    bot.text("NW-1")  # too short
    bot.text("NW-99999")
    bot.text("2026-01-02")
    assert "past the replacement window of 30 days" in bot.said()
    assert "passed this to our support team" in bot.said()
    assert bot.tickets()[0].status is TicketStatus.WAITING_AGENT
    assert "outside the replacement window" in bot.notices()[0]


def test_no_on_entry_without_replacement_escalates(bot: Harness) -> None:
    h = Harness({"sound": [("reset", 90.0)]})
    h.text("sound")
    h.press(h.button("No"))
    assert h.conversation().state is State.WITH_AGENT
    assert h.tickets()[0].status is TicketStatus.WAITING_AGENT
    card = h.notices()[0]
    assert "reset (90) ✗ not fixed" in card and "did not help" in card


def test_the_card_tells_the_team_everything_gathered() -> None:
    h = Harness({"sound": [("reset", 90.0), ("pairing", 80.0)]})
    h.person = Person(ChatId(42), 42, name="Ann", username="ann", language="es")
    h.text("sound")
    h.press(h.button("No"))  # reset: not fixed
    h.clock.advance(minutes=12)
    h.command("human")  # while the second fix is on screen: no answer to it
    card = h.notices()[0]
    assert "Customer: Ann @ann (id 42) · language: es" in card
    assert "Tried: reset (90) ✗ not fixed, pairing (80) no answer" in card
    assert "Order: none · bought: none · replacement: none" in card
    assert "With us for: 12 minutes" in card


def test_attempts_are_capped(bot: Harness) -> None:
    table = {"x y z": [("reset", 90.0), ("charging", 80.0), ("delivery", 75.0)]}
    h = Harness(table, max_attempts=1)
    h.text("x y z")
    h.press(h.button("No"))
    assert h.conversation().state is State.WITH_AGENT


def test_middle_band_offers_did_you_mean(bot: Harness) -> None:
    bot.text("something about sound")
    assert "Did you mean" in bot.said()
    question = bot.last[0]
    assert isinstance(question, Reply)
    labels = [b.label for r in question.buttons for b in r]
    assert labels[:2] == ["Reset the headphones", "Headphones do not pair"]
    assert "None of these" in labels and any("person" in label for label in labels)
    assert bot.conversation().state is State.CHOOSE
    bot.press(bot.button("Headphones do not pair"))
    assert "Hold the power button" in bot.said()
    assert bot.tickets()[0].entry_id == "pairing"


def test_none_of_these_asks_to_rephrase_then_escalates(bot: Harness) -> None:
    bot.text("something about sound")
    bot.press(bot.button("None of these"))
    assert "describe it another way" in bot.said()
    assert bot.conversation().state is State.DESCRIBE
    bot.text("something about sound")
    bot.press(bot.button("None of these"))
    assert bot.conversation().state is State.WITH_AGENT
    [ticket] = bot.tickets()
    assert ticket.summary == "something about sound\nsomething about sound"


def test_unknown_asks_to_rephrase_once_then_escalates(bot: Harness) -> None:
    bot.text("the moon is made of cheese")
    assert "don't have an answer for that yet" in bot.said()
    assert bot.conversation().state is State.DESCRIBE
    bot.text("the moon is made of cheese")
    assert "couldn't find the answer myself" in bot.said()
    assert "no matching fix" in bot.notices()[0]
    assert bot.conversation().state is State.WITH_AGENT


def test_talk_to_a_person_works_from_any_message(bot: Harness) -> None:
    bot.text(PAIRING)
    human = bot.button("person")
    bot.text("the light blinks red")  # newer buttons now; the old one still works
    bot.press(human)
    assert bot.conversation().state is State.WITH_AGENT
    assert "the customer asked for a person" in bot.notices()[0]
    bot.press(human)
    assert "already with our team" in bot.said()


def test_a_hand_over_opens_the_tickets_topic_before_its_card(bot: Harness) -> None:
    bot.text(PAIRING)
    bot.command("human")
    [ticket] = bot.tickets()
    assert ticket.id is not None
    team = [e for e in bot.last if isinstance(e, OpenTopic | NotifyAgents)]
    name = bot.person.name  # plain text in a topic name: nothing escaped
    assert team[0] == OpenTopic(ticket.id, f"{ticket.ref} · {PAIRING} · {name}")
    assert isinstance(team[1], NotifyAgents) and team[1].card
    assert team[1].ticket_id == ticket.id and ticket.ref in team[1].text


def test_a_topic_name_fits_telegrams_limit_and_says_who_and_what() -> None:
    ticket = Ticket(ChatId(42), "word " * 100 + "\nsecond line", TicketStatus.OPEN, T0, T0)
    ticket.id = TicketId(128)
    name = topic_name(ticket, "Anna  Maria")
    assert len(name) == 128
    assert name.startswith("T-00128 · word word") and name.endswith("… · Anna Maria")
    assert "\n" not in name


def test_what_the_customer_sends_a_person_is_copied_as_it_is(bot: Harness) -> None:
    bot.command("human")
    [ticket] = bot.tickets()
    assert ticket.id is not None
    bot.text("it crackles <b>loudly</b>", message_id=70)
    assert bot.copies() == [CopyToAgents(ticket.id, ChatId(42), 70)]
    assert bot.notices() == []  # copied, not retold
    bot.media(MediaKind.PHOTO, message_id=71)
    assert bot.copies() == [CopyToAgents(ticket.id, ChatId(42), 71)]
    assert ticket.ref in bot.said()


def test_messages_while_with_agent_are_passed_on(bot: Harness) -> None:
    bot.command("human")
    ref = bot.tickets()[0].ref
    bot.text("hello <script>")
    assert f"added this to request <b>{ref}</b>" in bot.said()
    assert "hello &lt;script&gt;" in bot.notices()[0]
    bot.media(MediaKind.PHOTO)
    assert "[photo]" in bot.notices()[0]
    bot.command("start")
    assert "Welcome back" in bot.said() and ref in bot.said()


def test_old_button_has_expired(bot: Harness) -> None:
    bot.text(PAIRING)
    old_yes = bot.button("Yes")
    bot.press(bot.button("No"))
    bot.press(old_yes)
    assert "That choice has expired" in bot.said()
    assert bot.tickets()[0].status is TicketStatus.OPEN
    assert bot.button("Yes") != old_yes  # re-asked with fresh buttons


@pytest.mark.parametrize("data", ["", "garbage", "1|p|99", "x|y", "1|y|1|2", "-1|y", "9" * 70])
def test_forged_or_broken_button_data_changes_nothing(bot: Harness, data: str) -> None:
    bot.text("something about sound")
    before = bot.conversation().state, bot.tickets()[0].status
    bot.press(data)
    assert "That choice has expired" in bot.said()
    assert (bot.conversation().state, bot.tickets()[0].status) == before


def test_pick_index_out_of_range_is_refused(bot: Harness) -> None:
    bot.text("something about sound")
    step = bot.conversation().step
    bot.press(f"{step}|p|7")
    assert "That choice has expired" in bot.said()
    assert bot.conversation().state is State.CHOOSE


@pytest.mark.parametrize("text", ["", "   ", "??", "😀😀😀", "a"])
def test_too_short_or_empty_is_asked_again(bot: Harness, text: str) -> None:
    bot.text(text)
    assert "tell me a little more" in bot.said()
    assert bot.tickets() == [] and bot.matcher.queries == []


def test_very_long_text_is_matched_on_its_start_and_kept(bot: Harness) -> None:
    long = "my headphones " * 400
    bot.text(long)
    assert "read the first part closely" in bot.said()
    assert len(bot.matcher.queries[0]) == 1000
    assert bot.repos.transcript.lines[0].text == long


def test_photo_without_words_asks_for_words_and_caption_is_text(bot: Harness) -> None:
    bot.media(MediaKind.PHOTO)
    assert "Thanks for the photo" in bot.said()
    bot.media(MediaKind.PHOTO, caption=PAIRING)
    assert "Hold the power button" in bot.said()


@pytest.mark.parametrize("kind", [MediaKind.STICKER, MediaKind.VOICE, MediaKind.OTHER])
def test_stickers_and_voice_get_a_clear_answer(bot: Harness, kind: MediaKind) -> None:
    bot.media(kind)
    assert "only read text" in bot.said()


def test_unknown_command_and_help(bot: Harness) -> None:
    bot.command("frobnicate")
    assert "don't know that command" in bot.said()
    bot.command("help")
    assert "/status" in bot.said() and "/cancel" in bot.said()


def test_cancel_in_the_middle_and_with_nothing(bot: Harness) -> None:
    bot.command("cancel")
    assert "nothing in progress" in bot.said()
    bot.text(PAIRING)
    bot.command("cancel")
    assert "stopped there" in bot.said()
    assert bot.tickets()[0].status is TicketStatus.CANCELLED
    assert bot.conversation().state is State.DESCRIBE


def test_cancel_while_with_agent_asks_first_then_tells_the_team(bot: Harness) -> None:
    bot.command("human")
    bot.command("cancel")
    assert "Do you want to cancel request" in bot.said()
    assert bot.tickets()[0].status is TicketStatus.WAITING_AGENT  # nothing dropped yet
    bot.press(bot.button("No, keep it"))
    assert "stays with our team" in bot.said()
    assert bot.tickets()[0].status is TicketStatus.WAITING_AGENT
    bot.command("cancel")
    bot.press(bot.button("Yes, cancel it"))
    assert "closed request" in bot.said()
    assert "closed by the customer" in bot.notices()[0]
    assert bot.tickets()[0].status is TicketStatus.CANCELLED


def test_words_typed_at_did_this_fix_it_reach_the_team(bot: Harness) -> None:
    bot.text(PAIRING)
    bot.text("the light blinks red \x07twice\x1b[0m")
    bot.command("human")
    card = bot.notices()[0]
    assert "Also said: the light blinks red twice[0m" in card  # control characters gone


def test_status_is_one_line_a_ticket(bot: Harness) -> None:
    bot.text("my headphones\nwill not\npair")
    bot.command("status")
    assert "my headphones will not pair" in bot.said()


def test_status_lists_tickets_newest_first_escaped(bot: Harness) -> None:
    bot.command("status")
    assert "don't have any requests" in bot.said()
    bot.text(PAIRING)
    bot.press(bot.button("Yes"))
    bot.command("human")
    bot.command("status")
    said = bot.said()
    assert said.index("T-00002") < said.index("T-00001")
    assert "waiting for a person" in said and "solved" in said


def test_every_reply_and_inbound_is_in_the_transcript(bot: Harness) -> None:
    bot.text(PAIRING)
    lines = bot.repos.transcript.lines
    assert [line.direction.value for line in lines] == ["in", "out", "out"]
    # the description that opened the ticket belongs to it too (the export shows it there)
    assert [line.ticket_id for line in lines] == [1, 1, 1]
    bot.press(bot.button("Yes"))  # the answer that solves it is still about that ticket
    assert [line.ticket_id for line in bot.repos.transcript.lines[3:]] == [1, 1]
    bot.command("help")  # after it, nothing is about a ticket
    assert {line.ticket_id for line in bot.repos.transcript.lines[5:]} == {None}


def test_every_reply_is_valid_for_telegram(bot: Harness) -> None:
    bot.text("something about sound")
    for effect in bot.last:
        if isinstance(effect, Reply):
            for row in effect.buttons:
                for button in row:
                    assert len(button.data.encode()) <= 64 and len(button.label) <= 64

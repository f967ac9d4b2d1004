"""ESCALATION=off: nobody answers here, so no reply promises a person (on fakes of the ports).

Every path that hands a customer to a person (/human, an old "Talk to a person" button, no
match, "None of these", fixes exhausted, a replacement outside or inside its window) records
the ticket for the team as before, and tells the customer honestly that there is no live
support here and how else to reach the shop: ``SUPPORT_CONTACT`` when set, else a sentence
without a contact.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flows.model import MediaKind, Reply, State, TicketStatus
from flows.turn import HUMAN

from .fakes import Harness

PAIRING = "my headphones will not pair with my phone"
TABLE = {
    PAIRING: [("pairing", 88.0), ("reset", 60.0)],
    "something about sound": [("reset", 55.0), ("pairing", 50.0)],
    "the moon is made of cheese": [("delivery", 12.0)],
    "sound": [("reset", 90.0)],
}
CONTACT = "support@shop.example or +44 20 1234 5678 <24/7>"
# what a reply must never say when nobody answers
PROMISES = ("will reply", "a person", "passing it to our team", "passed this to our support team")


def off(contact: str = "") -> Harness:
    return Harness(TABLE, escalation=False, support_contact=contact)


def no_promises(h: Harness) -> None:
    """No reply of the last turn promises a person, and none offers "Talk to a person"."""
    for effect in h.last:
        if isinstance(effect, Reply):
            lower = effect.text.lower()
            assert not [p for p in PROMISES if p in lower], effect.text
            labels = [b.label for row in effect.buttons for b in row]
            assert not [label for label in labels if "person" in label.lower()], labels
            assert not [b for row in effect.buttons for b in row if f"|{HUMAN}" in b.data]


def told_honestly(h: Harness, contact: str, ref: str) -> None:
    said = h.said()
    assert "no live support in this chat" in said
    assert f"<b>{ref}</b>" in said
    if contact:
        assert "support@shop.example or +44 20 1234 5678 &lt;24/7&gt;" in said  # escaped
    else:
        assert "contact the shop directly" in said
        assert "@" not in said and "+44" not in said  # no contact made up
    no_promises(h)


def request_a_replacement(h: Harness) -> None:
    """Two fixes that did not help, then an order number and a date inside the window."""
    h.text(PAIRING)
    h.press(h.button("No"))
    h.press(h.button("No"))
    h.text("NW-123456")
    h.text("10 days ago")


def ask_human(h: Harness) -> None:
    h.command("human")


def old_human_button(h: Harness) -> None:
    """A "Talk to a person" button from before ESCALATION was turned off still answers."""
    h.press(f"{h.conversation().step if 42 in h.repos.conversations.rows else 0}|{HUMAN}")


def no_match_twice(h: Harness) -> None:
    h.text("the moon is made of cheese")
    assert "describe it another way" in h.said()
    no_promises(h)  # the rephrase prompt offers no person either
    h.text("the moon is made of cheese")


def none_of_these_twice(h: Harness) -> None:
    h.text("something about sound")
    no_promises(h)
    h.press(h.button("None of these"))
    no_promises(h)
    h.text("something about sound")
    h.press(h.button("None of these"))


def fixes_exhausted(h: Harness) -> None:
    h.text("sound")  # "reset" allows no replacement
    no_promises(h)
    h.press(h.button("No"))


ESCALATIONS: dict[str, Callable[[Harness], None]] = {
    "/human": ask_human,
    "old button": old_human_button,
    "no match": no_match_twice,
    "none of these": none_of_these_twice,
    "fixes exhausted": fixes_exhausted,
}


@pytest.mark.parametrize("contact", [CONTACT, ""], ids=["contact", "no-contact"])
@pytest.mark.parametrize("path", ESCALATIONS.values(), ids=ESCALATIONS.keys())
def test_every_escalation_is_honest_and_recorded(
    path: Callable[[Harness], None], contact: str
) -> None:
    h = off(contact)
    path(h)
    [ticket] = h.tickets()
    assert ticket.status is TicketStatus.WAITING_AGENT  # recorded for the team, as with on
    told_honestly(h, contact, ticket.ref)
    assert ticket.ref in h.notices()[0]  # the team's card is written (sent if AGENT_CHAT_ID)
    assert h.state is State.DESCRIBE  # nobody has it: the bot goes on helping


@pytest.mark.parametrize("contact", [CONTACT, ""], ids=["contact", "no-contact"])
def test_replacement_outside_the_window_is_honest(contact: str) -> None:
    h = off(contact)
    h.text(PAIRING)
    h.press(h.button("No"))
    h.press(h.button("No"))
    assert "order number" in h.said()
    no_promises(h)
    h.text("NW-99999")
    h.text("2026-01-02")
    assert "past the replacement window of 30 days" in h.said()
    [ticket] = h.tickets()
    assert ticket.status is TicketStatus.WAITING_AGENT
    told_honestly(h, contact, ticket.ref)
    assert "outside the replacement window" in h.notices()[0]


@pytest.mark.parametrize("contact", [CONTACT, ""], ids=["contact", "no-contact"])
def test_replacement_request_is_noted_and_the_customer_told_who_arranges_it(
    contact: str,
) -> None:
    h = off(contact)
    request_a_replacement(h)
    [ticket] = h.tickets()
    assert ticket.status is TicketStatus.REPLACEMENT_REQUESTED
    assert ticket.order_number == "NW-123456"
    told_honestly(h, contact, ticket.ref)
    assert "NW-123456" in h.said() and "NW-123456" in h.notices()[0]
    assert h.state is State.DESCRIBE


def test_no_person_button_anywhere_and_help_promises_none() -> None:
    h = off()
    h.command("start")
    no_promises(h)
    h.command("help")
    assert "/status" in h.said() and "Talk to a person" not in h.said()
    no_promises(h)
    h.text("?")  # "Could you tell me a little more?"
    no_promises(h)
    h.media(MediaKind.STICKER)
    no_promises(h)
    h.text(PAIRING)
    no_promises(h)
    h.text("the light blinks red")  # "Did this fix it?" again
    no_promises(h)


def test_asking_again_names_the_same_request_and_records_nothing_new() -> None:
    h = off(CONTACT)
    h.command("human")
    h.command("human")
    [ticket] = h.tickets()
    told_honestly(h, CONTACT, ticket.ref)
    h.command("status")
    assert "no live support in this chat" in h.said()
    assert "waiting for a person" not in h.said()


def test_the_next_message_is_a_fresh_description() -> None:
    h = off()
    no_match_twice(h)
    h.text(PAIRING)
    assert "Hold the power button" in h.said()
    first, second = h.tickets()
    assert second.summary == PAIRING  # not glued to the words of the recorded request
    assert first.status is TicketStatus.WAITING_AGENT


def test_a_customer_handed_over_before_escalation_was_turned_off_is_not_left_waiting() -> None:
    on = Harness(TABLE)
    on.command("human")
    assert on.state is State.WITH_AGENT
    h = off()
    h.repos = on.repos  # the same database, after a restart with ESCALATION=off
    h.command("human")
    [ticket] = h.tickets()
    told_honestly(h, "", ticket.ref)  # named again, not recorded twice
    h.command("start")
    no_promises(h)  # no "welcome back, a person will reply"
    h.text("hello, anyone there?")
    no_promises(h)
    assert h.state is State.DESCRIBE


def test_escalation_on_still_promises_a_person() -> None:
    """The other side of the switch: the default is unchanged."""
    h = Harness(TABLE)
    h.command("human")
    assert "A person will reply right here" in h.said()
    assert h.state is State.WITH_AGENT


def test_after_a_noted_replacement_the_next_message_is_a_fresh_description() -> None:
    h = off()
    h.text("something about sound")
    h.press(h.button("None of these"))
    h.text("something about sound")  # rephrased: the two are kept together
    h.press(h.button("Headphones do not pair"))
    h.press(h.button("No"))
    h.press(h.button("No"))
    h.text("NW-123456")
    h.text("10 days ago")
    assert h.tickets()[0].status is TicketStatus.REPLACEMENT_REQUESTED
    h.text(PAIRING)
    assert h.tickets()[-1].summary == PAIRING


@pytest.mark.parametrize("contact", [CONTACT, ""], ids=["contact", "no-contact"])
def test_status_of_a_noted_replacement_promises_no_confirmation(contact: str) -> None:
    """/status says what the hand-over said: saved for the shop, which the customer contacts."""
    h = off(contact)
    request_a_replacement(h)
    h.command("status")
    said = h.said()
    assert "replacement request saved for the shop (no live support in this chat)" in said
    assert "waiting for confirmation" not in said
    if contact:
        assert "contact the shop at support@shop.example or +44 20 1234 5678 &lt;24/7&gt;" in said
    else:
        assert "contact the shop directly" in said
    no_promises(h)


def test_status_of_a_request_a_person_had_before_the_switch_promises_no_person() -> None:
    on = Harness(TABLE)
    on.command("human")
    [ticket] = on.tickets()
    ticket.status = TicketStatus.WITH_AGENT  # taken by an agent, then ESCALATION=off
    ticket.summary = "my speaker crackles"
    h = off()
    h.repos = on.repos
    h.command("status")
    assert "saved for the shop" in h.said() and "is on it" not in h.said()
    assert "contact the shop directly" in h.said()
    no_promises(h)

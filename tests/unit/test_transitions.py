"""The code, ``flows.transitions`` and ``flows/conversation.mmd`` agree on every edge.

The engine refuses a state change the table does not declare; here the flows are driven on
fakes through every kind of event in every state they can reach, and the changes they make
must be exactly the table; the diagram must draw exactly the table too.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Hashable
from functools import cache
from importlib import resources

import pytest

from flows.model import (
    ButtonPress,
    ChatId,
    Command,
    Conversation,
    Inbound,
    Media,
    MediaKind,
    Reply,
    State,
    TextMessage,
)
from flows.transitions import TRANSITIONS

from .fakes import Harness

Edge = tuple[State, State]

# what the scripted matcher answers: the answer band with and without a replacement rule,
# the suggest band, and nothing known
TABLE = {
    "my headphones will not pair": [("pairing", 88.0), ("reset", 60.0), ("charging", 30.0)],
    "my headphones crackle": [("reset", 90.0)],
    "something about sound": [("reset", 55.0), ("pairing", 50.0), ("delivery", 20.0)],
    "the moon is made of cheese": [("delivery", 12.0)],
    "my watch came cracked": [("cracked", 91.0)],  # a replacement entry
    "where can I track it": [("tracking", 88.0), ("delivery", 50.0)],  # an answer
    "watch trouble": [("cracked", 58.0), ("strap", 52.0)],  # suggest: a replacement one
}
TEXTS = [
    *TABLE,
    "a",  # too short
    "yes",
    "no",
    "the light blinks red",  # neither yes nor no, not an order number or a date
    "#nw-123456",  # an order number
    "10 days ago",  # within the replacement window
    "2026-01-02",  # outside it (the fake clock says 2026-11-25)
    "2027-06-01",  # in the future
    "11/05/2026",  # 11 May or 5 November, both past: asked which, with both as buttons
    "I don't have one",  # no order number: a person takes it
]
COMMANDS = ["start", "help", "cancel", "status", "human", "language", "frobnicate"]
KINDS = (TextMessage, Command, ButtonPress, Media)


def inbound(h: Harness) -> list[Inbound]:
    """Every event to try next: typed text, commands, media, and each button on screen."""
    person = h.person
    events: list[Inbound] = [TextMessage(person, text) for text in TEXTS]
    events += [Command(person, name) for name in COMMANDS]
    events += [
        Media(person, MediaKind.PHOTO),
        Media(person, MediaKind.STICKER),
        Media(person, MediaKind.PHOTO, caption="my headphones will not pair"),
    ]
    events.append(ButtonPress(person, "0|y", 1))  # an old or forged button
    for effect in h.last:
        if isinstance(effect, Reply):
            events += [ButtonPress(person, b.data, 1) for row in effect.buttons for b in row]
    return events


def situation(h: Harness) -> Hashable:
    """What decides where the next event can go (not the text, ids or step counter)."""
    row = h.repos.conversations.rows.get(h.person.chat_id) or Conversation(h.person.chat_id)
    data = {k: v for k, v in row.data.items() if k != "description"}
    if "details" in data:  # words kept for the team: they change no state
        data["details"] = True
    if "reopen" in data:  # what was written first decides; more lines all go the same way
        text = data["reopen"]["text"]
        pending = h.repos.tickets.rows.get(data["reopen"]["ticket"])  # its status, not its id
        status = pending.status if pending is not None else None
        data["reopen"] = (status, "more lines" if "\n" in text else text)
    ticket = h.repos.tickets.rows.get(row.ticket_id) if row.ticket_id is not None else None
    labels = tuple(  # "About T-00012": which ticket does not change where a press goes
        re.sub(r"T-\d+", "T-#", b.label)
        for e in h.last
        if isinstance(e, Reply)
        for r in e.buttons
        for b in r
    )
    latest = h.repos.tickets.for_customer(
        h.person.chat_id, limit=1
    )  # a resolved one is asked about
    return (
        row.state,
        json.dumps(data, sort_keys=True, default=str),
        row.ticket_id is None,
        ticket.status if ticket else None,
        latest[0].status if latest else None,
        labels,
    )


def seeds() -> list[Harness]:
    fresh = Harness(TABLE)
    # a person had it and the ticket is gone (closed by the team): the engine handles it
    orphan = fresh.fork()
    orphan.repos.conversations.save(Conversation(ChatId(42), State.WITH_AGENT))
    # the bot came back after a resolution: its Yes / No / Later buttons are on screen
    followed = fresh.fork()
    followed.text("my headphones crackle")
    followed.press(followed.button("Yes"))
    followed.run_followups(early=True)
    return [fresh, orphan, followed]


@cache
def explore() -> tuple[dict[Edge, str], frozenset[tuple[State, type]]]:
    """Every state change the flows make, with an example event for each."""
    edges: dict[Edge, str] = {}
    tried: set[tuple[State, type]] = set()
    seen: set[Hashable] = set()
    queue = deque(seeds())
    while queue:
        h = queue.popleft()
        key = situation(h)
        if key in seen:
            continue
        seen.add(key)
        for event in inbound(h):
            after = h.fork()
            before = after.state
            after.send(event)
            tried.add((before, type(event)))
            edges.setdefault((before, after.state), repr(event))
            queue.append(after)
    assert len(seen) > 50  # it did wander
    return edges, frozenset(tried)


def declared() -> set[Edge]:
    return {(before, after) for before, afters in TRANSITIONS.items() for after in afters}


def diagram_text() -> str:
    return resources.files("flows").joinpath("conversation.mmd").read_text(encoding="utf-8")


_EDGE = re.compile(r"^(\[\*\]|\w+)\s*-->\s*(\[\*\]|\w+)\s*(?::.*)?$")


def parse_diagram(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    """(the states ``[*]`` leads to, the other edges) of a Mermaid stateDiagram-v2."""
    lines = [line.split("%%")[0].strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    assert lines and lines[0] == "stateDiagram-v2", "not a stateDiagram-v2"
    starts: set[str] = set()
    edges: set[tuple[str, str]] = set()
    for line in lines[1:]:
        match = _EDGE.match(line)
        assert match, f"cannot read this diagram line (teach parse_diagram): {line!r}"
        source, target = match.groups()
        if source == "[*]":
            starts.add(target)
        else:
            edges.add((source, target))
    return starts, edges


# ---- the code against the table ----------------------------------------------------------


def test_every_kind_of_event_was_tried_in_every_state() -> None:
    _, tried = explore()
    assert {(state, kind) for state in State for kind in KINDS} <= tried


def test_the_flows_make_exactly_the_declared_transitions() -> None:
    edges, _ = explore()
    undeclared = "\n".join(
        f"  {a} -> {b} after {edges[(a, b)]}" for a, b in sorted(edges.keys() - declared())
    )
    never_made = "\n".join(f"  {a} -> {b}" for a, b in sorted(declared() - edges.keys()))
    assert not undeclared, f"the engine should have refused:\n{undeclared}"
    assert not never_made, f"flows.transitions declares what no event does:\n{never_made}"


def test_the_engine_refuses_an_undeclared_transition(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness(TABLE)
    narrower = {**TRANSITIONS, State.DESCRIBE: TRANSITIONS[State.DESCRIBE] - {State.CONFIRM}}
    monkeypatch.setattr("flows.engine.TRANSITIONS", narrower)
    with pytest.raises(AssertionError, match=r"describe -> confirm is not in flows\.transitions"):
        h.text("my headphones will not pair")
    assert h.repos.conversations.rows == {}  # nothing stored


# ---- the diagram against the table -------------------------------------------------------


def test_the_diagram_draws_exactly_the_declared_transitions() -> None:
    _, drawn = parse_diagram(diagram_text())
    table = {(a.value, b.value) for a, b in declared()}
    undrawn = "\n".join(f"    {a} --> {b}" for a, b in sorted(table - drawn))
    extra = "\n".join(f"    {a} --> {b}" for a, b in sorted(drawn - table))
    assert not undrawn, f"in flows.transitions, not drawn in conversation.mmd:\n{undrawn}"
    assert not extra, f"drawn in conversation.mmd, not in flows.transitions:\n{extra}"


def test_the_diagram_starts_where_a_new_conversation_starts() -> None:
    starts, _ = parse_diagram(diagram_text())
    assert starts == {Conversation(ChatId(1)).state.value}


def test_the_diagram_reader_refuses_what_it_cannot_read() -> None:
    with pytest.raises(AssertionError, match="cannot read"):
        parse_diagram("stateDiagram-v2\n    describe -> choose\n")
    starts, edges = parse_diagram(
        "%% c\nstateDiagram-v2\n  [*] --> a\n  a --> b: x: y\n  %% note\n  b-->a\n"
    )
    assert starts == {"a"} and edges == {("a", "b"), ("b", "a")}

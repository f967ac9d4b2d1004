"""Finding the fix: match the description, show fixes, ask "Did this fix it?"."""

from __future__ import annotations

from typing import Any

from flows import escalation, followup, replacement
from flows.learning import SuggestionSource, UnmatchedReason, propose_symptom, record_unmatched
from flows.model import State, Ticket, TicketEvent, TicketEventKind, TicketStatus
from flows.turn import NO, NONE, PICK, YES, Turn
from knowledge.responses import Say
from knowledge.schema import Band, EntryKind, MatchResult


def match(turn: Turn, description: str) -> None:
    """Run the matcher on a fresh description and act on its band."""
    settings = turn.services.settings
    result: MatchResult = turn.matcher.match(description[: settings.max_match_chars])
    floor = turn.thresholds.suggest
    candidates = [
        {"id": str(c.entry_id), "score": round(c.score, 1)}
        for c in result.candidates
        if c.score >= floor and turn.entry(c.entry_id) is not None
    ]
    turn.data["candidates"] = candidates
    turn.data["tried"] = []
    if result.band is Band.ANSWER and candidates:
        show_fix(turn, 0)
    elif result.band is not Band.UNKNOWN and candidates:
        did_you_mean(turn, candidates)
    elif not turn.data.get("rephrased"):
        record_unmatched(turn, UnmatchedReason.UNKNOWN)
        turn.data["rephrased"] = True
        turn.conversation.state = State.DESCRIBE
        key = Say.NO_MATCH_REPHRASE if turn.escalation else Say.NO_MATCH_REPHRASE_NO_LIVE
        turn.ask(turn.responses.text(key), turn.human_rows())
    else:
        record_unmatched(turn, UnmatchedReason.UNKNOWN)
        escalation.escalate(turn, Say.AGENT_REASON_NO_MATCH)


def did_you_mean(turn: Turn, candidates: list[dict[str, Any]], *, keep_older: bool = False) -> None:
    turn.conversation.state = State.CHOOSE
    rows: list[list[tuple[str, str, int | None]]] = []
    for index, candidate in enumerate(candidates):
        entry = turn.entry(candidate["id"])
        if entry is not None:
            rows.append([(turn.responses.label(Say.PICK_BUTTON, title=entry.title), PICK, index)])
    rows.append([(turn.responses.label(Say.NONE_BUTTON), NONE, None)])
    rows.extend(turn.human_rows())
    turn.ask(turn.responses.text(Say.DID_YOU_MEAN), rows, keep_older=keep_older)


def show_fix(turn: Turn, index: int) -> None:
    """Show candidate ``index``'s fix and ask whether it worked."""
    candidate = turn.data["candidates"][index]
    entry = turn.entry(candidate["id"])
    if entry is None:  # the knowledge changed under us: treat as not found
        escalation.escalate(turn, Say.AGENT_REASON_NO_MATCH)
        return
    tried: list[int] = turn.data.setdefault("tried", [])
    key = Say.FIX_NEXT if tried else Say.FIX
    tried.append(index)
    turn.data["current"] = index
    ticket = escalation.open_ticket(turn, turn.data.get("description", entry.title))
    ticket.entry_id = entry.id
    ticket.tried = [*ticket.tried, {"id": entry.id, "score": candidate["score"]}]
    turn.touch(ticket)
    _event(turn, ticket, TicketEventKind.FIX_SHOWN, entry.id)
    if entry.kind is EntryKind.REPLACEMENT and entry.replacement is not None:
        # the remedy is a replacement: nothing to try first, nothing to confirm
        turn.say_html(turn.responses.text(Say.ANSWER, title=entry.title, text=entry.fix.strip()))
        replacement.offer(turn, entry, after_fixes=len(tried) > 1)
        return
    turn.conversation.state = State.CONFIRM
    if entry.kind is EntryKind.INFO:
        turn.say_html(turn.responses.text(Say.ANSWER, title=entry.title, text=entry.fix.strip()))
    else:
        turn.say_html(turn.responses.text(key, title=entry.title, fix=entry.fix.strip()))
    ask_again(turn, first=True)


def choose(turn: Turn, action: str, arg: int | None) -> None:
    """A press on a "Did you mean ...?" button."""
    candidates = turn.data.get("candidates", [])
    if action == PICK and arg is not None and 0 <= arg < len(candidates):
        turn.data["picked"] = True  # the matcher alone did not show it: words worth learning
        show_fix(turn, arg)
    elif action == NONE:
        record_unmatched(turn, UnmatchedReason.NONE_FIT)
        if turn.data.get("rephrased"):
            escalation.escalate(turn, Say.AGENT_REASON_NO_MATCH)
        else:
            turn.data["rephrased"] = True
            turn.conversation.state = State.DESCRIBE
            turn.ask(turn.responses.text(Say.NONE_REPHRASE), turn.human_rows())
    else:
        expired(turn)


def confirm(turn: Turn, fixed: bool) -> None:
    """The answer to "Did this fix it?"."""
    if fixed:
        ticket = turn.ticket()
        if ticket is not None:
            ticket.status = TicketStatus.RESOLVED
            turn.touch(ticket)
            if ticket.entry_id is not None:
                _event(turn, ticket, TicketEventKind.FIX_WORKED, ticket.entry_id)
                picked = SuggestionSource.PICKED if turn.data.get("picked") else None
                source = turn.data.get("via") or picked
                if source:  # the matcher alone did not answer with it: words worth learning
                    propose_symptom(turn, ticket.entry_id, SuggestionSource(source))
            if ticket.id is not None:
                turn.repos.ticket_events.add(
                    TicketEvent(ticket.id, TicketEventKind.RESOLVED, turn.now, detail="customer")
                )
                followup.after_resolution(turn, ticket)
            glad = Say.GLAD_ANSWERED if _current_kind(turn) is EntryKind.INFO else Say.GLAD_FIXED
            turn.say(glad, ref=ticket.ref)
        turn.conversation.state = State.DESCRIBE
        turn.conversation.ticket_id = None
        turn.conversation.data = {}
        return
    ticket = turn.ticket()
    if ticket is not None and ticket.tried:  # the team's card shows what the customer said
        ticket.tried = [*ticket.tried[:-1], {**ticket.tried[-1], "answer": "no"}]
        turn.touch(ticket)
        _event(turn, ticket, TicketEventKind.FIX_FAILED, str(ticket.tried[-1]["id"]))
    candidates = turn.data.get("candidates", [])
    tried: list[int] = turn.data.get("tried", [])
    untried = [i for i in range(len(candidates)) if i not in tried and _relevant(turn, i)]
    if untried and len(tried) < turn.services.settings.max_attempts:
        show_fix(turn, untried[0])
        return
    rule_entry = next(
        (
            entry
            for i in tried
            if (entry := turn.entry(candidates[i]["id"])) is not None and entry.replacement
        ),
        None,
    )
    if rule_entry is not None:
        replacement.offer(turn, rule_entry)
    else:
        record_unmatched(turn, UnmatchedReason.FIXES_FAILED)
        escalation.escalate(turn, Say.AGENT_REASON_NOT_FIXED)


def _event(turn: Turn, ticket: Ticket, kind: TicketEventKind, entry_id: str) -> None:
    if ticket.id is not None:
        turn.repos.ticket_events.add(TicketEvent(ticket.id, kind, turn.now, detail=entry_id))


def _relevant(turn: Turn, index: int) -> bool:
    """Whether candidate ``index`` is worth showing after a fix did not help: an entry
    about the same product as the one just tried, or one the matcher could not tell from
    the best (within the margin). Never an unrelated product's fix."""
    candidates = turn.data.get("candidates", [])
    entry = turn.entry(candidates[index]["id"])
    current = turn.data.get("current")
    if entry is None or not isinstance(current, int) or not 0 <= current < len(candidates):
        return False
    shown = turn.entry(candidates[current]["id"])
    if shown is not None and shown.product == entry.product:
        return True
    best = max(c["score"] for c in candidates)
    return bool(candidates[index]["score"] >= best - turn.thresholds.margin)


def ask_again(turn: Turn, *, first: bool = False, keep_older: bool = False) -> None:
    """ "Did this fix it?" ("Did that answer your question?" after an answer); asked again
    when the customer typed something that is neither yes nor no. ``keep_older``: the
    buttons on screen stay valid too."""
    responses = turn.responses
    if _current_kind(turn) is EntryKind.INFO:
        question = Say.ANSWERED_QUESTION if first else Say.ANSWERED_QUESTION_AGAIN
        yes, no = Say.YES_ANSWERED_BUTTON, Say.NO_ANSWERED_BUTTON
    else:
        question = Say.FIXED_QUESTION if first else Say.FIXED_QUESTION_AGAIN
        yes, no = Say.YES_BUTTON, Say.NO_BUTTON
    turn.ask(
        responses.text(question),
        [[(responses.label(yes), YES, None), (responses.label(no), NO, None)], *turn.human_rows()],
        keep_older=keep_older,
    )


def _current_kind(turn: Turn) -> EntryKind:
    candidates = turn.data.get("candidates", [])
    index = turn.data.get("current")
    if isinstance(index, int) and 0 <= index < len(candidates):
        entry = turn.entry(candidates[index]["id"])
        if entry is not None:
            return entry.kind
    return EntryKind.FIX


def expired(turn: Turn) -> None:
    """A press on an old or unknown button: say so, and show where we are."""
    turn.say(Say.CHOICE_EXPIRED)
    state = turn.conversation.state
    if state is State.CONFIRM:
        ask_again(turn)
    elif state is State.CHOOSE:
        did_you_mean(turn, turn.data.get("candidates", []))
    elif state is State.WITH_AGENT:
        ticket = turn.ticket()
        if ticket is not None:
            turn.say(Say.ALREADY_WITH_AGENT, ref=ticket.ref)
    elif state is State.ORDER_NUMBER:
        turn.say(Say.REPLACEMENT_OFFER)
    elif state is State.PURCHASE_DATE:
        turn.say(Say.PURCHASE_DATE_QUESTION)
    else:
        turn.say(Say.DESCRIBE_PROMPT)

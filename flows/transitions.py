"""Where one inbound event can take a conversation: the state before -> the states after.

``flows.engine`` refuses any other change, and ``flows/conversation.mmd`` draws exactly
these (``tests/unit/test_transitions.py`` checks both).
"""

from __future__ import annotations

from collections.abc import Mapping

from flows.model import State

# Where one inbound event can take a conversation: the state before -> the states after.
# Every state stays put on /help, /status and the like, goes to DESCRIBE on /cancel or
# /start, and to WITH_AGENT on "Talk to a person" (or on reopening a resolved ticket).
# The engine refuses any other change, and flows/conversation.mmd draws exactly these
# (tests/unit/test_transitions.py checks both).
TRANSITIONS: Mapping[State, frozenset[State]] = {
    # a message soon after a resolved ticket first asks whether it is about that one;
    # an entry whose remedy is a replacement goes straight to the order number
    # a follow-up's rating, pressed while idle, asks for an optional comment
    State.DESCRIBE: frozenset(
        {
            State.DESCRIBE,
            State.CHOOSE,
            State.CONFIRM,
            State.ORDER_NUMBER,
            State.WITH_AGENT,
            State.REOPEN_ASK,
            State.RATING_COMMENT,
        }
    ),
    State.REOPEN_ASK: frozenset(
        {
            State.REOPEN_ASK,
            State.DESCRIBE,
            State.CHOOSE,
            State.CONFIRM,
            State.ORDER_NUMBER,
            State.WITH_AGENT,
        }
    ),
    # the comment, "Skip" or /cancel end it; a follow-up's "No" hands over to a person
    State.RATING_COMMENT: frozenset({State.RATING_COMMENT, State.DESCRIBE, State.WITH_AGENT}),
    # typing while choosing is a new description
    State.CHOOSE: frozenset(
        {State.CHOOSE, State.CONFIRM, State.ORDER_NUMBER, State.DESCRIBE, State.WITH_AGENT}
    ),
    State.CONFIRM: frozenset({State.CONFIRM, State.DESCRIBE, State.ORDER_NUMBER, State.WITH_AGENT}),
    State.ORDER_NUMBER: frozenset(
        {State.ORDER_NUMBER, State.PURCHASE_DATE, State.DESCRIBE, State.WITH_AGENT}
    ),
    State.PURCHASE_DATE: frozenset({State.PURCHASE_DATE, State.DESCRIBE, State.WITH_AGENT}),
    # once the ticket is gone (the team closed it), a message is a new description
    # ... and one that plainly describes another problem asks "about T-… or new?"
    State.WITH_AGENT: frozenset(
        {
            State.WITH_AGENT,
            State.DESCRIBE,
            State.CHOOSE,
            State.CONFIRM,
            State.ORDER_NUMBER,
            State.REOPEN_ASK,
        }
    ),
}

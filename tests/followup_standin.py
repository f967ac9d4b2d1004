"""A stand-in for ``flows.followup.FollowUps`` (the customer side, written elsewhere) while
it has not landed: the dispatcher's tests and benchmark need something with its ``due``.

It does the least the real one does: marks the row sent and asks the question.
"""

from __future__ import annotations

from flows.model import Button, Effect, FollowUp, FollowUpStatus, Reply
from flows.ports import Clock, Repositories

QUESTION = "Is everything working now?"


class StandInFollowUps:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls = 0

    def due(self, repos: Repositories, followup: FollowUp) -> list[Effect]:
        self.calls += 1
        followup.status = FollowUpStatus.SENT
        followup.sent_at = self.clock.now()
        followup.lease_until = None
        repos.followups.save(followup)
        keys = (("Yes", "fu:yes"), ("No", "fu:no"), ("Remind me later", "fu:later"))
        buttons = tuple(Button(label, f"{data}:{followup.id}") for label, data in keys)
        return [Reply(followup.chat_id, f"{QUESTION} (T-{followup.ticket_id:05d})", (buttons,))]

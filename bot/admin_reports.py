"""How ``/stats`` and ``/unmatched`` answer: ``bot.reports`` on the running bot's database
and knowledge, worded from the catalogue (``ADMIN_*``) in the team's language.

Both take an optional period like ``supportbot report --since`` (``/stats 30d``,
``/stats 7``; default the last 7 days), read by ``bot.period`` as the command line reads it;
one it cannot read, or an empty one (``0d``), is answered with what it takes instead. They
run in a thread (``bot.admin``): grouping thousands of questions with the semantic model
takes seconds.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from typing import cast
from zoneinfo import ZoneInfo

from bot.admin import Request
from bot.clock import Clock
from bot.period import EmptyPeriod, Unreadable, period
from bot.reports import Report, build
from bot.reports.unmatched import AnyMatcher
from bot.storage import UnitOfWorkFactory
from flows.turn import Services
from knowledge.responses import Html, Responses, Say

DEFAULT_PERIOD = "7d"
SHOWN_ARGS = 40  # characters of a period that is refused, quoted back to the admin
TOP_GROUPS = 5  # groups in one Telegram message


class Answers:
    """``/stats`` and ``/unmatched`` for ``bot.admin.Admin(answers=...)``."""

    def __init__(
        self,
        *,
        new_uow: UnitOfWorkFactory,
        services: Callable[[], Services],
        clock: Clock,
        timezone: str,
    ) -> None:
        self.new_uow = new_uow
        self.services = services  # the ones in use now: reloads included
        self.clock = clock
        self.timezone = timezone

    def as_dict(self) -> dict[str, Callable[[Request, Responses], Html]]:
        return {"stats": self.stats, "unmatched": self.unmatched}

    def stats(self, request: Request, responses: Responses) -> Html:
        asked = self._report(request, responses)
        if isinstance(asked, Html):
            return asked  # the period was refused: said why
        report, period = asked
        f = report.figures
        none = responses.text(Say.ADMIN_NONE_YET)

        def counted(share: float | None, count: int) -> str:
            return none if share is None else f"{share:.0%} ({count})"

        def median(seconds: float | None) -> str:
            return none if seconds is None else responses.elapsed(timedelta(seconds=seconds))

        average = report.csat_average
        csat = (
            none
            if average is None
            else responses.label(Say.ADMIN_CSAT, average=f"{average:.1f}", count=report.csat_count)
        )
        return responses.text(
            Say.ADMIN_STATS,
            period=period,
            tickets=f.tickets,
            bot_resolved=counted(report.bot_resolved_share, f.bot_resolved),
            handed_off=counted(report.handoff_rate, f.handed_off),
            first_response=median(f.first_response.median),
            resolution=median(f.resolution.median),
            csat=csat,
            reopened=counted(report.reopen_rate, f.reopened),
            unmatched=report.unmatched.count,
        )

    def unmatched(self, request: Request, responses: Responses) -> Html:
        asked = self._report(request, responses, top=TOP_GROUPS)
        if isinstance(asked, Html):
            return asked
        report, period = asked
        found = report.unmatched
        if not found.count:
            return responses.text(Say.ADMIN_UNMATCHED_NONE, period=period)
        lines = [
            responses.text(
                Say.ADMIN_UNMATCHED_HEADER,
                period=period,
                count=found.count,
                groups=len(found.groups),
            )
        ]
        for group in found.groups:
            if group.new_entry or group.closest is None:
                closest = responses.text(Say.ADMIN_UNMATCHED_NEW)
            else:
                closest = responses.text(
                    Say.ADMIN_UNMATCHED_CLOSEST,
                    entry=group.closest.entry_id,
                    score=f"{group.closest.score:.0f}",
                )
            examples = Html(" · ".join(f"“{html.escape(text)}”" for text in group.examples))
            lines.append(
                responses.text(
                    Say.ADMIN_UNMATCHED_GROUP, size=group.size, examples=examples, closest=closest
                )
            )
        return Html("\n\n".join(lines))

    def _report(
        self, request: Request, responses: Responses, top: int = 10
    ) -> tuple[Report, str] | Html:
        """The report of the period the admin asked for and that period in words, or why
        that period is refused."""
        now = self.clock.now()
        args = request.args.strip()
        try:
            since, until = period(args or DEFAULT_PERIOD, now=now, zone=ZoneInfo(self.timezone))
        except (Unreadable, EmptyPeriod) as exc:
            key = (
                Say.ADMIN_PERIOD_EMPTY
                if isinstance(exc, EmptyPeriod)
                else Say.ADMIN_PERIOD_UNREADABLE
            )
            shown = args if len(args) <= SHOWN_ARGS else f"{args[:SHOWN_ARGS]}…"
            return responses.text(key, command=request.command, text=shown)
        services = self.services()
        report = build(
            self.new_uow,
            knowledge=services.knowledge,
            matcher=cast(AnyMatcher, services.matcher),  # the bot's own: has thresholds
            since=since,
            until=until,
            localised=services.localised,
            timezone=self.timezone,
            top=top,
        )
        span = until - since
        whole_days = span.total_seconds() / 86_400
        if whole_days >= 1 and abs(whole_days - round(whole_days)) < 0.01:
            return report, responses.days(round(whole_days))  # "7 days", "7 дней"
        return report, responses.elapsed(span)

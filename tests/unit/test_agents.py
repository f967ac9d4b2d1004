"""flows.agents.may_act: admins and stored agents may act; nobody else, former agents included."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.agents import may_act
from flows.model import Agent, UserId
from tests.unit.fakes import FakeAgents

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADMIN = 111
ANNA = UserId(222)
STRANGER = 333


def team() -> FakeAgents:
    agents = FakeAgents()
    agents.add(Agent(ANNA, "Anna"), T0)
    return agents


def test_a_stored_agent_may_act() -> None:
    assert may_act(ANNA, admins=(ADMIN,), agents=team())


def test_an_admin_may_act_without_being_stored_or_read() -> None:
    agents = team()
    assert may_act(ADMIN, admins=(ADMIN,), agents=agents)
    assert agents.reads == 0


def test_anyone_else_may_not() -> None:
    assert not may_act(STRANGER, admins=(ADMIN,), agents=team())
    assert not may_act(STRANGER, admins=(), agents=FakeAgents())


def test_a_removed_agent_may_not_and_added_again_may() -> None:
    agents = team()
    agents.remove(ANNA, T0)
    assert not may_act(ANNA, admins=(ADMIN,), agents=agents)
    agents.add(Agent(ANNA, "Anna"), T0)
    assert may_act(ANNA, admins=(ADMIN,), agents=agents)

"""bot.storage on real databases: migrations, every repository, transactions, concurrency."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from bot.storage import (
    RETRY_AFTER,
    DatabaseUnavailable,
    InboxItem,
    MessageKind,
    NotFound,
    OutboxStatus,
    OutgoingMessage,
    SqlUnitOfWork,
    StorageError,
    current_revision,
    downgrade,
    is_temporary,
    make_engine,
    schema_drift,
    upgrade,
)
from flows.model import (
    Agent,
    AuditEntry,
    ChatId,
    Conversation,
    Direction,
    Person,
    State,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketId,
    TicketStatus,
    TranscriptLine,
    UserId,
)

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
BIG_CHAT = ChatId(-1_002_345_678_901)  # supergroup ids are far beyond 32 bits
BIG_USER = 9_876_543_210
TABLES = {
    "customer",
    "conversation",
    "ticket",
    "message",
    "inbox",
    "outbox",
    "agent",
    "audit",
    "ticket_event",
    "followup",
}


def person(chat_id: int = 42, name: str = "Ada") -> Person:
    return Person(chat_id=ChatId(chat_id), user_id=BIG_USER, name=name, username="ada")


def new_ticket(chat_id: int = 42, summary: str = "printer jams", at: datetime = T0) -> Ticket:
    return Ticket(
        chat_id=ChatId(chat_id),
        summary=summary,
        status=TicketStatus.OPEN,
        created_at=at,
        updated_at=at,
    )


def assert_utc(value: datetime | None) -> None:
    assert value is not None
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


# ---- engine -------------------------------------------------------------------------


def test_sqlite_engine_makes_the_directory_and_sets_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'dir' / 'bot.db'}")
    try:
        assert (tmp_path / "new" / "dir").is_dir()
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        engine.dispose()


def test_in_memory_sqlite_is_one_database_for_every_session() -> None:
    engine = make_engine("sqlite://")
    upgrade(engine)
    with SqlUnitOfWork(engine) as uow:
        uow.inbox.add(1, "{}", T0)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.last_update_id() == 1


def test_unopenable_sqlite_file_raises_database_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(DatabaseUnavailable, match="cannot open database sqlite:///"):
        make_engine(f"sqlite:///{blocker / 'bot.db'}")


def test_unreachable_postgresql_names_the_url_without_password() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        make_engine("postgresql://bot:s3cret@127.0.0.1:1/supportbot?connect_timeout=2")
    message = str(caught.value)
    assert "postgresql://bot:***@127.0.0.1:1/supportbot" in message
    assert "s3cret" not in message


def test_nonsense_url_is_a_storage_error_that_does_not_echo_it() -> None:
    with pytest.raises(StorageError) as caught:
        make_engine("no:password@here")
    assert "password" not in str(caught.value)


def test_drivers(engine: Engine) -> None:
    """SQLite through the standard library, PostgreSQL through psycopg 3."""
    expected = {"sqlite": "pysqlite", "postgresql": "psycopg"}
    assert engine.dialect.driver == expected[engine.dialect.name]


# ---- migrations ---------------------------------------------------------------------


HEAD = "0010"


def test_upgrade_creates_the_schema_on_an_empty_database(bare_engine: Engine) -> None:
    assert current_revision(bare_engine) is None
    upgrade(bare_engine)
    assert current_revision(bare_engine) == HEAD
    assert set(inspect(bare_engine).get_table_names()) >= TABLES
    upgrade(bare_engine)  # already at head: nothing to do
    assert current_revision(bare_engine) == HEAD


def test_upgrade_from_the_first_release_keeps_stored_updates(bare_engine: Engine) -> None:
    upgrade(bare_engine, "0001")
    with bare_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO inbox (update_id, payload, received_at)"
                " VALUES (5, '{\"update_id\": 5}', :at)"
            ),
            {"at": T0.replace(tzinfo=None) if bare_engine.dialect.name == "sqlite" else T0},
        )
    upgrade(bare_engine)
    with SqlUnitOfWork(bare_engine) as uow:
        assert uow.inbox.pending(now=T0) == [InboxItem(update_id=5, payload='{"update_id": 5}')]


def test_upgrade_from_0002_keeps_tickets_and_down_and_up_again(bare_engine: Engine) -> None:
    """The previous release's database: its tickets survive 0003 both ways."""
    upgrade(bare_engine, "0002")
    at = T0.replace(tzinfo=None) if bare_engine.dialect.name == "sqlite" else T0
    with bare_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ticket (id, chat_id, summary, status, entry_id, order_number,"
                " purchase_date, tried, created_at, updated_at) VALUES (7, :chat, 'it jams',"
                " 'waiting_agent', 'printer-jam', 'A-1', '2025-02-14',"
                ' \'[{"id": "printer-jam", "score": 88}]\', :at, :at)'
            ),
            {"chat": BIG_CHAT, "at": at},
        )
    before = {c["name"] for c in inspect(bare_engine).get_columns("ticket")}

    upgrade(bare_engine)
    assert current_revision(bare_engine) == HEAD
    assert schema_drift(bare_engine) == []
    expected = Ticket(
        id=TicketId(7),
        chat_id=BIG_CHAT,
        summary="it jams",
        status=TicketStatus.WAITING_AGENT,
        created_at=T0,
        updated_at=T0,
        entry_id="printer-jam",
        order_number="A-1",
        purchase_date=date(2025, 2, 14),
        tried=[{"id": "printer-jam", "score": 88}],
    )
    with SqlUnitOfWork(bare_engine) as uow:
        loaded = uow.tickets.get(TicketId(7))
        assert loaded == expected  # topic_id, card_message_id, assignee_id: None
        assert loaded is not None
        loaded.topic_id, loaded.card_message_id, loaded.assignee_id = 5, 6, UserId(BIG_USER)
        uow.tickets.save(loaded)
        uow.agents.add(Agent(UserId(BIG_USER), "Anna"), T0)
        uow.audit.add(AuditEntry(at=T0, action="take", allowed=True))
        uow.ticket_events.add(TicketEvent(TicketId(7), TicketEventKind.TAKEN, T0))
        uow.commit()

    downgrade(bare_engine, "0002")
    assert current_revision(bare_engine) == "0002"
    assert schema_drift(bare_engine) != []  # the models are ahead again
    found = inspect(bare_engine)
    assert not {"agent", "audit", "ticket_event"} & set(found.get_table_names())
    assert {c["name"] for c in found.get_columns("ticket")} == before
    assert {i["name"] for i in found.get_indexes("ticket")} == {
        "ix_ticket_chat_id",
        "ix_ticket_status",
    }
    with bare_engine.connect() as connection:
        kept = connection.execute(text("SELECT id, summary, order_number FROM ticket")).all()
    assert [tuple(row) for row in kept] == [(7, "it jams", "A-1")]

    upgrade(bare_engine)
    assert schema_drift(bare_engine) == []
    with SqlUnitOfWork(bare_engine) as uow:
        assert uow.tickets.get(TicketId(7)) == expected
        assert uow.agents.list() == []
        assert uow.ticket_events.for_ticket(TicketId(7)) == []


def test_downgrade_to_base_and_up_again(engine: Engine) -> None:
    downgrade(engine)
    assert current_revision(engine) is None
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == HEAD
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.add(1, "{}", T0)
        uow.commit()


def test_migrations_match_the_models(engine: Engine) -> None:
    assert schema_drift(engine) == []


# ---- units of work: commit and rollback ---------------------------------------------


def test_leaving_without_commit_stores_nothing(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.customers.upsert(person(), T0)
        uow.inbox.add(7, "{}", T0)
        uow.outbox.add(OutgoingMessage(chat_id=42, kind=MessageKind.SEND, text="hi"), T0)
        uow.agents.add(Agent(UserId(5), "Anna"), T0)
        uow.audit.add(AuditEntry(at=T0, action="agents.add", allowed=True))
        uow.ticket_events.add(TicketEvent(TicketId(1), TicketEventKind.OPENED, T0))
    with SqlUnitOfWork(engine) as uow:
        assert uow.customers.get(ChatId(42)) is None
        assert uow.inbox.last_update_id() is None
        assert uow.outbox.pending() == []
        assert uow.agents.list() == []
        assert uow.audit.recent() == []
        assert uow.ticket_events.for_ticket(TicketId(1)) == []


def test_an_exception_rolls_back_and_propagates(engine: Engine) -> None:
    with pytest.raises(RuntimeError, match="boom"), SqlUnitOfWork(engine) as uow:
        uow.tickets.add(new_ticket())
        uow.conversations.save(Conversation(chat_id=ChatId(42)))
        raise RuntimeError("boom")
    with SqlUnitOfWork(engine) as uow:
        assert uow.tickets.for_customer(ChatId(42)) == []
        assert uow.conversations.get(ChatId(42)) is None


def test_commit_stores_and_closes(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.inbox.add(1, "{}", T0)
        uow.commit()
        with pytest.raises(StorageError, match="closed"):
            uow.inbox.pending()
        with pytest.raises(StorageError, match="closed"):
            uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.pending() == [InboxItem(update_id=1, payload="{}")]


def test_a_unit_of_work_is_used_once(engine: Engine) -> None:
    uow = SqlUnitOfWork(engine)
    with pytest.raises(StorageError, match="not entered"):
        uow.inbox.pending()
    with uow:
        pass
    with pytest.raises(StorageError, match="used once"), uow:
        pass


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow, pytest.raises(Exception, match="naive datetime"):
        uow.inbox.add(1, "{}", datetime(2025, 1, 1, 12, 0))


# ---- customers ----------------------------------------------------------------------


def test_customer_upsert_creates_then_refreshes(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.customers.upsert(person(BIG_CHAT, "Ada"), T0)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        uow.customers.upsert(
            Person(chat_id=BIG_CHAT, user_id=BIG_USER, name="Ada L.", language="en"), T0
        )
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.customers.get(BIG_CHAT) == Person(
            chat_id=BIG_CHAT, user_id=BIG_USER, name="Ada L.", username=None, language="en"
        )
        assert uow.customers.get(ChatId(1)) is None


def test_a_chosen_language_survives_telegrams_on_every_update(engine: Engine) -> None:
    telegram = Person(chat_id=BIG_CHAT, user_id=BIG_USER, name="Ada", language="en-GB")
    with SqlUnitOfWork(engine) as uow:
        uow.customers.upsert(telegram, T0)
        uow.customers.choose_language(BIG_CHAT, "ru", T0)
        uow.customers.choose_language(ChatId(1), "es", T0)  # unknown chat: no-op
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        stored = uow.customers.upsert(telegram, T0 + timedelta(minutes=1))
        assert stored == replace(telegram, language="ru")  # what get() says, in one statement
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        found = uow.customers.get(BIG_CHAT)
        assert found is not None and found.language == "ru"
        assert uow.customers.get(ChatId(1)) is None


def test_customer_blocked_mark_and_upsert_clears_it(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.customers.upsert(person(BIG_CHAT), T0)
        assert not uow.customers.is_blocked(BIG_CHAT)
        uow.customers.mark_blocked(BIG_CHAT, True, T0)
        assert uow.customers.is_blocked(BIG_CHAT)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.customers.is_blocked(BIG_CHAT)
        assert not uow.customers.is_blocked(12345)  # unknown chat
        uow.customers.mark_blocked(12345, True, T0)  # unknown chat: no-op
        uow.customers.upsert(person(BIG_CHAT), T0 + timedelta(hours=1))
        assert not uow.customers.is_blocked(BIG_CHAT)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert not uow.customers.is_blocked(BIG_CHAT)


# ---- conversations ------------------------------------------------------------------


def test_conversation_round_trip_with_json_data(engine: Engine) -> None:
    data = {
        "candidates": [{"id": "printer-jam", "score": 91.5}, {"id": "wifi", "score": 70}],
        "text": "Drucker — klemmt 🖨️",
        "nested": {"ok": True, "none": None},
    }
    with SqlUnitOfWork(engine) as uow:
        assert uow.conversations.get(BIG_CHAT) is None
        uow.conversations.save(
            Conversation(
                chat_id=BIG_CHAT, state=State.CHOOSE, step=3, ticket_id=TicketId(5), data=data
            )
        )
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        loaded = uow.conversations.get(BIG_CHAT)
        assert loaded == Conversation(
            chat_id=BIG_CHAT, state=State.CHOOSE, step=3, ticket_id=TicketId(5), data=data
        )
        assert loaded is not None
        assert loaded.state is State.CHOOSE
        loaded.state = State.DESCRIBE
        loaded.step = 4
        loaded.ticket_id = None
        loaded.data = {}
        uow.conversations.save(loaded)
        assert uow.conversations.get(BIG_CHAT) == Conversation(chat_id=BIG_CHAT, step=4)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.conversations.get(BIG_CHAT) == Conversation(chat_id=BIG_CHAT, step=4)


# ---- tickets ------------------------------------------------------------------------


def test_ticket_ids_are_assigned_on_add(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        first = uow.tickets.add(new_ticket())
        second_input = new_ticket(summary="wifi drops")
        second = uow.tickets.add(second_input)
        uow.commit()
    assert first.id is not None and second.id is not None
    assert second.id > first.id
    assert second is second_input
    assert first.ref == f"T-{first.id:05d}"
    with SqlUnitOfWork(engine) as uow, pytest.raises(StorageError, match="already stored"):
        uow.tickets.add(first)


def test_ticket_round_trip_and_save(engine: Engine) -> None:
    tried = [{"id": "printer-jam", "score": 88.2}, {"id": "printer-driver", "score": 61}]
    with SqlUnitOfWork(engine) as uow:
        ticket = uow.tickets.add(new_ticket(BIG_CHAT))
        uow.commit()
    assert ticket.id is not None
    later = T0 + timedelta(minutes=5)
    with SqlUnitOfWork(engine) as uow:
        loaded = uow.tickets.get(ticket.id)
        assert loaded == ticket
        assert loaded is not None
        loaded.status = TicketStatus.REPLACEMENT_REQUESTED
        loaded.entry_id = "printer-jam"
        loaded.order_number = "A-10042"
        loaded.purchase_date = date(2025, 2, 14)
        loaded.tried = tried
        loaded.updated_at = later
        uow.tickets.save(loaded)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        again = uow.tickets.get(ticket.id)
    assert again is not None
    assert again.chat_id == BIG_CHAT
    assert again.status is TicketStatus.REPLACEMENT_REQUESTED
    assert again.entry_id == "printer-jam"
    assert again.order_number == "A-10042"
    assert again.purchase_date == date(2025, 2, 14)
    assert again.tried == tried
    assert again.created_at == T0
    assert again.updated_at == later
    assert_utc(again.created_at)
    assert_utc(again.updated_at)


def test_ticket_topic_card_and_assignee_round_trip(engine: Engine) -> None:
    """Telegram ids beyond 32 bits, set and cleared again."""
    with SqlUnitOfWork(engine) as uow:
        ticket = uow.tickets.add(new_ticket(BIG_CHAT))
        uow.commit()
    assert ticket.id is not None
    assert (ticket.topic_id, ticket.card_message_id, ticket.assignee_id) == (None, None, None)
    with SqlUnitOfWork(engine) as uow:
        loaded = uow.tickets.get(ticket.id)
        assert loaded is not None
        loaded.topic_id = 2**33 + 1
        loaded.card_message_id = 2**34 + 1
        loaded.assignee_id = UserId(BIG_USER)
        uow.tickets.save(loaded)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        again = uow.tickets.get(ticket.id)
        assert again is not None
        assert (again.topic_id, again.card_message_id, again.assignee_id) == (
            2**33 + 1,
            2**34 + 1,
            BIG_USER,
        )
        again.assignee_id = None  # handed back
        uow.tickets.save(again)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        final = uow.tickets.get(ticket.id)
        assert final is not None
        assert (final.topic_id, final.assignee_id) == (2**33 + 1, None)
    with SqlUnitOfWork(engine) as uow:  # a new ticket can carry them from the start
        born = uow.tickets.add(
            Ticket(BIG_CHAT, "x", TicketStatus.WAITING_AGENT, T0, T0, topic_id=9, assignee_id=None)
        )
        uow.commit()
    assert born.id is not None
    with SqlUnitOfWork(engine) as uow:
        stored = uow.tickets.get(born.id)
        assert stored is not None and stored.topic_id == 9


def test_ticket_get_and_save_unknown(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        assert uow.tickets.get(TicketId(999)) is None
        stray = new_ticket()
        stray.id = TicketId(999)
        with pytest.raises(NotFound):
            uow.tickets.save(stray)
        with pytest.raises(NotFound):
            uow.tickets.save(new_ticket())


def test_tickets_for_customer_newest_first(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        for hours in (0, 2, 1):
            uow.tickets.add(new_ticket(42, f"t{hours}", T0 + timedelta(hours=hours)))
        uow.tickets.add(new_ticket(43, "someone else"))
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert [t.summary for t in uow.tickets.for_customer(ChatId(42))] == ["t2", "t1", "t0"]
        assert [t.summary for t in uow.tickets.for_customer(ChatId(42), limit=2)] == ["t2", "t1"]
        assert uow.tickets.for_customer(ChatId(44)) == []


# ---- transcript ---------------------------------------------------------------------


def test_transcript_round_trip(engine: Engine) -> None:
    lines = [
        TranscriptLine(BIG_CHAT, Direction.IN, "it jams", T0),
        TranscriptLine(BIG_CHAT, Direction.OUT, "try this", T0, ticket_id=TicketId(3)),
        TranscriptLine(BIG_CHAT, Direction.NOTE, "internal", T0 + timedelta(seconds=1)),
    ]
    with SqlUnitOfWork(engine) as uow:
        for line in lines:
            uow.transcript.add(line)
        uow.transcript.add(TranscriptLine(ChatId(1), Direction.IN, "other chat", T0))
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.transcript.for_chat(BIG_CHAT) == lines
        assert uow.transcript.for_chat(BIG_CHAT, limit=1) == lines[-1:]


# ---- ticket events ------------------------------------------------------------------


def test_ticket_events_oldest_first_ties_in_order_added(engine: Engine) -> None:
    later = T0 + timedelta(minutes=3)
    events = [
        TicketEvent(TicketId(1), TicketEventKind.OPENED, T0),
        TicketEvent(TicketId(1), TicketEventKind.ESCALATED, T0, detail="no match"),
        TicketEvent(TicketId(1), TicketEventKind.TAKEN, later, actor_id=UserId(BIG_USER)),
        TicketEvent(TicketId(1), TicketEventKind.RESOLVED, later, actor_id=UserId(BIG_USER)),
    ]
    with SqlUnitOfWork(engine) as uow:
        for event in (events[2], events[0], events[1], events[3]):  # not in time order
            uow.ticket_events.add(event)
        uow.ticket_events.add(TicketEvent(TicketId(2), TicketEventKind.OPENED, T0))
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        got = uow.ticket_events.for_ticket(TicketId(1))
        assert uow.ticket_events.for_ticket(TicketId(3)) == []
    assert got == [events[0], events[1], events[2], events[3]]
    assert all(type(event.kind) is TicketEventKind for event in got)
    assert_utc(got[2].at)


# ---- agents -------------------------------------------------------------------------

ANNA = UserId(BIG_USER)
ADMIN = UserId(7_000_000_001)


def test_agents_add_get_list(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        assert uow.agents.list() == []
        assert not uow.agents.is_agent(ANNA)
        uow.agents.add(Agent(ANNA, "Anna", added_by=ADMIN), T0)
        # added earlier, from the command line; a bigger id, so the order is by time
        uow.agents.add(Agent(UserId(2**40), "Bob"), T0 - timedelta(days=1))
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.agents.is_agent(ANNA)
        assert uow.agents.get(ANNA) == Agent(ANNA, "Anna", added_by=ADMIN, added_at=T0)
        assert uow.agents.get(UserId(6)) is None
        assert [(a.user_id, a.name, a.added_by) for a in uow.agents.list()] == [
            (2**40, "Bob", None),
            (ANNA, "Anna", ADMIN),
        ]


def test_adding_a_current_agent_again_renames_and_keeps_when_and_who(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.agents.add(Agent(ANNA, "Anna", added_by=ADMIN), T0)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        uow.agents.add(Agent(ANNA, "Anna K.", added_by=None), T0 + timedelta(days=2))
        assert uow.agents.get(ANNA) == Agent(ANNA, "Anna K.", added_by=ADMIN, added_at=T0)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.agents.list() == [Agent(ANNA, "Anna K.", added_by=ADMIN, added_at=T0)]


def test_removing_an_agent_keeps_the_row_and_adding_again_clears_it(engine: Engine) -> None:
    later, latest = T0 + timedelta(days=1), T0 + timedelta(days=2)
    with SqlUnitOfWork(engine) as uow:
        uow.agents.add(Agent(ANNA, "Anna", added_by=ADMIN), T0)
        uow.agents.add(Agent(UserId(5), "Bob"), T0)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.agents.remove(ANNA, later) is True
        assert uow.agents.remove(ANNA, later) is False  # already removed
        assert uow.agents.remove(UserId(6), later) is False  # never an agent
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert not uow.agents.is_agent(ANNA)
        assert uow.agents.get(ANNA) is None
        assert [a.user_id for a in uow.agents.list()] == [5]
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT name, removed_at FROM agent WHERE user_id = :u"), {"u": ANNA}
        ).one()
    assert kept[0] == "Anna" and kept[1] is not None  # the row stays for the audit's sake

    with SqlUnitOfWork(engine) as uow:
        uow.agents.add(Agent(ANNA, "Anna", added_by=None), latest)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.agents.is_agent(ANNA)
        # back as newly added: when and by whom are the new addition's
        assert uow.agents.get(ANNA) == Agent(ANNA, "Anna", added_by=None, added_at=latest)
        assert [a.user_id for a in uow.agents.list()] == [5, ANNA]


# ---- audit --------------------------------------------------------------------------


def test_audit_round_trip_newest_first(engine: Engine) -> None:
    refused = AuditEntry(
        at=T0 + timedelta(seconds=1),
        action="resolve",
        allowed=False,
        actor_id=UserId(BIG_USER),
        chat_id=BIG_CHAT,
        ticket_id=TicketId(12),
        detail="not an agent",
    )
    cli = AuditEntry(at=T0, action="agents.add", allowed=True, detail="added 5 (Bob)")
    same_time = AuditEntry(at=T0, action="agents.remove", allowed=True)
    with SqlUnitOfWork(engine) as uow:
        uow.audit.add(cli)
        uow.audit.add(refused)
        uow.audit.add(same_time)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.audit.recent() == [refused, same_time, cli]
        assert uow.audit.recent(limit=1) == [refused]
        (first,) = uow.audit.recent(limit=1)
    assert first.allowed is False
    assert_utc(first.at)


# ---- inbox --------------------------------------------------------------------------


def test_inbox_drops_duplicates(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.add(10, '{"n": 1}', T0) is True
        assert uow.inbox.add(10, '{"n": 2}', T0) is False
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.add(10, '{"n": 3}', T0) is False
        assert uow.inbox.pending() == [InboxItem(update_id=10, payload='{"n": 1}')]


def test_inbox_pending_mark_done_and_last_update_id(engine: Engine) -> None:
    big = 2**40
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.last_update_id() is None
        for update_id in (big, 3, 5):
            uow.inbox.add(update_id, f"u{update_id}", T0)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert [i.update_id for i in uow.inbox.pending()] == [3, 5, big]
        assert [i.update_id for i in uow.inbox.pending(limit=2)] == [3, 5]
        uow.inbox.mark_done(3, T0)
        uow.inbox.mark_done(big, T0, error="ValueError: bad update")
        with pytest.raises(NotFound):
            uow.inbox.mark_done(4, T0)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.pending() == [InboxItem(update_id=5, payload="u5")]
        assert uow.inbox.last_update_id() == big


def test_inbox_concurrent_duplicates_store_one_row(engine: Engine) -> None:
    """Two writers race on the same update_id: both finish, exactly one stored it."""
    results: list[bool] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def insert() -> None:
        try:
            barrier.wait()
            with SqlUnitOfWork(engine) as uow:
                stored = uow.inbox.add(777, "{}", T0)
                uow.commit()
            results.append(stored)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=insert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(results) == [False, True]
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.pending() == [InboxItem(update_id=777, payload="{}")]


def test_concurrent_read_then_write_units_do_not_fail(engine: Engine) -> None:
    """Readers that then write (the classic SQLite lock upgrade) wait instead of failing."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for n in range(15):
                with SqlUnitOfWork(engine) as uow:
                    uow.outbox.pending()
                    uow.inbox.add(worker * 1000 + n, "{}", T0)
                    uow.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with SqlUnitOfWork(engine) as uow:
        assert len(uow.inbox.pending(limit=1000)) == 90


# ---- outbox -------------------------------------------------------------------------


def test_outbox_round_trip(engine: Engine) -> None:
    buttons = [
        [{"label": "Yes ✅", "data": "fixed:yes:3"}, {"label": "No", "data": "fixed:no:3"}],
        [{"label": "Talk to a person", "data": "human"}],
    ]
    topic = 2**33 + 1
    with SqlUnitOfWork(engine) as uow:
        first = uow.outbox.add(
            OutgoingMessage(
                chat_id=BIG_CHAT, kind=MessageKind.SEND, text="<b>Hi</b>", buttons=buttons
            ),
            T0,
        )
        second = uow.outbox.add(
            OutgoingMessage(
                chat_id=BIG_CHAT, kind=MessageKind.SEND, text="card", message_thread_id=topic
            ),
            T0,
        )
        third = uow.outbox.add(
            OutgoingMessage(
                chat_id=BIG_CHAT, kind=MessageKind.CLEAR_BUTTONS, target_message_id=2**35
            ),
            T0,
        )
        uow.commit()
    assert first < second < third
    with SqlUnitOfWork(engine) as uow:
        items = uow.outbox.pending()
    assert [i.id for i in items] == [first, second, third]
    one, two, three = items
    assert (one.chat_id, one.kind, one.text, one.buttons) == (
        BIG_CHAT,
        MessageKind.SEND,
        "<b>Hi</b>",
        buttons,
    )
    assert (one.status, one.attempts, one.next_attempt_at) == (OutboxStatus.PENDING, 0, None)
    assert one.created_at == T0
    assert_utc(one.created_at)
    assert (two.buttons, two.message_thread_id, two.target_message_id) == (None, topic, None)
    assert (three.kind, three.text, three.target_message_id) == (
        MessageKind.CLEAR_BUTTONS,
        "",
        2**35,
    )


def test_outbox_pending_is_in_id_order_whatever_next_attempt_at(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        ids = [uow.outbox.add(OutgoingMessage(42, MessageKind.SEND, f"m{n}"), T0) for n in range(3)]
        uow.outbox.mark_retry(ids[0], T0 + timedelta(hours=1), "timeout")
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert [i.id for i in uow.outbox.pending()] == ids
        assert [i.id for i in uow.outbox.pending(limit=2)] == ids[:2]


def test_outbox_retry_sent_failed(engine: Engine) -> None:
    later = datetime(2025, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))  # 12:00 UTC
    with SqlUnitOfWork(engine) as uow:
        retried, sent, failed = (
            uow.outbox.add(OutgoingMessage(42, MessageKind.SEND, name), T0)
            for name in ("r", "s", "f")
        )
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        uow.outbox.mark_retry(retried, later, "429 retry_after=3")
        uow.outbox.mark_retry(retried, later, "429 retry_after=5")
        uow.outbox.mark_sent(sent, T0, telegram_message_id=2**36)
        uow.outbox.mark_failed(failed, "400 Bad Request: chat not found")
        with pytest.raises(NotFound):
            uow.outbox.mark_sent(10_000, T0, None)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        (pending,) = uow.outbox.pending()
        by_id = {item.id: item for item in uow.outbox.for_chat(42)}
    assert pending.id == retried
    assert pending.attempts == 2
    assert pending.error == "429 retry_after=5"
    assert pending.next_attempt_at == later
    assert_utc(pending.next_attempt_at)
    assert pending.next_attempt_at is not None and pending.next_attempt_at.hour == 12
    assert (by_id[sent].status, by_id[sent].telegram_message_id) == (OutboxStatus.SENT, 2**36)
    assert (by_id[failed].status, by_id[failed].attempts) == (OutboxStatus.FAILED, 1)
    assert by_id[failed].error == "400 Bad Request: chat not found"


def test_outbox_cancel_for_chat(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        a1 = uow.outbox.add(OutgoingMessage(BIG_CHAT, MessageKind.SEND, "a1"), T0)
        a2 = uow.outbox.add(OutgoingMessage(BIG_CHAT, MessageKind.SEND, "a2"), T0)
        a3 = uow.outbox.add(OutgoingMessage(BIG_CHAT, MessageKind.SEND, "a3"), T0)
        b1 = uow.outbox.add(OutgoingMessage(43, MessageKind.SEND, "b1"), T0)
        uow.outbox.mark_sent(a1, T0, 1)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.outbox.cancel_for_chat(BIG_CHAT, "blocked by the user") == 2
        assert uow.outbox.cancel_for_chat(BIG_CHAT, "again") == 0
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert [i.id for i in uow.outbox.pending()] == [b1]
        cancelled = uow.outbox.for_chat(BIG_CHAT, status=OutboxStatus.CANCELLED)
        assert [i.id for i in cancelled] == [a2, a3]
        assert {i.error for i in cancelled} == {"blocked by the user"}
        assert [i.id for i in uow.outbox.for_chat(BIG_CHAT)] == [a1, a2, a3]
        assert [i.id for i in uow.outbox.for_chat(BIG_CHAT, status=OutboxStatus.SENT)] == [a1]


def test_raw_sql_sees_utc(engine: Engine) -> None:
    """What is on disk is UTC, whatever offset the caller used."""
    at = datetime(2025, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    with SqlUnitOfWork(engine) as uow:
        uow.inbox.add(1, "{}", at)
        uow.commit()
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT received_at FROM inbox")).scalar()
    if isinstance(stored, str):  # SQLite
        assert stored.startswith("2025-03-01 12:00:00")
    else:
        assert stored == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# ---- only what is due, each chat in order -------------------------------------------


def test_outbox_due_reads_only_due_rows_and_keeps_each_chat_in_order(engine: Engine) -> None:
    later = T0 + timedelta(minutes=5)
    with SqlUnitOfWork(engine) as uow:
        backing_off = [uow.outbox.add(OutgoingMessage(42, MessageKind.SEND, "x"), T0)]
        uow.outbox.add(OutgoingMessage(42, MessageKind.SEND, "behind"), T0)
        other = uow.outbox.add(OutgoingMessage(43, MessageKind.SEND, "other chat"), T0)
        uow.outbox.mark_retry(backing_off[0], later, "network")
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        # the waiting row and the row queued behind it in its chat are not read at all
        assert [i.id for i in uow.outbox.claim(T0, later, 100)] == [other]
        assert uow.outbox.next_due_at(T0) == later
        # each chat's first row only: "behind" follows once the first is sent
        assert [i.id for i in uow.outbox.claim(later, later, 100)] == [backing_off[0]]
        assert uow.outbox.next_due_at(later) is None


def test_outbox_due_reaches_new_rows_behind_many_that_back_off(engine: Engine) -> None:
    """A full batch of rows that all wait must not hide a new row from the sender."""
    later = T0 + timedelta(minutes=5)
    with SqlUnitOfWork(engine) as uow:
        for chat in range(1, 121):  # 120 chats, each with a row backing off
            row = uow.outbox.add(OutgoingMessage(chat, MessageKind.SEND, "x"), T0)
            uow.outbox.mark_retry(row, later, "network")
        fresh = uow.outbox.add(OutgoingMessage(999, MessageKind.SEND, "new"), T0)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert [i.id for i in uow.outbox.claim(T0, later, 100)] == [fresh]


def test_outbox_retry_without_counting_an_attempt(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        row = uow.outbox.add(OutgoingMessage(42, MessageKind.SEND, "hi"), T0)
        uow.outbox.mark_retry(row, T0, "429", count=False)
        uow.outbox.mark_retry(row, T0, "network")
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        (item,) = uow.outbox.pending()
    assert (item.attempts, item.error) == (1, "network")


def test_outbox_keeps_a_429_pause_for_a_restarted_sender(engine: Engine) -> None:
    """The latest retry time of a pending row charged a 429; other waits do not count."""
    with SqlUnitOfWork(engine) as uow:
        paused = uow.outbox.add(OutgoingMessage(42, MessageKind.SEND, "a"), T0)
        network = uow.outbox.add(OutgoingMessage(43, MessageKind.SEND, "b"), T0)
        sent = uow.outbox.add(OutgoingMessage(44, MessageKind.SEND, "c"), T0)
        uow.outbox.mark_retry(paused, T0 + timedelta(seconds=30), f"{RETRY_AFTER} 30", count=False)
        uow.outbox.mark_retry(network, T0 + timedelta(minutes=5), "network: down", count=False)
        uow.outbox.mark_retry(sent, T0 + timedelta(minutes=9), f"{RETRY_AFTER} 540", count=False)
        uow.outbox.mark_sent(sent, T0, 1)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.outbox.paused_until(T0) == T0 + timedelta(seconds=30)
        assert uow.outbox.paused_until(T0 + timedelta(seconds=30)) is None  # over


def test_inbox_retry_holds_later_updates_of_that_chat_only(engine: Engine) -> None:
    later = T0 + timedelta(seconds=2)
    with SqlUnitOfWork(engine) as uow:
        uow.inbox.add(1, "a1", T0, chat_id=42)
        uow.inbox.add(2, "b1", T0, chat_id=43)
        uow.inbox.add(3, "a2", T0, chat_id=42)
        uow.inbox.add(4, "no chat", T0)
        assert uow.inbox.mark_retry(1, later, "RuntimeError('bug')") == 1
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert [i.update_id for i in uow.inbox.pending(now=T0)] == [2, 4]
        assert [i.update_id for i in uow.inbox.pending()] == [1, 2, 3, 4]  # all, for a listing
        assert uow.inbox.next_due_at(T0) == later
        due = uow.inbox.pending(now=later)
    assert [(i.update_id, i.chat_id, i.attempts) for i in due] == [
        (1, 42, 1),
        (2, 43, 0),
        (3, 42, 0),
        (4, None, 0),
    ]


def test_a_dropped_connection_is_temporary_and_a_bug_is_not(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect() as victim:
            pid = victim.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with engine.connect() as killer:
                killer.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            with pytest.raises(Exception) as dropped:
                victim.exec_driver_sql("SELECT 1")
    else:
        with SqlUnitOfWork(engine) as holder:
            holder.inbox.add(1, "{}", T0)  # holds SQLite's write lock
            impatient = create_engine(engine.url, connect_args={"timeout": 0})
            with impatient.connect() as connection, pytest.raises(Exception) as dropped:
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # "database is locked"
            impatient.dispose()
    assert is_temporary(dropped.value), repr(dropped.value)
    with SqlUnitOfWork(engine) as uow, pytest.raises(Exception) as bug:
        uow.outbox.mark_sent(10_000, T0, None)  # NotFound: a bug, not the database
    assert not is_temporary(bug.value)
    with engine.connect() as connection, pytest.raises(Exception) as bad_sql:
        connection.exec_driver_sql("SELECT * FROM no_such_table")
    assert not is_temporary(bad_sql.value)


def test_outbox_rows_for_a_tickets_topic_and_the_ticket_keeps_its_topic_and_card(
    engine: Engine,
) -> None:
    with SqlUnitOfWork(engine) as uow:
        ticket = uow.tickets.add(new_ticket())
        assert ticket.id is not None
        copy_row = uow.outbox.add(
            OutgoingMessage(
                BIG_CHAT,
                MessageKind.COPY,
                ticket_id=ticket.id,
                from_chat_id=BIG_USER,
                source_message_id=2**40,
            ),
            T0,
        )
        uow.tickets.set_topic(ticket.id, 2**33)
        uow.tickets.set_card(ticket.id, 2**34)
        with pytest.raises(NotFound):
            uow.tickets.set_topic(TicketId(10_000), 1)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        [row] = uow.outbox.pending()
        stored = uow.tickets.get(ticket.id)
    assert (row.id, row.kind, row.ticket_id) == (copy_row, MessageKind.COPY, ticket.id)
    assert (row.from_chat_id, row.source_message_id) == (BIG_USER, 2**40)
    assert stored is not None and (stored.topic_id, stored.card_message_id) == (2**33, 2**34)


def test_first_response_times_latest_tickets_first(engine: Engine) -> None:
    handed = [T0 + timedelta(hours=n) for n in range(4)]
    with SqlUnitOfWork(engine) as uow:
        events = uow.ticket_events
        for n, (at, minutes) in enumerate(zip(handed, (10, 30, 20, None), strict=True), start=1):
            events.add(TicketEvent(TicketId(n), TicketEventKind.ESCALATED, at))
            if minutes is not None:  # ticket 4 still waits: no first reply yet
                replied = at + timedelta(minutes=minutes)
                events.add(TicketEvent(TicketId(n), TicketEventKind.AGENT_REPLIED, replied))
                later = replied + timedelta(hours=1)  # a second reply does not count
                events.add(TicketEvent(TicketId(n), TicketEventKind.AGENT_REPLIED, later))
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.ticket_events.first_response_times() == [
            timedelta(minutes=20),
            timedelta(minutes=30),
            timedelta(minutes=10),
        ]
        assert uow.ticket_events.first_response_times(limit=1) == [timedelta(minutes=20)]

"""`supportbot kb ...` and `supportbot agents ...`: what an admin types, and what they read."""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.cli import main
from bot.storage import SqlUnitOfWork, current_revision
from flows.model import AuditEntry, UserId

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("KNOWLEDGE_DIR", "MATCH_ANSWER_THRESHOLD", "MATCH_SUGGEST_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MATCHER", "lexical")


def test_validate_the_bundled_knowledge(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "validate"]) == 0
    assert capsys.readouterr().out.startswith("OK: 37 entries, 6 products")


def test_validate_checks_tests_with_the_matcher_and_bands_the_bot_uses(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # bands no phrasing can reach: every test misses, with the bot's own settings
    monkeypatch.setenv("MATCHER", "lexical")
    monkeypatch.setenv("MATCH_ANSWER_THRESHOLD", "99.5")
    monkeypatch.setenv("MATCH_SUGGEST_THRESHOLD", "99")
    assert main(["kb", "validate"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "below the suggest threshold" in out[1]
    assert out[-1] == (
        "tests: checked with the lexical matcher · thresholds: answer 99.5, suggest 99, margin 8"
    )


def test_validate_names_file_entry_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "kettles.yaml").write_text(
        "product: Kettles\nentries:\n"
        "  - id: kettle-cold\n    title: Cold water\n    symptoms: [kettle is cold]\n"
        "    fix: ''\n"
        "  - id: kettle-leaks\n    title: Leaks\n    symptoms: [water under it]\n    fix: Dry.\n"
        "  - id: kettle-leaks\n    title: Again\n    symptoms: [again]\n    fix: Do it.\n",
        encoding="utf-8",
    )
    assert main(["kb", "validate", "--knowledge", str(kb)]) == 1
    out = capsys.readouterr().out
    assert "kettles.yaml › kettle-cold › fix" in out
    assert "kettle-leaks" in out and "duplicate" in out.lower()


def test_match_prints_ranked_candidates_and_band(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "match", "my earbuds won't connect to my phone"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"the (lexical|semantic) matcher · thresholds: answer \d+, suggest \d+, margin \d+", out[0]
    )
    assert out[1].endswith(": answer")
    assert "headphones-bluetooth-pairing" in out[2]
    assert len(out) == 5


def test_match_json_reads_one_query_a_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    queries = "where is my parcel\n\nzzzz qqqq\nmy watch won't charge\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(queries))
    assert main(["kb", "match", "--json", "--top", "2"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["query"] for line in lines] == [
        "where is my parcel",
        "",
        "zzzz qqqq",
        "my watch won't charge",
    ]
    assert lines[0]["band"] == "answer" and lines[0]["matches"][0]["id"].startswith("order")
    thresholds = lines[1].pop("thresholds")
    assert lines[1] == {"query": "", "band": "unknown", "matches": []}
    assert set(thresholds) == {"answer", "suggest", "margin"}
    assert thresholds["suggest"] < thresholds["answer"]
    assert lines[2]["band"] == "unknown"
    assert all(len(line["matches"]) <= 2 for line in lines)
    scores = [m["score"] for m in lines[3]["matches"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 100 for s in scores)


def test_match_in_a_language_matches_as_its_customers_are_matched(
    capsys: pytest.CaptureFixture[str],
) -> None:
    russian = "мои наушники не подключаются"
    assert main(["kb", "match", russian, "--json"]) == 0  # against the English symptoms
    assert json.loads(capsys.readouterr().out)["band"] == "unknown"
    assert main(["kb", "match", russian, "--lang", "ru"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == f"{russian!r}: answer"
    assert out[2].endswith("headphones-bluetooth-pairing  Наушники не подключаются по Bluetooth")
    assert main(["kb", "match", "mis auriculares no se conectan", "--lang", "es-MX", "--json"]) == 0
    spanish = json.loads(capsys.readouterr().out)
    assert spanish["band"] == "answer"
    assert spanish["matches"][0]["id"] == "headphones-bluetooth-pairing"


def test_match_refuses_a_language_not_shipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "match", "mes écouteurs", "--lang", "fr"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "supportbot: --lang 'fr' is not shipped; the responses exist in en, es, ru\n"
    )


def test_match_refuses_a_bad_top(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "match", "--top", "0", "x"]) == 2
    assert "--top must be at least 1" in capsys.readouterr().err


def test_semantic_asked_for_but_not_runnable_says_how_to_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MATCHER", "semantic")
    monkeypatch.setenv("SEMANTIC_MODEL_DIR", str(tmp_path))  # no model in it
    assert main(["kb", "match", "my watch will not charge"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("supportbot: ") and "supportbot[semantic]" in err
    assert "Traceback" not in err


def test_matcher_choice_is_validated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MATCHER", "magic")
    assert main(["kb", "match", "x"]) == 2
    assert "Setting MATCHER:" in capsys.readouterr().err


def test_version_prints_the_version_of_the_installed_package(
    capsys: pytest.CaptureFixture[str],
) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"supportbot {version}\n"


@pytest.mark.parametrize(
    ("group", "commands"),
    [("kb", ("validate", "match")), ("db", ("upgrade",)), ("agents", ("add", "remove", "list"))],
)
def test_a_command_group_alone_prints_its_help_and_starts_no_bot(
    group: str,
    commands: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`supportbot kb` is someone looking for the kb commands: with a token configured it must
    not go on to serve customers in Telegram (nor, without one, open the chat)."""

    def start(*args: object) -> int:
        raise AssertionError(f"'supportbot {group}' started the bot")

    monkeypatch.setattr("bot.cli._run", start)
    monkeypatch.setattr("bot.cli._chat", start)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:secret")
    assert main([group]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"usage: supportbot {group} ")
    for command in commands:
        assert command in captured.err


# ---- agents -------------------------------------------------------------------------


@pytest.fixture
def agents_db(bare_engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """An empty database (SQLite, and PostgreSQL when configured) that DATABASE_URL names."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("ADMIN_IDS", raising=False)
    return bare_engine


def audit(engine: Engine) -> list[AuditEntry]:
    with SqlUnitOfWork(engine) as uow:
        return uow.audit.recent()


def agent_names(engine: Engine) -> dict[int, str]:
    with SqlUnitOfWork(engine) as uow:
        return {agent.user_id: agent.name for agent in uow.agents.list()}


def test_agents_add_rename_list_and_remove(
    agents_db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a database never migrated: the command creates the schema, as `run` would."""
    assert main(["agents", "add", "123456789", "--name", "Anna"]) == 0
    assert capsys.readouterr().out == "added agent 123456789 (Anna)\n"
    assert main(["agents", "add", "123456789", "--name", "Anna K."]) == 0
    assert "renamed to 'Anna K.'" in capsys.readouterr().out
    assert main(["agents", "add", "123456789"]) == 0  # no --name: the name stays
    assert "nothing changed" in capsys.readouterr().out
    assert main(["agents", "add", "9876543210"]) == 0
    capsys.readouterr()
    assert agent_names(agents_db) == {123456789: "Anna K.", 9876543210: ""}

    assert main(["agents", "list"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split("  ")[0] == "USER ID" and "NAME" in header and "BY" in header
    assert [row.split()[0] for row in rows] == ["123456789", "9876543210"]
    assert rows[0].index("Anna K.") == header.index("NAME") == rows[1].index("-")  # aligned
    assert all(row.endswith("command line") for row in rows)

    assert main(["agents", "remove", "123456789"]) == 0
    assert capsys.readouterr().out == "removed agent 123456789 (Anna K.)\n"
    assert agent_names(agents_db) == {9876543210: ""}
    assert main(["agents", "list"]) == 0
    assert "123456789 " not in capsys.readouterr().out

    entries = audit(agents_db)
    assert Counter(e.action for e in entries) == {"agents.add": 4, "agents.remove": 1}
    assert all(e.actor_id is None and e.allowed for e in entries)  # actor: the command line
    assert "removed agent 123456789 (Anna K.)" in {e.detail for e in entries}


def test_removing_someone_who_is_not_an_agent_says_so_and_exits_1(
    agents_db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agents", "remove", "5"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "supportbot: 5 is not an agent; nothing removed\n"
    assert main(["agents", "add", "5"]) == 0
    assert main(["agents", "remove", "5"]) == 0
    assert main(["agents", "remove", "5"]) == 1  # removed already
    entries = audit(agents_db)
    assert Counter(e.action for e in entries) == {"agents.remove": 3, "agents.add": 1}
    assert sum("not an agent" in e.detail for e in entries) == 2


@pytest.mark.parametrize(
    ("command", "given", "says"),
    [
        ("add", "@anna", "usernames can change hands"),
        ("add", "anna_k", "usernames can change hands"),
        ("remove", "@anna", "usernames can change hands"),
        ("add", "-1001234567890", "group or channel id"),
        ("add", "12ab", "expected a number"),
        ("add", "١٢٣", "expected a number"),  # digits, but not 0-9
        ("add", "0", "between 1 and 2^52"),
        ("add", str(2**52), "between 1 and 2^52"),
    ],
)
def test_agent_ids_must_be_numeric_user_ids(
    command: str, given: str, says: str, agents_db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agents", command, given]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"supportbot: {given!r} ")
    assert says in captured.err and captured.err.count("\n") == 1
    if "username" in says or "group" in says:
        assert "@userinfobot" in captured.err  # how to find the number
    assert current_revision(agents_db) is None  # refused before the database was touched


@pytest.mark.parametrize("name", ["x" * 257, "Anna\nKarenina", "", "   "])
def test_agent_names_are_one_printable_line_that_fits(
    name: str, agents_db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agents", "add", "5", "--name", name]) == 2
    assert capsys.readouterr().err.startswith("supportbot: --name ")
    assert current_revision(agents_db) is None


def test_an_empty_name_is_refused_and_the_agent_keeps_theirs(
    agents_db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agents", "add", "5", "--name", "Anna"]) == 0
    capsys.readouterr()
    assert main(["agents", "add", "5", "--name", " "]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "supportbot: --name is empty: give the name the team knows them by, or leave --name"
        " out (an agent keeps the name they have)\n"
    )
    assert agent_names(agents_db) == {5: "Anna"}


def test_admins_are_listed_and_noted_as_agents_too(
    agents_db: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_IDS", "111,222")
    assert main(["agents", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No agents yet. Add one with: supportbot agents add ID")
    assert "Admins (ADMIN_IDS), who are agents too: 111, 222" in out
    assert main(["agents", "add", "111"]) == 0
    capsys.readouterr()
    assert main(["agents", "remove", "111"]) == 0
    assert "111 is an admin (ADMIN_IDS)" in capsys.readouterr().out
    assert UserId(111) not in agent_names(agents_db)

"""`supportbot kb ...`: what an admin types, and what they read."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from bot.cli import main

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
    assert out[0].endswith(": answer")
    assert "headphones-bluetooth-pairing" in out[1]
    assert len(out) == 4


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
    assert lines[1] == {"query": "", "band": "unknown", "matches": []}
    assert lines[2]["band"] == "unknown"
    assert all(len(line["matches"]) <= 2 for line in lines)
    scores = [m["score"] for m in lines[3]["matches"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 100 for s in scores)


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
    ("group", "commands"), [("kb", ("validate", "match")), ("db", ("upgrade",))]
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

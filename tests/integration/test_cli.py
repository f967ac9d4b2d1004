"""`supportbot kb ...`: what an admin types, and what they read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main


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

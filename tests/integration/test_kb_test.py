"""`supportbot kb test [DIR]`: what a knowledge repository's CI runs, and what its admin reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from knowledge.semantic import semantic_available

LEXICAL = "the lexical matcher · thresholds: answer 44, suggest 34, margin 8"

KETTLES = """\
product: Kettles
entries:
  - id: kettle-no-heat
    title: The kettle does not heat
    symptoms:
      - my kettle won't boil
      - water stays cold in the kettle
      - kettle light on but no heat
    fix: Descale it.
    tests:
      - the kettle will not boil water
    translations:
      ru:
        symptoms: [чайник не кипятит, вода в чайнике остается холодной]
        tests: [чайник не кипятит воду]
  - id: kettle-leaks
    title: The kettle leaks
    symptoms:
      - water leaks from the bottom of the kettle
      - puddle under my kettle
      - the kettle is dripping
    fix: Tighten the lid.
    tests:
      - there is a puddle under the kettle
"""

TOASTERS = """\
product: Toasters
entries:
  - id: toaster-burns
    title: The toaster burns the toast
    symptoms:
      - toast comes out burnt
      - toaster burns my bread
      - bread is black on one side
    fix: Turn the dial down.
    tests:
      - {test}
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("KNOWLEDGE_DIR", "MATCH_ANSWER_THRESHOLD", "MATCH_SUGGEST_THRESHOLD", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MATCHER", "lexical")


def knowledge(tmp_path: Path, toaster_test: str = "my toast is burnt") -> Path:
    directory = tmp_path / "kb"
    directory.mkdir(exist_ok=True)
    (directory / "kettles.yaml").write_text(KETTLES, encoding="utf-8")
    (directory / "toasters.yaml").write_text(TOASTERS.format(test=toaster_test), encoding="utf-8")
    return directory


def rows(out: str) -> list[list[str]]:
    """The table's rows, cells stripped (each phrasing here fits on one line)."""
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in out.splitlines()
        if line.startswith("│")
    ]


def test_every_phrasing_of_every_language_passes_in_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "test", str(knowledge(tmp_path))]) == 0
    captured = capsys.readouterr()
    table = rows(captured.out)
    assert [row[:4] + row[5:] for row in table] == [
        ["kettle-no-heat", "en", "the kettle will not boil water", "answer", "", "PASS"],
        ["kettle-leaks", "en", "there is a puddle under the kettle", "answer", "", "PASS"],
        ["toaster-burns", "en", "my toast is burnt", "answer", "", "PASS"],
        ["kettle-no-heat", "ru", "чайник не кипятит воду", "answer", "", "PASS"],
    ]
    assert all(float(row[4]) >= 44 for row in table)  # the answer band's threshold
    lines = captured.out.splitlines()
    assert lines[-2:] == [
        f"4 passed, 0 failed, with {LEXICAL}",
        f"translations (ru): {LEXICAL}",
    ]
    assert "warning" not in captured.out  # distinct entries: no near-duplicates
    assert captured.err == ""  # no progress bar outside a terminal


def test_a_phrasing_that_finds_another_entry_fails_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = knowledge(tmp_path, toaster_test="water is leaking from the bottom")
    assert main(["kb", "test", str(directory)]) == 1
    out = capsys.readouterr().out
    assert [
        "toaster-burns",
        "en",
        "water is leaking from the bottom",
        "answer",
        "kettle-leaks",
        "FAIL",
    ] in [row[:4] + row[5:] for row in rows(out)]
    assert (
        "FAIL toasters.yaml › toaster-burns › tests: 'water is leaking from the bottom' should"
        " match this entry, but 'kettle-leaks' ranked first with score"
    ) in out
    assert "3 passed, 1 failed, with the lexical matcher" in out


def test_thresholds_come_from_the_settings_the_bot_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MATCH_ANSWER_THRESHOLD", "99.5")
    monkeypatch.setenv("MATCH_SUGGEST_THRESHOLD", "99")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(knowledge(tmp_path)))  # DIR left out: this one
    assert main(["kb", "test"]) == 1
    out = capsys.readouterr().out
    assert [row[3] for row in rows(out)] == ["unknown"] * 4
    assert out.splitlines()[-2:] == [
        "0 passed, 4 failed, with the lexical matcher · thresholds: answer 99.5, suggest 99,"
        " margin 8",
        "translations (ru): the lexical matcher · thresholds: answer 99.5, suggest 99, margin 8",
    ]


def test_files_that_do_not_load_exit_2_naming_file_entry_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = knowledge(tmp_path)
    broken = KETTLES.replace("    fix: Descale it.\n", "    fix: ''\n")
    (directory / "kettles.yaml").write_text(broken, encoding="utf-8")
    assert main(["kb", "test", str(directory)]) == 2
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"1 problem(s) in {directory}:",
        "  kettles.yaml › kettle-no-heat › fix: missing or blank; write the steps that fix the"
        " problem",
    ]


def test_near_duplicate_symptoms_of_two_entries_are_a_warning_not_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = knowledge(tmp_path)
    twin = TOASTERS.format(test="my toast is burnt").replace(
        "      - bread is black on one side\n",
        "      - bread is black on one side\n      - My kettle wont boil!\n",
    )
    (directory / "toasters.yaml").write_text(twin, encoding="utf-8")
    assert main(["kb", "test", str(directory)]) == 0
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("warning")]
    assert warnings == [
        "warning: entries kettle-no-heat (kettles.yaml) and toaster-burns (toasters.yaml) have"
        " near-duplicate symptoms: \"my kettle won't boil\" ~ 'My kettle wont boil!' (100)"
    ]
    assert main(["kb", "test", "--json", str(directory)]) == 0
    assert json.loads(capsys.readouterr().out)["near_duplicates"] == [
        {
            "language": "en",
            "entries": ["kettle-no-heat", "toaster-burns"],
            "files": ["kettles.yaml", "toasters.yaml"],
            "symptoms": ["my kettle won't boil", "My kettle wont boil!"],
            "score": 100.0,
            "more": 0,
        }
    ]


def test_json_is_one_object_with_results_duplicates_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = knowledge(tmp_path, toaster_test="water is leaking from the bottom")
    assert main(["kb", "test", "--json", str(directory)]) == 1
    report = json.loads(capsys.readouterr().out)
    failed = [result for result in report["results"] if not result["passed"]]
    assert failed == [
        {
            "entry": "toaster-burns",
            "file": "toasters.yaml",
            "language": "en",
            "phrasing": "water is leaking from the bottom",
            "band": "answer",
            "score": failed[0]["score"],
            "top": "kettle-leaks",
            "passed": False,
            "problem": failed[0]["problem"],
        }
    ]
    assert failed[0]["problem"].startswith("toasters.yaml › toaster-burns › tests: ")
    assert report["near_duplicates"] == []
    lexical = {"answer": 44.0, "suggest": 34.0, "margin": 8.0}
    assert report["summary"] == {
        "total": 4,
        "passed": 3,
        "failed": 1,
        "suggested_only": 0,
        "matchers": [
            {"language": "en", "matcher": LEXICAL, "thresholds": lexical},
            {"language": "ru", "matcher": LEXICAL, "thresholds": lexical},
        ],
    }


def test_json_for_files_that_do_not_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "test", "--json", str(tmp_path / "nowhere")]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == [
        {
            "file": str(tmp_path / "nowhere"),
            "entry": None,
            "field": None,
            "message": "no such directory",
        }
    ]


@pytest.mark.parametrize(
    "matcher",
    [
        "lexical",
        pytest.param(
            "auto",  # what MATCHER defaults to: the semantic matcher where installed
            marks=pytest.mark.skipif(
                not semantic_available(), reason="the semantic matcher is not installed"
            ),
        ),
    ],
)
def test_the_demo_knowledge_passes_with_no_near_duplicates(
    matcher: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MATCHER", matcher)
    assert main(["kb", "test"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and "warning" not in out
    assert ", 0 failed, with the " in out.splitlines()[-2]


def test_kb_alone_lists_test(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb"]) == 2
    assert "every tests: phrasing" in capsys.readouterr().err

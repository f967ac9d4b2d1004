"""Loading and validating knowledge files written to a real directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import (
    KnowledgeBaseError,
    KnowledgeError,
    Problem,
    default_knowledge_dir,
    load_knowledge,
    validate_knowledge,
)

GOOD_ENTRY = """\
  - id: headphones-bluetooth-pairing
    title: Headphones do not pair over Bluetooth
    symptoms:
      - my headphones won't connect to my phone
      - bluetooth pairing keeps failing
    fix: |
      1. Hold the power button for 7 seconds.
    replacement: {within_days: 30}
    tests:
      - cant pair my headphones with bluetooth
"""

SECOND_ENTRY = """\
  - id: headphones-wont-charge
    title: Headphones do not charge
    symptoms:
      - my headphones won't charge
      - charging light does not come on
    fix: Try another cable.
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_for(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return [str(p) for p in caught.value.problems]


def test_good_file_loads(tmp_path: Path) -> None:
    write(tmp_path, "headphones.yaml", "product: Aurora headphones\nentries:\n" + GOOD_ENTRY)
    write(tmp_path, "more.yml", "product: Aurora headphones\nentries:\n" + SECOND_ENTRY)
    kb = load_knowledge(tmp_path)
    assert len(kb) == 2
    first = kb.get("headphones-bluetooth-pairing")
    assert first is not None
    assert first.product == "Aurora headphones"
    assert first.source == "headphones.yaml"
    assert first.replacement is not None and first.replacement.within_days == 30
    assert first.tests == ("cant pair my headphones with bluetooth",)
    assert validate_knowledge(tmp_path) == []


def test_problem_str_uses_arrows_and_omits_missing_parts() -> None:
    assert str(Problem("a.yaml", "x", "fix", "blank")) == "a.yaml › x › fix: blank"
    assert str(Problem("a.yaml", None, "product", "bad")) == "a.yaml › product: bad"
    assert str(Problem("a.yaml", None, None, "bad")) == "a.yaml: bad"


def test_knowledge_error_is_a_knowledge_base_error_and_lists_problems(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "product: P\nentries: nope\n")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge(tmp_path)
    assert isinstance(caught.value, KnowledgeError)
    assert "a.yaml › entries: must be a list of entries" in str(caught.value)


def test_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert problems_for(missing) == [f"{missing}: no such directory"]


def test_directory_without_yaml_files(tmp_path: Path) -> None:
    write(tmp_path, "notes.txt", "hello")
    assert problems_for(tmp_path) == [f"{tmp_path}: no knowledge files (*.yaml) in this directory"]


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", "product: P\nentries:\n  - id: x\n    title: [unclosed\n")
    (problem,) = problems_for(tmp_path)
    assert problem.startswith("broken.yaml: line ")
    assert "(not valid YAML)" in problem


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, "list.yaml", "- just\n- a list\n")
    assert problems_for(tmp_path) == [
        "list.yaml: must be a mapping with 'product' and 'entries' keys"
    ]


@pytest.mark.parametrize("product", ["", "product: ''\n", "product: '   '\n"])
def test_missing_or_empty_product(tmp_path: Path, product: str) -> None:
    write(tmp_path, "p.yaml", product + "entries:\n" + GOOD_ENTRY)
    assert problems_for(tmp_path) == ["p.yaml › product: must name the product or area"]


def test_entries_missing(tmp_path: Path) -> None:
    write(tmp_path, "p.yaml", "product: P\n")
    assert problems_for(tmp_path) == ["p.yaml › entries: missing; list the entries here"]


def test_entries_not_a_list(tmp_path: Path) -> None:
    write(tmp_path, "p.yaml", "product: P\nentries: {id: x}\n")
    assert problems_for(tmp_path) == ["p.yaml › entries: must be a list of entries"]


def test_entry_not_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, "p.yaml", "product: P\nentries:\n" + GOOD_ENTRY + "  - just text\n")
    assert problems_for(tmp_path) == [
        "p.yaml › entry #2: must be a mapping (id, title, symptoms, fix)"
    ]


def test_missing_id_uses_entry_number(tmp_path: Path) -> None:
    entry = SECOND_ENTRY.replace("  - id: headphones-wont-charge\n    title", "  - title")
    write(tmp_path, "p.yaml", "product: P\nentries:\n" + GOOD_ENTRY + entry)
    assert problems_for(tmp_path) == ["p.yaml › entry #2 › id: missing; give the entry a stable id"]


@pytest.mark.parametrize("bad_id", ["has space", "tab\there"])
def test_id_format(tmp_path: Path, bad_id: str) -> None:
    entry = GOOD_ENTRY.replace("id: headphones-bluetooth-pairing", f'id: "{bad_id}"')
    write(tmp_path, "p.yaml", "product: P\nentries:\n" + entry)
    assert problems_for(tmp_path) == [
        f"p.yaml › {bad_id} › id: must be one word without spaces, "
        "like 'headphones-bluetooth-pairing'"
    ]


@pytest.mark.parametrize("good_id", ["Headphones_Pairing", "HP-001.a", "1042", "kb:pairing/2"])
def test_ids_other_shops_use_are_accepted(tmp_path: Path, good_id: str) -> None:
    entry = GOOD_ENTRY.replace("id: headphones-bluetooth-pairing", f"id: {good_id}")
    write(tmp_path, "p.yaml", "product: P\nentries:\n" + entry)
    knowledge = load_knowledge(tmp_path)
    assert [e.id for e in knowledge] == [good_id]


def test_id_too_long(tmp_path: Path) -> None:
    long_id = "a" * 201
    entry = GOOD_ENTRY.replace("id: headphones-bluetooth-pairing", f"id: {long_id}")
    write(tmp_path, "p.yaml", "product: P\nentries:\n" + entry)
    assert problems_for(tmp_path) == [f"p.yaml › {long_id} › id: too long: at most 200 characters"]


def test_duplicate_id_names_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "product: P\nentries:\n" + GOOD_ENTRY)
    write(tmp_path, "b.yaml", "product: Q\nentries:\n" + GOOD_ENTRY)
    assert problems_for(tmp_path) == [
        "b.yaml › headphones-bluetooth-pairing › id: duplicate id, already used in a.yaml"
    ]


def test_missing_title(tmp_path: Path) -> None:
    entry = GOOD_ENTRY.replace("    title: Headphones do not pair over Bluetooth\n", "")
    write(tmp_path, "p.yaml", "product: P\nentries:\n" + entry)
    assert problems_for(tmp_path) == [
        "p.yaml › headphones-bluetooth-pairing › title: "
        "missing; give a short title customers will recognise"
    ]


@pytest.mark.parametrize(
    ("symptoms", "message"),
    [
        ("", "must have at least one phrasing"),
        ("    symptoms: []\n", "must have at least one phrasing"),
        (
            "    symptoms: one phrase\n",
            "must be a list of phrasings, one per line starting with '- '",
        ),
        ("    symptoms:\n      - ok\n      - ''\n", "item 2 is blank"),
        ("    symptoms:\n      - ok\n      - {a: 1}\n", "item 2 must be text (put it in quotes)"),
    ],
)
def test_symptoms(tmp_path: Path, symptoms: str, message: str) -> None:
    entry = GOOD_ENTRY.replace(
        "    symptoms:\n      - my headphones won't connect to my phone\n"
        "      - bluetooth pairing keeps failing\n",
        symptoms,
    )
    write(tmp_path, "headphones.yaml", "product: P\nentries:\n" + entry)
    assert problems_for(tmp_path) == [
        f"headphones.yaml › headphones-bluetooth-pairing › symptoms: {message}"
    ]


@pytest.mark.parametrize(
    ("fix", "message"),
    [
        ("", "missing or blank; write the steps that fix the problem"),
        ("    fix: ''\n", "missing or blank; write the steps that fix the problem"),
        ("    fix: '  '\n", "missing or blank; write the steps that fix the problem"),
        ("    fix: [a]\n", "must be text, not a list"),
        ("    fix: 42\n", "must be text, not a number (put it in quotes)"),
    ],
)
def test_fix_missing_blank_or_not_text(tmp_path: Path, fix: str, message: str) -> None:
    entry = GOOD_ENTRY.replace("    fix: |\n      1. Hold the power button for 7 seconds.\n", fix)
    write(tmp_path, "p.yaml", "product: P\nentries:\n" + entry)
    assert problems_for(tmp_path) == [f"p.yaml › headphones-bluetooth-pairing › fix: {message}"]


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        ("30", "must be a mapping like {within_days: 30}"),
        ("{within_days: 0}", "within_days must be a whole number of days above 0"),
        ("{within_days: -3}", "within_days must be a whole number of days above 0"),
        ("{within_days: thirty}", "within_days must be a whole number of days above 0"),
        ("{within_days: 2.5}", "within_days must be a whole number of days above 0"),
        ("{}", "within_days must be a whole number of days above 0"),
    ],
)
def test_replacement(tmp_path: Path, replacement: str, message: str) -> None:
    entry = GOOD_ENTRY.replace("{within_days: 30}", replacement)
    write(tmp_path, "p.yaml", "product: P\nentries:\n" + entry)
    assert problems_for(tmp_path) == [
        f"p.yaml › headphones-bluetooth-pairing › replacement: {message}"
    ]


@pytest.mark.parametrize(
    ("tests", "message"),
    [
        ("    tests: a phrase\n", "must be a list of phrasings, one per line starting with '- '"),
        ("    tests:\n      - 42\n", "item 1 must be text (put it in quotes)"),
    ],
)
def test_tests_not_a_list_of_strings(tmp_path: Path, tests: str, message: str) -> None:
    entry = GOOD_ENTRY.replace(
        "    tests:\n      - cant pair my headphones with bluetooth\n", tests
    )
    write(tmp_path, "p.yaml", "product: P\nentries:\n" + entry)
    assert problems_for(tmp_path) == [f"p.yaml › headphones-bluetooth-pairing › tests: {message}"]


def test_unknown_key_suggests_the_nearest(tmp_path: Path) -> None:
    entry = GOOD_ENTRY.replace("    symptoms:", "    symtoms:")
    write(tmp_path, "p.yaml", "product: P\nentries:\n" + entry)
    assert problems_for(tmp_path) == [
        "p.yaml › headphones-bluetooth-pairing › symtoms: unknown key 'symtoms'; "
        "did you mean 'symptoms'?",
        "p.yaml › headphones-bluetooth-pairing › symptoms: must have at least one phrasing",
    ]


def test_unknown_key_without_a_near_one_lists_known_keys(tmp_path: Path) -> None:
    entry = GOOD_ENTRY + "    zzz: 1\n"
    write(tmp_path, "p.yaml", "product: P\nentries:\n" + entry)
    assert problems_for(tmp_path) == [
        "p.yaml › headphones-bluetooth-pairing › zzz: unknown key 'zzz'; "
        "known keys: id, title, symptoms, fix, kind, replacement, tests, translations"
    ]


def test_all_problems_are_collected_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "product: ''\nentries:\n" + GOOD_ENTRY + "  - 7\n")
    write(tmp_path, "b.yaml", "product: Q\nentries:\n  - id: Bad Id\n    title: t\n")
    write(tmp_path, "c.yaml", "product: [\n")
    found = problems_for(tmp_path)
    assert found[:2] == [
        "a.yaml › product: must name the product or area",
        "a.yaml › entry #2: must be a mapping (id, title, symptoms, fix)",
    ]
    assert "b.yaml › Bad Id › symptoms: must have at least one phrasing" in found
    assert "b.yaml › Bad Id › fix: missing or blank; write the steps that fix the problem" in found
    assert any(p.startswith("b.yaml › Bad Id › id: must be one word") for p in found)
    assert found[-1].startswith("c.yaml: line ")
    assert len(found) == 6


def test_validate_reports_a_test_phrasing_that_misses_its_entry(tmp_path: Path) -> None:
    entry = GOOD_ENTRY.replace(
        "cant pair my headphones with bluetooth", "my headphones battery will not charge"
    )
    write(tmp_path, "headphones.yaml", "product: P\nentries:\n" + entry + SECOND_ENTRY)
    (problem,) = validate_knowledge(tmp_path)
    assert str(problem).startswith(
        "headphones.yaml › headphones-bluetooth-pairing › tests: "
        "'my headphones battery will not charge' should match this entry, but "
        "'headphones-wont-charge' ranked first"
    )


def test_validate_reports_load_problems(tmp_path: Path) -> None:
    write(tmp_path, "p.yaml", "product: P\n")
    assert [str(p) for p in validate_knowledge(tmp_path)] == [
        "p.yaml › entries: missing; list the entries here"
    ]


def test_bundled_knowledge_loads_and_validates() -> None:
    directory = default_knowledge_dir()
    kb = load_knowledge(directory)
    assert len(kb) >= 30
    assert len({e.product for e in kb}) >= 4
    assert sum(e.replacement is not None for e in kb) >= 5
    assert all(e.tests for e in kb)
    assert validate_knowledge(directory) == []

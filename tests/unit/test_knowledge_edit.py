"""knowledge.edit: new symptoms are inserted as lines; every other byte of the file stays."""

from __future__ import annotations

import difflib

import pytest
import yaml

from knowledge.edit import EditError, NewSymptom, add_symptoms

GRINDERS = """\
# Grinders: written by hand, kept by hand
product: Coffee grinders   # since 2024
entries:
  - id: grinder-stuck
    title: Grinder is stuck
    symptoms:
      - the grinder does not turn    # seen in May
      - 'burr will not move'
    # the fix below was tried in the shop

    fix: |
      1. Empty the hopper.

      2. Turn the burr by hand until it moves.
    tests:
      - "my grinder won't grind"

  - id: grinder-noisy
    title: Grinder is loud
    symptoms: [it screams when grinding, "a loud rattle"]
    fix: >
      Tighten the burr.
    translations: {ru: {title: Шумит}}
# end of file"""


def inserted(before: str, after: str) -> list[str]:
    """The lines ``after`` adds to ``before``; fails if anything else changed."""
    added: list[str] = []
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        assert op in ("equal", "insert"), f"{op}: {old[i1:i2]} -> {new[j1:j2]}"
        if op == "insert":
            added += new[j1:j2]
    return added


def test_a_symptom_is_one_new_line_under_the_last_one_comments_and_all_kept() -> None:
    after = add_symptoms(GRINDERS, [NewSymptom("grinder-stuck", "it  never\nturns")], file="k.yaml")
    assert inserted(GRINDERS, after) == ["      - it never turns\n"]
    assert after.index("'burr will not move'\n      - it never turns\n    # the fix") > 0
    entry = yaml.safe_load(after)["entries"][0]
    assert entry["symptoms"][-1] == "it never turns"


def test_a_translation_is_created_at_the_end_of_the_entry_in_the_files_indentation() -> None:
    after = add_symptoms(
        GRINDERS, [NewSymptom("grinder-stuck", "кофемолка не мелет", "ru")], file="k.yaml"
    )
    assert inserted(GRINDERS, after) == [
        "    translations:\n",
        "      ru:\n",
        "        symptoms:\n",
        "          - кофемолка не мелет\n",
    ]
    # after the entry's last line, before the blank line that parts the entries
    assert 'grind"\n    translations:\n' in after
    assert "не мелет\n\n  - id: grinder-noisy" in after


def test_flow_lists_and_mappings_get_one_more_item_on_their_line() -> None:
    after = add_symptoms(
        GRINDERS,
        [
            NewSymptom("grinder-noisy", "it's rattling, badly"),
            NewSymptom("grinder-noisy", "гремит", "ru"),
            NewSymptom("grinder-noisy", "rattert", "de"),
        ],
        file="k.yaml",
    )
    changed = [line for line in after.splitlines() if line not in GRINDERS.splitlines()]
    assert changed == [
        '    symptoms: [it screams when grinding, "a loud rattle", "it\'s rattling, badly"]',
        "    translations: {ru: {title: Шумит, symptoms: [гремит]}, de: {symptoms: [rattert]}}",
    ]
    assert after.endswith("\n# end of file")  # no line break added where none was


def test_a_missing_translation_symptoms_list_goes_after_its_title() -> None:
    text = (
        "product: P\nentries:\n- id: a\n  title: A\n  symptoms:\n  - one\n  fix: F\n"
        "  translations:\n    ru:\n      title: А\n      fix: Ф\n"
    )
    after = add_symptoms(text, [NewSymptom("a", "два", "ru")], file="p.yaml")
    # this file puts dashes under their key, and indents mappings by 2
    assert inserted(text, after) == ["      symptoms:\n", "      - два\n"]
    assert after.index("title: А\n      symptoms:") > 0
    untitled = text.replace("      title: А\n", "")  # then the list comes first
    after = add_symptoms(untitled, [NewSymptom("a", "два", "ru")], file="p.yaml")
    assert after.endswith("    ru:\n      symptoms:\n      - два\n      fix: Ф\n")
    assert add_symptoms(text, [NewSymptom("a", "two")], file="p.yaml").endswith(
        "  - one\n  - two\n  fix: F\n  translations:\n    ru:\n      title: А\n      fix: Ф\n"
    )


@pytest.mark.parametrize(
    ("words", "written"),
    [
        ("no", '"no"'),  # a boolean to PyYAML
        ("1.5", '"1.5"'),
        ("error: code 3", '"error: code 3"'),
        ("#fail", '"#fail"'),
        ("- broken", '"- broken"'),
        ('it\'s "broken"', 'it\'s "broken"'),
        ("кабель сломан", "кабель сломан"),
    ],
)
def test_words_are_quoted_when_yaml_would_read_them_otherwise(words: str, written: str) -> None:
    text = "product: P\nentries:\n  - id: a\n    symptoms:\n      - one\n    fix: F\n"
    after = add_symptoms(text, [NewSymptom("a", words)], file="p.yaml")
    assert inserted(text, after) == [f"      - {written}\n"]
    assert yaml.safe_load(after)["entries"][0]["symptoms"] == ["one", words]


def test_what_yaml_round_trips_would_lose_is_kept() -> None:
    """A document start, trailing spaces, Windows line breaks, and no final line break."""
    text = "---\r\nproduct: P   \r\nentries:\r\n  - id: a\r\n    symptoms:\r\n      - one"
    after = add_symptoms(text, [NewSymptom("a", "two")], file="p.yaml")
    assert after == text + "\r\n      - two\r\n"


def test_a_block_scalar_keeps_its_trailing_blank_lines_before_the_new_key() -> None:
    text = "product: P\nentries:\n  - id: a\n    symptoms: [one]\n    fix: |\n      F\n\n\n"
    after = add_symptoms(text, [NewSymptom("a", "deux", "fr")], file="p.yaml")
    assert after == text.replace(
        "      F\n", "      F\n    translations:\n      fr:\n        symptoms:\n          - deux\n"
    )


def test_an_entry_that_is_not_there_or_a_list_that_is_not_one_is_refused() -> None:
    with pytest.raises(EditError, match=r"k\.yaml › grinder-gone: the entry is not in this"):
        add_symptoms(GRINDERS, [NewSymptom("grinder-gone", "x")], file="k.yaml")
    odd = "product: P\nentries:\n  - id: a\n    symptoms: [one]\n    fix: F\n    translations:\n"
    with pytest.raises(EditError, match=r"translations › ru › symptoms: 'translations' holds"):
        add_symptoms(odd, [NewSymptom("a", "два", "ru")], file="p.yaml")


def test_a_kept_block_scalar_would_change_and_is_refused() -> None:
    """``|+`` keeps its trailing blank lines: a line after them would take them away."""
    text = "product: P\nentries:\n  - id: a\n    symptoms: [one]\n    fix: |+\n      F\n\n"
    with pytest.raises(EditError, match="without changing more"):
        add_symptoms(text, [NewSymptom("a", "deux", "fr")], file="p.yaml")

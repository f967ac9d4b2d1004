"""knowledge.overlap: which entries say the same thing, and which only look alike."""

from __future__ import annotations

from pathlib import Path

from knowledge.loader import load_knowledge
from knowledge.overlap import near_duplicates
from knowledge.schema import Entry, EntryId, KnowledgeBase, Translation
from tests.bulk_knowledge import write_bulk_knowledge


def entry(
    entry_id: str,
    *symptoms: str,
    source: str = "kb.yaml",
    translations: tuple[Translation, ...] = (),
) -> Entry:
    return Entry(
        id=EntryId(entry_id),
        title=entry_id,
        product="Gadgets",
        symptoms=symptoms,
        fix="Do it.\n",
        source=source,
        translations=translations,
    )


def pairs(*entries: Entry) -> list[tuple[str | None, str, str]]:
    return [(d.language, d.first.id, d.second.id) for d in near_duplicates(KnowledgeBase(entries))]


def test_the_same_words_in_other_order_case_or_spelling_are_near_duplicates() -> None:
    watch = entry("watch-charging", "Watch won't charge!", "screen is dark", source="watch.yaml")
    battery = entry(
        "watch-battery", "battery drains fast", "my watch wont charge", source="w2.yaml"
    )
    pairing = entry("pairing", "bluetooth pairing keeps failing")
    again = entry("pairing-again", "pairing of bluetooth keeps faling")

    found = near_duplicates(KnowledgeBase((watch, battery, pairing, again)))

    assert [(d.first.id, d.second.id) for d in found] == [
        ("watch-charging", "watch-battery"),
        ("pairing", "pairing-again"),
    ]
    assert str(found[0]) == (
        "entries watch-charging (watch.yaml) and watch-battery (w2.yaml) have near-duplicate"
        " symptoms: \"Watch won't charge!\" ~ 'my watch wont charge' (91)"
    )


def test_a_word_swapped_for_another_is_a_different_problem() -> None:
    # 94 to 96 alike by characters: a scorer alone would call these duplicates
    assert (
        pairs(
            entry("fan-cable", "the cable on the fan is very slow since yesterday"),
            entry("fan-case", "the case on the fan is very slow since yesterday"),
            entry("speaker-app", "the app on the speaker stopped working since yesterday"),
            entry("speaker-lid", "the lid on the speaker stopped working since yesterday"),
            entry("speaker", "the speaker won't charge"),
            entry("headphones", "the headphones won't charge"),
        )
        == []
    )


def test_an_entry_repeating_itself_is_not_a_pair() -> None:
    assert (
        pairs(
            entry(
                "one", "no sound", "No sound!", "the speaker has no sound", "speaker has no sound"
            )
        )
        == []
    )


def test_translations_are_compared_as_their_customers_matcher_has_them() -> None:
    """A Russian customer is matched against an entry's Russian symptoms and then its default
    ones: a pair counts in Russian when one of the two is Russian."""
    ru = "ru"
    first = entry(
        "first",
        "the lights blink",
        translations=(Translation(ru, symptoms=("не заряжаются наушники",)),),
    )
    second = entry(
        "second",
        "the light is blinking",  # a near-duplicate of first's, reported once, in the default
        translations=(Translation(ru, symptoms=("наушники не заряжаются",)),),
    )
    third = entry("third", "заряжаются наушники не")  # the default list, in Russian
    fourth = entry(
        "fourth", "no power", translations=(Translation("es", symptoms=("no enciende",)),)
    )
    fifth = entry("fifth", "no enciende")  # in the default language: a Spanish pair
    assert pairs(first, second, third, fourth, fifth) == [
        (None, "first", "second"),
        ("es", "fourth", "fifth"),
        (ru, "first", "second"),
        (ru, "first", "third"),
        (ru, "second", "third"),
    ]


def test_a_thousand_distinct_generated_entries_have_none(tmp_path: Path) -> None:
    """1,000 entries x 10 phrasings from templates: every pair shares most of its characters
    with many others, and none is a duplicate."""
    write_bulk_knowledge(tmp_path)
    knowledge = load_knowledge(tmp_path)
    assert near_duplicates(knowledge) == []
    # the same knowledge with one entry's symptom copied into another: exactly that pair
    copied = knowledge.entries[500].symptoms[3]
    changed = entry("copy", copied)
    found = near_duplicates(KnowledgeBase((*knowledge.entries, changed)))
    assert [(d.first.id, d.second.id, d.score) for d in found] == [
        (knowledge.entries[500].id, "copy", 100.0)
    ]

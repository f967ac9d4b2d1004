"""Grouping the questions the knowledge missed (``knowledge.clustering``)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge import clustering
from knowledge.clustering import group_texts
from knowledge.schema import KnowledgeBase
from knowledge.semantic import SemanticMatcher, semantic_available

LABELLED = Path(__file__).resolve().parents[1] / "data" / "unmatched_groups.yaml"

needs_semantic = pytest.mark.skipif(
    not semantic_available(), reason="the [semantic] extra is not installed"
)

# three groups whose paraphrases share words, and questions of their own
SHIPPING = ["do you ship to Canada", "do you ship to norway?", "Do you ship to Canada!!"]
GIFT = ["how do I use my gift card", "how can I use a gift card", "can I use my giftcard online"]
FIRMWARE = ["firmware update fails", "the firmware update failed halfway", "firmware update error"]
ALONE = ["my dog chewed the charging cable", "what is your phone number", "is there a sale"]


def texts_of(groups: list[list[int]], texts: list[str]) -> list[list[str]]:
    return [[texts[i] for i in group] for group in groups]


def test_paraphrases_that_share_words_group_by_words() -> None:
    texts = [*SHIPPING[:2], GIFT[0], ALONE[0], FIRMWARE[0], *GIFT[1:], ALONE[1], *FIRMWARE[1:]]
    texts += [SHIPPING[2], ALONE[2]]
    groups = texts_of(group_texts(texts), texts)
    expected = [SHIPPING, GIFT, FIRMWARE, *([text] for text in ALONE)]
    assert sorted(map(sorted, groups)) == sorted(map(sorted, expected))


def test_biggest_group_first_then_the_one_asked_first() -> None:
    texts = [ALONE[0], *GIFT[:2], *SHIPPING, ALONE[1]]
    assert group_texts(texts) == [[3, 4, 5], [1, 2], [0], [6]]


def test_texts_that_read_the_same_are_one_group_whatever_the_threshold() -> None:
    texts = ["Where is my ORDER?", "where is my order", "where's my order!", "my order"]
    assert group_texts(texts, threshold=100.5) == [[0, 1], [2], [3]]


def test_texts_of_common_words_only_are_still_compared() -> None:
    """ "my" and "order" are in most texts, so they make no candidates by themselves; two
    texts with no other word are compared through the rarest of theirs all the same."""
    texts = [f"my order {chr(97 + n % 26)}{n}" for n in range(80)] + ["my order", "order, my"]
    assert any({80, 81} <= set(group) for group in group_texts(texts))


def test_nothing_and_one_text() -> None:
    assert group_texts([]) == []
    assert group_texts(["alone"]) == [[0]]


def test_each_text_keeps_only_its_closest_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """What keeps the work linear: each text is compared with many and keeps a few pairs."""
    monkeypatch.setattr(clustering, "_NEIGHBOURS", 5)
    texts = [f"the watch strap broke {n}" for n in range(40)]  # all alike
    pairs = clustering._words_pairs([clustering.words_key(t) for t in texts], 0.0)
    assert 40 <= len(pairs) <= 40 * 5 < 40 * 39 / 2


def labelled() -> tuple[list[str], list[str]]:
    data = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    texts, labels = [], []
    for name, items in data["groups"].items():
        texts += items
        labels += [name] * len(items)
    for i, text in enumerate(data["singletons"]):
        texts.append(text)
        labels.append(f"alone-{i}")
    return texts, labels


def pairwise(groups: list[list[int]], labels: list[str]) -> tuple[float, float, int]:
    """Pairwise precision and recall against the labels, and the groups found exactly."""
    found = {i: n for n, group in enumerate(groups) for i in group}
    together = found_together = both = 0
    for i, j in itertools.combinations(range(len(labels)), 2):
        same, grouped = labels[i] == labels[j], found[i] == found[j]
        together += same
        found_together += grouped
        both += same and grouped
    exact = sum(
        sorted(i for i, label in enumerate(labels) if label == name) in groups
        for name in set(labels)
        if not name.startswith("alone-")
    )
    return both / found_together, both / together, exact


def test_words_on_the_labelled_set() -> None:
    """The figures in knowledge/clustering.py's docstring: 0.70 / 0.66, 3 of 8 groups."""
    texts, labels = labelled()
    precision, recall, exact = pairwise(group_texts(texts), labels)
    assert (round(precision, 2), round(recall, 2), exact) == (0.70, 0.66, 3)


@pytest.mark.semantic
@needs_semantic
def test_meaning_on_the_labelled_set() -> None:
    """Paraphrases with few words in common: the embeddings find 6 of 8 groups exactly."""
    texts, labels = labelled()
    groups = group_texts(texts, vectors=encode(texts))
    precision, recall, exact = pairwise(groups, labels)
    assert (round(precision, 2), round(recall, 2), exact) == (0.98, 0.88, 6)
    by_words = pairwise(group_texts(texts), labels)
    assert precision > by_words[0] and recall > by_words[1]


@pytest.mark.semantic
@needs_semantic
def test_meaning_groups_paraphrases_with_no_word_in_common() -> None:
    texts = [
        "the watch strap broke",
        "do you ship to Canada",
        "my smartwatch band snapped",
        "can you deliver to another country",
        "what is your phone number",
    ]
    assert group_texts(texts, vectors=encode(texts)) == [[0, 2], [1, 3], [4]]
    assert [0, 2] not in group_texts(texts)  # no word in common: words alone cannot


def encode(texts: list[str]) -> Any:
    return SemanticMatcher(KnowledgeBase(())).embeddings.encoder.encode(texts)

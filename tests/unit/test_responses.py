"""The responses catalogue against ``Say``: ids and placeholders, checked when it loads.

Nothing here depends on the working directory: files are found from the packages.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

import knowledge.responses
from knowledge import ResponsesError
from knowledge.catalogue import Catalogue
from knowledge.responses import Responses, Say, default_responses_path


def shipped() -> dict[str, dict[str, str]]:
    text = resources.files("knowledge").joinpath("responses.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    assert isinstance(raw, dict)
    return raw


def write(tmp_path: Path, catalogue: dict[str, dict[str, str]], name: str = "ours.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    return path


def load_error(path: Path, language: str = "en") -> ResponsesError:
    with pytest.raises(ResponsesError) as raised:
        Responses.load(path, language=language)
    return raised.value


def source_files(package: str) -> list[Path]:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    return sorted(Path(next(iter(spec.submodule_search_locations))).rglob("*.py"))


def code_files() -> list[Path]:
    """Every module that may ask for a sentence, wherever the tests run from."""
    own = Path(knowledge.responses.__file__)
    files = [*source_files("flows"), *source_files("bot"), *source_files("knowledge")]
    return [path for path in files if path != own]


# ---- the shipped catalogue -----------------------------------------------------------


def test_the_shipped_catalogue_loads_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    responses = Responses.load()
    assert responses.text(Say.GLAD_FIXED, ref="T-00001").startswith("Wonderful")
    assert default_responses_path().is_file()


def test_every_language_in_the_shipped_file_matches_say() -> None:
    languages = list(shipped())
    assert "en" in languages
    for language in languages:
        Responses.load(language=language)  # raises, naming each problem


def test_english_russian_and_spanish_ship_with_every_id_and_the_same_placeholders() -> None:
    """Every shipped file has every ``Say`` id with its placeholders (checked on load), and
    nothing is left untranslated: a text equal to the English one is a forgotten copy."""
    catalogue = Catalogue.load()
    assert catalogue.languages == ("en", "es", "ru")
    english = shipped()["en"]
    for code in ("es", "ru"):
        path = default_responses_path().with_name(f"responses.{code}.yaml")
        texts = yaml.safe_load(path.read_text(encoding="utf-8"))[code]
        assert list(texts) == list(english), f"{code}: ids in another order or missing"
        untranslated = [
            key
            for key, text in texts.items()
            if text == english[key] and re.search(r"[^\W\d_]", re.sub(r"\{\w+\}|<[^>]+>", "", text))
        ]
        assert untranslated == [], f"{code}: left in English: {untranslated}"


def test_a_language_file_with_a_missing_id_stops_the_catalogue(tmp_path: Path) -> None:
    english = shipped()["en"]
    write(tmp_path, {"en": english}, "responses.yaml")
    russian = {k: f"[ru] {v}" for k, v in english.items() if k != "goodbye"}
    write(tmp_path, {"ru": russian}, "responses.ru.yaml")
    with pytest.raises(ResponsesError) as raised:
        Catalogue.load(tmp_path)
    assert raised.value.problems == [
        f"{tmp_path / 'responses.ru.yaml'} › ru › goodbye: missing (the code says Say.GOODBYE)"
    ]


def test_a_sentence_given_twice_stops_the_catalogue_naming_both_lines(tmp_path: Path) -> None:
    """YAML keeps the last of a repeated key and says nothing: a shop that pastes a second
    ``goodbye:`` to reword it would lose the first without knowing which one is shown."""
    english = shipped()["en"]
    text = yaml.safe_dump({"en": english}, allow_unicode=True, sort_keys=False)
    (tmp_path / "responses.yaml").write_text(text + '  goodbye: "Bye!"\n', encoding="utf-8")
    with pytest.raises(ResponsesError) as raised:
        Responses.load(tmp_path / "responses.yaml")
    message = str(raised.value)
    assert "responses.yaml › en › goodbye: given twice (lines" in message, message
    lines = text.splitlines()
    first = next(n for n, line in enumerate(lines, 1) if line.startswith("  goodbye:"))
    assert f"lines {first} and {len(lines) + 1})" in message, message


@pytest.mark.parametrize(
    ("telegram", "expected"),
    [("ru", "ru"), ("es-MX", "es"), ("pt-br", "en"), (None, "en"), ("", "en"), ("RU", "ru")],
)
def test_the_customers_language_is_found_with_a_fallback(
    telegram: str | None, expected: str
) -> None:
    assert Catalogue.load().for_language(telegram).language == expected


def test_the_default_language_must_be_shipped() -> None:
    assert Catalogue.load(default="es").default.language == "es"
    with pytest.raises(ResponsesError, match="DEFAULT_LANGUAGE is 'de'"):
        Catalogue.load(default="de")


def test_every_say_member_is_used_by_the_code() -> None:
    """A sentence the code never asks for is dead text: delete it from Say and the YAML."""
    used: set[str] = set()
    for path in code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_types = {  # naming a member in Literal[...] is not using it
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Literal"
            for inner in ast.walk(node.slice)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "Say"
                and id(node) not in in_types
            ):
                used.add(node.attr)
    assert used, "found no Say.<member> in flows/, bot/ or knowledge/"
    assert not used - set(Say.__members__), "the code names members Say does not have"
    assert sorted(set(Say.__members__) - used) == []


# English words in flows/ that are not said to a customer: each with why (the settings'
# errors an admin reads, what is logged, a mark stored and read through the catalogue)
NOT_FOR_CUSTOMERS = {
    "escalation.py": {"(asked for a person)"},  # stored; summary_for reads it per language
    "followup.py": {"fell due ", " ago, more than FOLLOWUP_STALE_AFTER", "no answer to follow-up"},
    "hours.py": None,  # SUPPORT_HOURS errors, for the admin
    "text.py": None,  # ORDER_NUMBER_PATTERN errors for the admin; date words dateparser reads
}


def test_flows_say_nothing_to_a_customer_outside_the_catalogue() -> None:
    """A customer reads only catalogue sentences: an English string in flows/ (outside
    docstrings and asserts) reached Russian and Spanish customers once ("(asked for a
    person)" in /status). A new one must be a ``Say`` id, or be listed above with why."""
    found: list[str] = []
    for path in source_files("flows"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        skipped |= {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.Assert)
            for inner in ast.walk(node)
        }
        allowed = NOT_FOR_CUSTOMERS.get(path.name, set())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skipped
                and re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", node.value)
                and allowed is not None
                and node.value not in allowed
            ):
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert found == []


def test_call_sites_pass_exactly_the_placeholders_say_declares() -> None:
    """Every ``f(Say.X, a=..., b=...)`` passes X's placeholders, neither more nor fewer.

    Ids picked by a conditional (``Say.A if c else Say.B``), in the call or in a local
    variable, are checked for every branch. Ids that come in as a parameter are checked
    when they are rendered (see the tests at the end).
    """
    checked = 0
    wrong: list[str] = []
    for path in code_files():
        calls = SayCalls()
        calls.visit(ast.parse(path.read_text(encoding="utf-8")))
        for call, members in calls.found:
            if any(k.arg is None for k in call.keywords):
                continue  # **params: cannot tell statically
            given = {k.arg for k in call.keywords if k.arg is not None}
            for member in members:
                checked += 1
                if given != member.placeholders:
                    wrong.append(
                        f"{path.name}:{call.lineno} Say.{member.name} given {sorted(given)}, "
                        f"takes {sorted(member.placeholders)}"
                    )
    assert wrong == []
    assert checked > 40  # the walk did find the call sites


class SayCalls(ast.NodeVisitor):
    """Calls whose first argument is a Say member, or a local that only holds Say members."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, list[Say]]] = [{}]
        self.found: list[tuple[ast.Call, list[Say]]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scopes.append(_say_locals(node))
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        if node.args:
            first = node.args[0]
            if isinstance(first, ast.Name):
                members = self.scopes[-1].get(first.id, [])
            else:
                members = _say_members(first)
            if members:
                self.found.append((node, members))
        self.generic_visit(node)


def _say_locals(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, list[Say]]:
    """Local names that only ever hold Say members, and which ones."""
    bound: dict[str, list[Say]] = {}
    dropped: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                members = _say_members(node.value)
                if members:
                    bound[target.id] = bound.get(target.id, []) + members
                else:
                    dropped.add(target.id)
    return {name: members for name, members in bound.items() if name not in dropped}


def _say_members(node: ast.expr) -> list[Say]:
    if isinstance(node, ast.IfExp):
        body, orelse = _say_members(node.body), _say_members(node.orelse)
        return body + orelse if body and orelse else []
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return [Say[node.attr]] if node.value.id == "Say" else []
    return []


# ---- a catalogue that does not match fails at load, naming what is wrong --------------


def test_a_missing_id_fails_naming_file_language_and_id(tmp_path: Path) -> None:
    catalogue = shipped()
    del catalogue["en"]["escalated_no_match"]
    path = write(tmp_path, catalogue)
    error = load_error(path)
    assert str(path) in str(error)
    assert "en › escalated_no_match: missing" in str(error)
    assert "Say.ESCALATED_NO_MATCH" in str(error)
    assert len(error.problems) == 1


def test_an_unknown_id_fails(tmp_path: Path) -> None:
    catalogue = shipped()
    catalogue["en"]["wellcome"] = "Hi {name}!"
    error = load_error(write(tmp_path, catalogue))
    assert "en › wellcome: unknown id" in str(error)
    assert len(error.problems) == 1


def test_placeholders_that_differ_from_say_fail(tmp_path: Path) -> None:
    catalogue = shipped()
    catalogue["en"]["glad_fixed"] = "Glad it works! Request <b>{reference}</b> is solved."
    catalogue["en"]["help"] = "Hello {name}"
    catalogue["en"]["fix"] = "<b>{title}</b>"
    error = load_error(write(tmp_path, catalogue))
    problems = "\n".join(error.problems)
    assert "glad_fixed: placeholders {reference}, but the code passes {ref}" in problems
    assert "help: placeholders {name}, but the code passes none" in problems
    assert "fix: placeholders {title}, but the code passes {fix, title}" in problems
    assert len(error.problems) == 3


@pytest.mark.parametrize("text", ["Total: {", "Ref {}", "Ref {0}", "{ref.x}"])
def test_broken_braces_fail(tmp_path: Path, text: str) -> None:
    catalogue = shipped()
    catalogue["en"]["glad_fixed"] = text
    error = load_error(write(tmp_path, catalogue))
    assert [p for p in error.problems if "› glad_fixed:" in p] == error.problems


def test_empty_text_fails(tmp_path: Path) -> None:
    catalogue = shipped()
    catalogue["en"]["help"] = "  "
    error = load_error(write(tmp_path, catalogue))
    assert error.problems == [f"{tmp_path / 'ours.yaml'} › en › help: must be non-empty text"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    catalogue = shipped()
    del catalogue["en"]["fix"], catalogue["en"]["state_open"]
    catalogue["en"]["old_sentence"] = "gone"
    error = load_error(write(tmp_path, catalogue))
    assert len(error.problems) == 3
    assert all(p in str(error) for p in error.problems)


def test_another_language_is_checked_against_the_same_ids(tmp_path: Path) -> None:
    english = shipped()["en"]
    german = {k: f"[de] {v}" for k, v in english.items() if k != "cancelled"}
    path = write(tmp_path, {"en": english, "de": german})
    Responses.load(path, language="en")
    error = load_error(path, language="de")
    assert error.problems == [f"{path} › de › cancelled: missing (the code says Say.CANCELLED)"]


def test_a_missing_language_or_file_fails_clearly(tmp_path: Path) -> None:
    path = write(tmp_path, shipped())
    assert "needs a top-level 'fr:' mapping" in str(load_error(path, language="fr"))
    assert "cannot be read" in str(load_error(tmp_path / "nowhere.yaml"))


def test_the_error_is_a_knowledge_error_the_cli_reports() -> None:
    from knowledge import KnowledgeBaseError

    assert issubclass(ResponsesError, KnowledgeBaseError)


# ---- rendering checks what each call passes --------------------------------------------


def test_rendering_with_a_missing_or_extra_placeholder_fails() -> None:
    responses = Responses.load()
    with pytest.raises(ResponsesError, match=r"Say.GLAD_FIXED takes \{ref\}, but was given none"):
        responses.text(Say.GLAD_FIXED)
    with pytest.raises(ResponsesError, match=r"given \{ref, title\}"):
        responses.text(Say.GLAD_FIXED, ref="T-1", title="x")
    with pytest.raises(ResponsesError, match=r"Say.PICK_BUTTON takes \{title\}"):
        responses.label(Say.PICK_BUTTON)


def test_placeholders_are_escaped_in_text_and_not_in_labels() -> None:
    responses = Responses.load()
    assert "<b>T-1 &lt;i&gt;</b>" in responses.text(Say.GLAD_FIXED, ref="T-1 <i>")
    assert responses.label(Say.PICK_BUTTON, title="A <b>") == "A <b>"

"""DESIGN.md's arrows: bot -> flows -> knowledge, and each framework in its one place."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("telegram", "sqlmodel", "sqlalchemy", "alembic", "apscheduler", "httpx")


def imports(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


def top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("package", ["flows", "knowledge"])
def test_core_imports_no_framework_and_not_bot(package: str) -> None:
    bad = [(p.name, m) for p, m in imports(package) if top(m) in (*FRAMEWORKS, "bot")]
    assert bad == []


def test_knowledge_does_not_import_flows() -> None:
    assert [(p.name, m) for p, m in imports("knowledge") if top(m) == "flows"] == []


def test_telegram_only_in_bot_telegram() -> None:
    bad = [
        str(p.relative_to(ROOT))
        for p, m in imports("bot")
        if top(m) == "telegram" and "telegram" not in p.relative_to(ROOT / "bot").parts[:1]
    ]
    assert bad == []


def test_sql_only_in_bot_storage() -> None:
    bad = [
        str(p.relative_to(ROOT))
        for p, m in imports("bot")
        if top(m) in ("sqlmodel", "sqlalchemy", "alembic")
        and p.relative_to(ROOT / "bot").parts[0] != "storage"
    ]
    assert bad == []


def test_rapidfuzz_only_in_the_knowledge_matchers() -> None:
    users = {
        str(p.relative_to(ROOT))
        for pkg in ("bot", "flows", "knowledge")
        for p, m in imports(pkg)
        if top(m) == "rapidfuzz"
    }
    assert users <= {
        "knowledge/matcher.py",
        "knowledge/text.py",
        "knowledge/phrases.py",
        "knowledge/overlap.py",
        "knowledge/clustering.py",
    }


def test_the_check_sees_imports() -> None:
    """The walker finds the imports it must police (guards against a vacuous pass)."""
    assert any(top(m) == "telegram" for _, m in imports("bot"))
    assert any(top(m) == "knowledge" for _, m in imports("flows"))


def test_the_terminal_chat_does_not_load_telegram() -> None:
    """The two channels stand side by side: the console shares only what lies below them."""
    code = (
        "import sys, bot.console\n"
        "print(sorted(m for m in sys.modules if m.startswith(('telegram', 'bot.telegram'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"

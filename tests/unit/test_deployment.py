"""compose.yaml, deploy/Caddyfile and the Dockerfile: the facts the deployment rests on.

Read as files (no Docker needed): the variables compose passes the bot are real settings
and put it in webhook mode; the proxy makes only the webhook public; the image installs
the hash-checked PostgreSQL lock, runs ``supportbot run`` as a user that is not root and
checks ``/healthz`` on the port the bot listens on.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.settings import OPS_PATHS, Settings, parse_listen

ROOT = Path(__file__).resolve().parents[2]
# ${NAME}, ${NAME:?message}, ${NAME:-default}: compose's interpolation
VARIABLE = re.compile(r"\$\{(\w+)(?:(?::?[?-])[^}]*)?\}")
# what compose.yaml needs from .env, with values of the right form
SAMPLE_ENV = {
    "POSTGRES_PASSWORD": "pw123",
    "TELEGRAM_BOT_TOKEN": "123456:fake",
    "DOMAIN": "bot.shop.example",
    "WEBHOOK_SECRET": "a-secret_1",
}


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def service(name: str) -> dict[str, Any]:
    found = compose()["services"][name]
    assert isinstance(found, dict)
    return found


def environment(name: str) -> dict[str, str]:
    """A service's ``environment``, interpolated with ``SAMPLE_ENV``."""
    given = service(name).get("environment", {})
    if isinstance(given, list):  # the NAME=value form
        given = dict(item.split("=", 1) for item in given)
    return {
        key: VARIABLE.sub(lambda m: SAMPLE_ENV[m.group(1)], str(value))
        for key, value in given.items()
    }


def setting_names() -> set[str]:
    """The environment variables Settings reads: each field's name (no prefix, any case)."""
    assert Settings.model_config.get("env_prefix", "") == ""
    names = set()
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias or info.alias
        names.add((alias if isinstance(alias, str) else name).upper())
    return names


@pytest.mark.parametrize("name", ["bot", "migrate"])
def test_every_variable_compose_passes_the_bot_is_a_setting(name: str) -> None:
    unknown = set(environment(name)) - setting_names()
    assert unknown == set(), f"{name}: not settings in bot/settings.py: {sorted(unknown)}"


def test_the_replicas_run_in_webhook_mode_on_postgresql() -> None:
    bot = service("bot")
    assert bot["deploy"]["replicas"] >= 2
    env = environment("bot")
    given: dict[str, Any] = {key.lower(): value for key, value in env.items()}
    settings = Settings.model_validate(given)  # these values alone: no .env, no environment
    assert settings.webhook
    assert settings.webhook_url.startswith("https://")
    assert settings.secret
    assert settings.database_url.startswith("postgresql")
    depends = bot["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert "ports" not in bot, "the replicas are reached through the proxy only"


def test_postgres_has_a_health_check_and_a_named_volume() -> None:
    postgres = service("postgres")
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose()["volumes"]


def test_secrets_come_from_env_not_from_compose_yaml() -> None:
    for name in ("bot", "migrate", "postgres"):
        given = service(name).get("environment", {})
        for key, value in given.items():
            if any(word in key for word in ("TOKEN", "SECRET", "PASSWORD")):
                assert VARIABLE.fullmatch(str(value)), f"{name}: {key} is written in"


# ---- the proxy -------------------------------------------------------------------------


@dataclass
class Block:
    """A Caddyfile block: the words before its ``{``, its directives, its inner blocks."""

    head: list[str]
    lines: list[list[str]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    def walk(self) -> Iterator[Block]:
        yield self
        for block in self.blocks:
            yield from block.walk()


def caddyfile() -> Block:
    root = Block([])
    stack = [root]
    for raw in (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8").splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if words == ["}"]:
            stack.pop()
        elif words[-1] == "{":
            block = Block(words[:-1])
            stack[-1].blocks.append(block)
            stack.append(block)
        else:
            stack[-1].lines.append(words)
    assert len(stack) == 1, "unbalanced braces"
    return root


def proxies(block: Block) -> int:
    """How many ``reverse_proxy`` directives ``block`` holds, one-line or with a block."""
    return sum(
        (inner.head[:1] == ["reverse_proxy"])
        + sum(line[0] == "reverse_proxy" for line in inner.lines)
        for inner in block.walk()
    )


def test_the_proxy_forwards_only_the_webhook_path_to_the_replicas() -> None:
    (site,) = caddyfile().blocks
    assert site.head == ["{$DOMAIN}"]
    matchers = {b.head[0]: b for b in site.blocks if b.head and b.head[0].startswith("@")}
    handles = [b for b in site.blocks if b.head and b.head[0] == "handle"]
    proxied = [h for h in handles if proxies(h)]
    assert len(proxied) == 1 and proxies(site) == 1, "exactly one handle proxies to the bot"
    (handle,) = proxied
    assert len(handle.head) == 2, "the proxying handle has a matcher"
    matcher = matchers[handle.head[1]]
    paths = [line[1:] for line in matcher.lines if line[0] == "path"]
    assert paths == [[urlsplit(environment("bot")["WEBHOOK_URL"]).path]]
    assert not set(paths[0]) & set(OPS_PATHS)
    assert ["method", "POST"] in matcher.lines
    # and the rest is refused
    rest = [h for h in handles if h.head == ["handle"]]
    assert len(rest) == 1 and rest[0].lines == [["respond", "404"]]
    # no other site, and no directive outside those handles
    assert site.lines == []


def test_the_proxy_reaches_every_replica_on_the_webhook_port() -> None:
    dynamic = [b for b in caddyfile().walk() if b.head == ["dynamic", "a"]]
    assert len(dynamic) == 1
    options = {line[0]: line[1:] for line in dynamic[0].lines}
    assert options["name"] == ["bot"]
    _, port = parse_listen(environment("bot")["WEBHOOK_LISTEN"])
    assert options["port"] == [str(port)]
    assert str(port) in [str(p) for p in service("bot")["expose"]]
    caddy = service("caddy")
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert sorted(str(p).split(":")[-1] for p in caddy["ports"]) == ["443", "80"]


# ---- the image -------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def instructions(name: str) -> list[str]:
    return [rest for word, rest in dockerfile() if word == name]


def test_the_image_installs_the_hash_checked_postgres_lock_then_the_project() -> None:
    (base,) = instructions("FROM")
    assert re.fullmatch(r"python:3\.1[1-4]-slim", base)
    runs = instructions("RUN")
    lock = [r for r in runs if "requirements/postgres.txt" in r]
    assert len(lock) == 1 and "--require-hashes" in lock[0].split()
    project = [r for r in runs if "[postgres]" in r]
    assert len(project) == 1 and "--no-index" in project[0].split()
    assert runs.index(lock[0]) < runs.index(project[0])


def test_the_image_runs_supportbot_run_as_a_user_that_is_not_root() -> None:
    (user,) = instructions("USER")
    assert user not in ("root", "0")
    (cmd,) = instructions("CMD")
    assert json.loads(cmd) == ["supportbot", "run"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert scripts["scripts"]["supportbot"] == "bot.cli:main"
    (port,) = instructions("EXPOSE")
    assert int(port) == parse_listen(environment("bot")["WEBHOOK_LISTEN"])[1]
    assert int(port) == parse_listen(Settings.model_fields["webhook_listen"].default)[1]


def test_no_setting_is_baked_into_the_image() -> None:
    names = setting_names()
    for word in ("ENV", "ARG"):
        for rest in instructions(word):
            given = {m.group(1).upper() for m in re.finditer(r"(\w+)=", rest)}
            assert given & names == set(), f"{word} {rest}"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".git", ".venv", "*.db"} <= set(ignored)


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def healthcheck(env: dict[str, str]) -> int:
    """Run the image's HEALTHCHECK command here; its exit code."""
    (given,) = instructions("HEALTHCHECK")
    command = json.loads(given.split(" CMD ", 1)[1])
    assert command[:2] == ["python", "-c"]
    result = subprocess.run(
        [sys.executable, "-c", command[2]], env=env, capture_output=True, timeout=30
    )
    return result.returncode


@pytest.mark.parametrize("status, healthy", [(200, True), (503, False)])
def test_the_health_check_asks_healthz_on_the_webhook_port(status: int, healthy: bool) -> None:
    handler = type("Handler", (_Health,), {"status": status})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        webhook = {"WEBHOOK_URL": "https://x.example/telegram"}
        code = healthcheck({**webhook, "WEBHOOK_LISTEN": f"0.0.0.0:{port}"})
        assert (code == 0) is healthy
        # long polling: METRICS_LISTEN's port, and nothing to ask without it
        assert (healthcheck({"METRICS_LISTEN": f"127.0.0.1:{port}"}) == 0) is healthy
        assert healthcheck({}) == 0
    finally:
        server.shutdown()
        server.server_close()


# ---- .env.example ----------------------------------------------------------------------


def test_env_example_names_settings_and_what_compose_reads() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    given = set(re.findall(r"^([A-Z_]+)=", text, flags=re.MULTILINE))
    compose_reads = set(VARIABLE.findall((ROOT / "compose.yaml").read_text(encoding="utf-8")))
    caddy_reads = set(re.findall(r"\{\$(\w+)", (ROOT / "deploy/Caddyfile").read_text("utf-8")))
    assert caddy_reads <= compose_reads
    assert given - setting_names() - compose_reads == set()
    assert compose_reads <= given, "every variable compose.yaml needs is explained there"

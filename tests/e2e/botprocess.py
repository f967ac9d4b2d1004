"""The real bot (``python -m bot run``) as a child process, pointed at the fake Bot API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
AGENT_CHAT = -1009999999999


class BotProcess:
    """Start, stop and kill the bot; its log goes to a file the test can read."""

    def __init__(self, fake: FakeBotApi, workdir: Path, *, module: str = "bot", **env: str):
        self.fake = fake
        self.module = module  # what ``python -m`` runs
        self.workdir = workdir
        self.log_path = workdir / "bot.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATCH"))},
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_BASE_URL": fake.base_url,
            "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
            "AGENT_CHAT_ID": str(AGENT_CHAT),
            "POLL_TIMEOUT": "2",
            "MATCHER": "lexical",  # scores and thresholds below are the lexical matcher's
            "LOG_LEVEL": "DEBUG",  # the most talkative level: the token must still not show
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``supportbot ARGS`` beside the bot: its settings, its folder, its database."""
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *, wait: bool = True) -> BotProcess:
        """Start the bot; with ``wait``, return once it polls (``False``: at once)."""
        before = len(self.fake.requests_for("getUpdates"))
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "run"],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while wait and len(self.fake.requests_for("getUpdates")) <= before:
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited at start:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not start polling:\n{self.log()}")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as a service manager would; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self.process = None
        return code

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)
        self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 120.0) -> bool:
        """True once ``text`` is in the log; False if the process exits first or ``timeout``
        (a guard against a hung test, as the fake Bot API's waits have) runs out."""
        give_up = time.monotonic() + timeout
        while text not in self.log():
            if not self.alive() or time.monotonic() > give_up:
                return text in self.log()
            time.sleep(0.05)
        return True

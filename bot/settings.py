"""Settings, read once from the environment and ``.env``: the only module that reads them."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from flows.hours import HoursError, SupportHours, parse_hours
from flows.text import DEFAULT_ORDER_NUMBER_PATTERN, DateOrder, order_pattern
from knowledge.loader import default_knowledge_dir
from knowledge.schema import Thresholds

TELEGRAM_API = "https://api.telegram.org/bot"


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(value: object) -> object:
    """``30s``, ``10m``, ``24h``, ``7d``, ``2w`` or a sum like ``1h30m``; ``0`` is none.

    Hand-written: pydantic reads seconds and ISO 8601 (``P7D``) only, and no well-kept
    library is worth a dependency for five units.
    """
    if isinstance(value, timedelta):
        return value
    text = str(value).strip().lower().replace(" ", "")
    if text in ("0", ""):
        return timedelta(0)
    if not _DURATION.sub("", text) and text:
        seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(text))
        return timedelta(seconds=seconds)
    raise ValueError("must be a number and a unit, like 30s, 10m, 24h, 7d or 2w")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def parse_quiet_hours(value: str) -> tuple[int, int] | None:
    """``21-9`` -> (21, 9): from 21:00 to 09:00 local time; empty -> None (off)."""
    text = value.strip()
    if not text:
        return None
    start, sep, end = text.partition("-")
    if not sep or not start.strip().isdigit() or not end.strip().isdigit():
        raise ValueError("must be two hours like 21-9 (from 21:00 to 09:00), or empty for none")
    hours = int(start), int(end)
    if not all(0 <= h <= 23 for h in hours) or hours[0] == hours[1]:
        raise ValueError("hours must be 0-23 and differ, like 21-9")
    return hours


_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
OPS_PATHS = ("/healthz", "/metrics")  # served beside the webhook, so not a webhook path


def parse_listen(value: str) -> tuple[str, int]:
    """``0.0.0.0:8443`` -> ("0.0.0.0", 8443); ``[::1]:9464`` -> ("::1", 9464)."""
    host, sep, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be host:port, like 0.0.0.0:8443 or 127.0.0.1:9464")
    return host, int(port)


class SettingsError(Exception):
    """A setting has a wrong value; the message names it, for the person starting the bot."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = TELEGRAM_API
    agent_chat_id: int | None = None
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    database_url: str = "sqlite:///supportbot.db"
    knowledge_dir: Path = Field(default_factory=default_knowledge_dir)
    # None: the matcher's calibrated defaults (knowledge.schema.Thresholds)
    match_answer_threshold: float | None = Field(default=None, ge=0.0, le=100.0)
    match_suggest_threshold: float | None = Field(default=None, ge=0.0, le=100.0)
    # auto: the [semantic] extra when installed, else the lexical matcher
    matcher: Literal["auto", "lexical", "semantic"] = "auto"
    semantic_model_dir: Path | None = None  # model.onnx + tokenizer.json of your own
    max_fix_attempts: int = Field(default=3, ge=1, le=10)
    poll_timeout: int = Field(default=25, ge=0, le=50)  # long-polling seconds
    # off: nobody answers escalated customers; they are told so, and how else to reach the shop
    escalation: Literal["on", "off"] = "on"
    support_contact: str = ""  # e.g. "support@shop.example or +44 20 1234 5678"
    # on: customers read which agent answers ("Bea from our team"); off: "Our team"
    agent_names: Literal["on", "off"] = "on"
    # a customer writing this soon after a resolution is asked "about T-00128 or something
    # new?"; 0 turns the question off
    reopen_window: Duration = timedelta(days=7)
    # the bot comes back this long after a resolution: "Is everything working now?"
    followup_delay: Duration = timedelta(hours=24)
    # no answer to it this long after it was sent: the ticket closes quietly
    auto_close_after: Duration = timedelta(days=7)
    # fell due while the bot was down, longer ago than this: expired (logged), not sent
    followup_stale_after: Duration = timedelta(hours=72)
    # local hours (TIMEZONE) when no follow-up is sent, e.g. 21-9; empty: any time
    quiet_hours: str = "21-9"
    # follow-ups sent a second at most, per replica, leaving room for live replies (of ~30)
    followup_rate: float = Field(default=10.0, gt=0, le=30)
    # a follow-up claimed by a process that died is taken again after this (with several
    # processes on PostgreSQL, one stalled this long may see its claim taken over)
    followup_lease: Duration = timedelta(seconds=60)
    # a reply Telegram could not take (429s, an outage, the bot down) for this long after it
    # was queued is given up (logged and counted) rather than sent that late
    send_stale_after: Duration = timedelta(hours=24)
    # messages per second to Telegram in all, shared by every replica on one database
    # (Telegram allows a bot about 30); a 429 still pauses everything for its retry_after
    send_rate: float = Field(default=30.0, gt=0, le=30)
    # when the team is in, e.g. "Mon-Fri 09:00-18:00, Sat 10:00-14:00"; empty: not said
    support_hours: str = ""
    timezone: str = "UTC"  # an IANA name (Europe/Berlin): SUPPORT_HOURS is read in it
    # how customers' numeric dates are read first: DMY (05/11/2026 is 5 November), MDY, YMD
    date_order: DateOrder = "DMY"
    # what an order number looks like: a regular expression the whole number must match
    order_number_pattern: str = DEFAULT_ORDER_NUMBER_PATTERN
    # the team's language, and the customers' when Telegram names one not shipped
    default_language: str = "en"
    log_level: str = "INFO"
    # webhook mode: the public https URL Telegram posts updates to (empty: long polling)
    webhook_url: str = ""
    # Telegram's secret_token for the webhook, required with WEBHOOK_URL: 1-256 of A-Z a-z 0-9 _ -
    webhook_secret: SecretStr | None = None
    # host:port the webhook server binds (a reverse proxy in front terminates TLS)
    webhook_listen: str = "0.0.0.0:8443"
    # polling mode: host:port for /healthz and /metrics; empty: off (webhook mode serves
    # them on WEBHOOK_LISTEN)
    metrics_listen: str = ""

    @field_validator(
        "telegram_bot_token",
        "agent_chat_id",
        "semantic_model_dir",
        "match_answer_threshold",
        "match_suggest_threshold",
        "webhook_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("knowledge_dir", mode="before")
    @classmethod
    def _blank_is_bundled(cls, value: object) -> object:
        return default_knowledge_dir() if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "database_url",
        "telegram_base_url",
        "log_level",
        "matcher",
        "escalation",
        "timezone",
        "date_order",
        "order_number_pattern",
        "default_language",
        "webhook_listen",
        mode="before",
    )
    @classmethod
    def _blank_is_default(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str) and not value.strip():
            return cls.model_fields[info.field_name or ""].default
        return value

    @field_validator("escalation", "agent_names", mode="before")
    @classmethod
    def _on_off(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("date_order", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("default_language")
    @classmethod
    def _shipped_language(cls, value: str) -> str:
        from knowledge.catalogue import Catalogue  # reads the shipped files only when asked

        code = value.strip().lower()
        shipped = Catalogue.load().languages
        if code not in shipped:
            raise ValueError(
                f"{value!r} is not shipped; the responses exist in {', '.join(shipped)}"
            )
        return code

    @field_validator("order_number_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            order_pattern(value)
        except re.error as exc:
            raise ValueError(f"is not a regular expression Python can read: {exc}") from None
        return value

    @field_validator("support_contact", "support_hours", "timezone")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("followup_lease")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0, like 60s")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)  # raises with what is wrong
        return value.strip()

    @property
    def quiet(self) -> tuple[int, int] | None:
        """QUIET_HOURS as (from hour, to hour), or None when off."""
        return parse_quiet_hours(self.quiet_hours)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        _zone_named(value)
        return value

    @field_validator("support_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        try:
            parse_hours(value, ZoneInfo("UTC"))  # the zone does not change what parses
        except HoursError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            return tuple(parts)
        return value

    @field_validator("telegram_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if "{token}" in value else value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        url = value.strip()
        if not url:
            return ""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be the public https:// URL Telegram posts updates to")
        port: int | None = 0  # urlsplit takes :0, and raises for text or past 65535
        with contextlib.suppress(ValueError):
            port = parts.port
        if port == 0:
            raise ValueError("has a port that is not a number from 1 to 65535")
        if parts.path.rstrip("/") in OPS_PATHS:
            raise ValueError(f"must not end in {parts.path}: that path serves operations")
        return url

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("webhook_listen", "metrics_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        text = value.strip()
        if text:
            parse_listen(text)  # raises with what is wrong
        return text

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET must be set with WEBHOOK_URL: without it anyone who finds the"
                " URL could post updates (1-256 characters of A-Z, a-z, 0-9, _ and -)"
            )
        return self

    @model_validator(mode="after")
    def _thresholds(self) -> Settings:
        answer, suggest = self.match_answer_threshold, self.match_suggest_threshold
        if answer is not None and suggest is not None and suggest > answer:
            raise ValueError(
                "MATCH_SUGGEST_THRESHOLD must not be above MATCH_ANSWER_THRESHOLD"
                f" (got {suggest} > {answer})"
            )
        return self

    def thresholds(self, default: Thresholds | None = None) -> Thresholds:
        """The matcher's defaults, with MATCH_*_THRESHOLD applied over them."""
        default = default or Thresholds()
        answer = self.match_answer_threshold
        suggest = self.match_suggest_threshold
        answer = default.answer if answer is None else answer
        suggest = min(default.suggest, answer) if suggest is None else suggest
        return Thresholds(answer=answer, suggest=suggest, margin=default.margin)

    @property
    def webhook(self) -> bool:
        """True in webhook mode (``WEBHOOK_URL`` set), False when long polling."""
        return bool(self.webhook_url)

    @property
    def secret(self) -> str | None:
        """``WEBHOOK_SECRET`` as text; never log it."""
        return self.webhook_secret.get_secret_value() if self.webhook_secret else None

    @property
    def token(self) -> str | None:
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None

    @property
    def escalation_on(self) -> bool:
        """True when escalated customers are told a person will reply (``ESCALATION=on``)."""
        return self.escalation == "on"

    @property
    def zone(self) -> ZoneInfo:
        """``TIMEZONE`` as a zone: the wall clock that hours (and quiet hours) are read on."""
        return _zone_named(self.timezone)

    @property
    def hours(self) -> SupportHours | None:
        """``SUPPORT_HOURS`` in ``TIMEZONE``; None when not set (no hours are known)."""
        return parse_hours(self.support_hours, self.zone)

    @property
    def base_file_url(self) -> str:
        """The file URL that goes with ``telegram_base_url`` (``.../bot`` -> ``.../file/bot``)."""
        base = self.telegram_base_url
        head, sep, tail = base.rpartition("/bot")
        return f"{head}/file/bot{tail}" if sep else base


def _zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "not a time zone: use an IANA name like Europe/Berlin or America/New_York"
            " (or install tzdata if this system has no time zone database)"
        ) from None


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a wrong value raises ``SettingsError`` naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        given = first.get("input")
        secret = "TOKEN" in name or "SECRET" in name
        shown = "" if secret or isinstance(given, dict) else f" (got {given!r})"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"Setting {name}: {message}{shown}") from None

"""Settings: defaults, blank values, and one clear line for a wrong value."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.settings import Settings, SettingsError, load_settings, parse_listen
from flows.text import DEFAULT_ORDER_NUMBER_PATTERN
from knowledge.loader import default_knowledge_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults_run_the_demo_without_anything_set() -> None:
    settings = load_settings()
    assert settings.token is None
    assert settings.database_url == "sqlite:///supportbot.db"
    assert settings.knowledge_dir == default_knowledge_dir()
    assert settings.base_file_url == "https://api.telegram.org/file/bot"


def test_blank_values_mean_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "AGENT_CHAT_ID", "KNOWLEDGE_DIR", "DATABASE_URL"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("MATCH_ANSWER_THRESHOLD", " ")
    settings = load_settings()
    assert settings.token is None and settings.agent_chat_id is None
    assert settings.knowledge_dir == default_knowledge_dir()
    assert settings.database_url == "sqlite:///supportbot.db"


def test_values_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("AGENT_CHAT_ID", "-1001234567890")
    monkeypatch.setenv("ADMIN_IDS", "11, 22;33")
    monkeypatch.setenv("MATCH_ANSWER_THRESHOLD", "80")
    monkeypatch.setenv("MATCH_SUGGEST_THRESHOLD", "50")
    settings = load_settings()
    assert settings.token == "123:abc"
    assert settings.base_file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.agent_chat_id == -1001234567890
    assert settings.admin_ids == (11, 22, 33)
    thresholds = settings.thresholds()
    assert (thresholds.answer, thresholds.suggest) == (80, 50)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("AGENT_CHAT_ID", "abc", "Setting AGENT_CHAT_ID: "),
        ("ADMIN_IDS", "1,x", "Setting ADMIN_IDS: "),
        ("MATCH_ANSWER_THRESHOLD", "150", "Setting MATCH_ANSWER_THRESHOLD: "),
        ("MAX_FIX_ATTEMPTS", "0", "Setting MAX_FIX_ATTEMPTS: "),
        ("TELEGRAM_BASE_URL", "api.telegram.org", "Setting TELEGRAM_BASE_URL: must start with"),
        ("LOG_LEVEL", "LOUD", "Setting LOG_LEVEL: must be DEBUG"),
    ],
)
def test_a_wrong_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected) and "\n" not in message


def test_suggest_above_answer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCH_ANSWER_THRESHOLD", "40")
    monkeypatch.setenv("MATCH_SUGGEST_THRESHOLD", "60")
    with pytest.raises(SettingsError, match="MATCH_SUGGEST_THRESHOLD must not be above"):
        load_settings()


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    # beside the settings, what compose.yaml reads (tests/unit/test_deployment.py checks it)
    compose = {"DOMAIN", "POSTGRES_PASSWORD"}
    assert documented - compose == {name.upper() for name in Settings.model_fields}


def test_support_hours_are_read_in_the_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.hours is None  # nothing is said about hours
    assert settings.zone == ZoneInfo("UTC")
    monkeypatch.setenv("TIMEZONE", " Europe/Berlin ")
    monkeypatch.setenv("SUPPORT_HOURS", "Mon-Fri 09:00-18:00; Sat 10:00-14:00")
    settings = load_settings()
    assert settings.zone == ZoneInfo("Europe/Berlin")
    assert settings.hours is not None and settings.hours.zone == ZoneInfo("Europe/Berlin")
    assert len(settings.hours.spans) == 6
    monkeypatch.setenv("TIMEZONE", "")
    assert load_settings().zone == ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TIMEZONE", "Europe/Berln", "Setting TIMEZONE: not a time zone: use an IANA name like"),
        ("TIMEZONE", "../../etc/passwd", "Setting TIMEZONE: not a time zone"),
        ("TIMEZONE", "CEST+2", "Setting TIMEZONE: not a time zone"),
        (
            "SUPPORT_HOURS",
            "Mon-Fry 09:00-18:00",
            "Setting SUPPORT_HOURS: 'Mon-Fry 09:00-18:00': unknown day 'Fry'",
        ),
        ("SUPPORT_HOURS", "Mon-Fri 9 to 6", "Setting SUPPORT_HOURS: 'Mon-Fri 9 to 6': expected"),
    ],
)
def test_wrong_hours_or_zone_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected) and "\n" not in message


def test_date_order_is_dmy_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().date_order == "DMY"
    monkeypatch.setenv("DATE_ORDER", " mdy ")
    assert load_settings().date_order == "MDY"
    monkeypatch.setenv("DATE_ORDER", "")
    assert load_settings().date_order == "DMY"
    monkeypatch.setenv("DATE_ORDER", "DYM")
    with pytest.raises(SettingsError, match=r"^Setting DATE_ORDER: .*'DMY', 'MDY' or 'YMD'"):
        load_settings()


def test_order_number_pattern_is_checked_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().order_number_pattern == DEFAULT_ORDER_NUMBER_PATTERN
    monkeypatch.setenv("ORDER_NUMBER_PATTERN", r"NW\d{6}")
    assert load_settings().order_number_pattern == r"NW\d{6}"
    monkeypatch.setenv("ORDER_NUMBER_PATTERN", " ")
    assert load_settings().order_number_pattern == DEFAULT_ORDER_NUMBER_PATTERN
    for pattern, expected in [
        ("[A-Z", "is not a regular expression Python can read: unterminated character set"),
        ("[A-Z]+", "accepts the plain word 'HELP'; an order number pattern should need digits"),
        (r"\d*", "accepts an empty order number"),
    ]:
        monkeypatch.setenv("ORDER_NUMBER_PATTERN", pattern)
        with pytest.raises(SettingsError) as caught:
            load_settings()
        message = str(caught.value)
        assert message.startswith(f"Setting ORDER_NUMBER_PATTERN: {expected}"), message
        assert "\n" not in message


def test_polling_unless_a_webhook_url_is_set() -> None:
    settings = load_settings()
    assert not settings.webhook and settings.secret is None
    assert settings.webhook_listen == "0.0.0.0:8443"
    assert settings.metrics_listen == ""  # no port opened unless asked


def test_a_webhook_needs_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com/telegram")
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET must be set with WEBHOOK_URL"):
        load_settings()
    monkeypatch.setenv("WEBHOOK_SECRET", "Abc_123-xyz")
    settings = load_settings()
    assert settings.webhook and settings.secret == "Abc_123-xyz"
    assert "Abc_123-xyz" not in repr(settings)


@pytest.mark.parametrize("secret", ["has space", "ümlaut", "semi;colon", "x" * 257])
def test_a_wrong_secret_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com/telegram")
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET: must be 1-256") as raised:
        load_settings()
    assert secret not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("WEBHOOK_URL", "bot.example.com/hook", "public https:// URL"),
        ("WEBHOOK_URL", "https://bot.example.com/healthz", "serves operations"),
        ("WEBHOOK_URL", "https://bot.example.com:84x3/hook", "port that is not a number"),
        ("WEBHOOK_URL", "https://bot.example.com:0/hook", "port that is not a number"),
        ("WEBHOOK_LISTEN", "8443", "host:port"),
        ("METRICS_LISTEN", "127.0.0.1:99999", "host:port"),
    ],
)
def test_wrong_webhook_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"Setting {name}: .*{problem}"):
        load_settings()


def test_listen_addresses_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_LISTEN", " [::1]:9464 ")
    assert parse_listen(load_settings().metrics_listen) == ("::1", 9464)
    assert parse_listen("0.0.0.0:8443") == ("0.0.0.0", 8443)

from pathlib import Path

import pytest

from app.core.config import ConfigError, Settings, load_settings, settings_or_exit
from app.core.db import sync_database_url
from tests.conftest import env_of

SECRETS = ("s3cr3t-db", "s3cr3t-redis")


def load(tmp_path: Path, **environ: str) -> Settings:
    return load_settings(environ, env_dir=tmp_path)


@pytest.mark.parametrize(
    ("app_env", "overrides", "message"),
    [
        ("dev", {"APP_ENV": "staging"}, "APP_ENV must be dev or prod ('staging')"),
        ("dev", {"APP_ENV": None}, "APP_ENV must be dev or prod (missing)"),
        (
            "dev",
            {"DATABASE_URL": "mysql+aiomysql://u:s3cr3t-db@db:3306/mindfulness"},
            "DATABASE_URL: schema 'mindfulness' is not the schema of APP_ENV=dev (expected 'mindfulness_dev')",
        ),
        (
            "prod",
            {"DATABASE_URL": "mysql+aiomysql://u:s3cr3t-db@db:3306/mindfulness_dev"},
            "DATABASE_URL: schema 'mindfulness_dev' is not the schema of APP_ENV=prod (expected 'mindfulness')",
        ),
        ("dev", {"DATABASE_URL": "not a url"}, "DATABASE_URL: cannot be parsed as a SQLAlchemy URL"),
        ("dev", {"DATABASE_URL": "postgresql://u:p@h/mindfulness_dev"}, "DATABASE_URL: driver 'postgresql' is not MySQL"),
        ("dev", {"REDIS_KEY_PREFIX": "pro:"}, "REDIS_KEY_PREFIX: 'pro:' is not the prefix of APP_ENV=dev (expected 'dev:')"),
        ("prod", {"REDIS_KEY_PREFIX": "prod:"}, "REDIS_KEY_PREFIX: 'prod:' is not the prefix of APP_ENV=prod"),
        ("dev", {"REDIS_URL": "redis://u:s3cr3t-redis@h:notaport/0"}, "REDIS_URL: cannot be parsed as a redis:// URL"),
        ("dev", {"CELERY_BROKER_URL": "amqp://guest@rabbit//"}, "CELERY_BROKER_URL: cannot be parsed as a redis:// URL"),
        (
            "prod",
            {"REDIS_URL": "redis://pro_user:<redis-password>@h:6379/0"},
            "REDIS_URL: the password is still a placeholder",
        ),
        (
            "prod",
            {"DATABASE_URL": "mysql+aiomysql://prod_app:CHANGE_ME@h/mindfulness"},
            "DATABASE_URL: the password is still a placeholder",
        ),
        ("dev", {"CELERY_QUEUE": "dev:push"}, "CELERY_QUEUE: give the bare queue name"),
        ("dev", {"CELERY_RESULT_EXPIRES_SECONDS": "172800"}, "CELERY_RESULT_EXPIRES_SECONDS: Input should be less"),
    ],
)
def test_bad_setting_is_refused_with_one_line_naming_it(
    tmp_path: Path, app_env: str, overrides: dict[str, str], message: str
) -> None:
    """Assert that each broken convention is refused with one line that names the variable."""
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **env_of(app_env, **overrides))
    text = str(caught.value)
    assert text.startswith(message), text
    assert "\n" not in text
    assert not any(secret in text for secret in SECRETS)


def test_dev_placeholder_password_is_tolerated(tmp_path: Path) -> None:
    """Assert that only prod insists on real secrets: a dev laptop may keep the example's form."""
    settings = load(tmp_path, **env_of("dev", REDIS_URL="redis://dev_user:change-me@localhost:6379/0"))
    assert settings.app_env == "dev"


@pytest.mark.parametrize(("app_env", "schema", "prefix"), [("dev", "mindfulness_dev", "dev:"), ("prod", "mindfulness", "pro:")])
def test_valid_env_gets_its_schema_and_prefix(tmp_path: Path, app_env: str, schema: str, prefix: str) -> None:
    settings = load(tmp_path, **env_of(app_env))
    assert settings.schema == schema
    assert settings.redis_key_prefix == prefix
    assert sync_database_url(settings).drivername == "mysql+pymysql"
    assert sync_database_url(settings).database == schema


def test_app_env_picks_its_file_and_environment_overrides_it(tmp_path: Path) -> None:
    """Assert that APP_ENV=prod reads .env.prod (not .env.dev) and a set variable wins over the file."""
    (tmp_path / ".env.prod").write_text(
        "DATABASE_URL=mysql+aiomysql://prod_app:file-db@db/mindfulness\n"
        "REDIS_URL=redis://pro_user:file-redis@redis:6379/0\n"
        "CELERY_BROKER_URL=redis://pro_user:file-redis@redis:6379/0\n"
        "HEARTBEAT_INTERVAL_SECONDS=30\n"
    )
    (tmp_path / ".env.dev").write_text("HEARTBEAT_INTERVAL_SECONDS=999\n")
    settings = load(tmp_path, APP_ENV="prod", HEARTBEAT_INTERVAL_SECONDS="7")
    assert settings.heartbeat_interval_seconds == 7
    assert settings.database_url.get_secret_value().endswith("/mindfulness")


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    shown = repr(load(tmp_path, **env_of("prod")))
    assert not any(secret in shown for secret in SECRETS)


def test_entry_point_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Assert that a process entry point stops with exit code 2 and one 'config error:' line."""
    monkeypatch.setenv("APP_ENV", "qa")
    from app.core import config

    config.get_settings.cache_clear()
    with pytest.raises(SystemExit) as exited:
        settings_or_exit()
    assert exited.value.code == 2
    assert capsys.readouterr().err == "config error: APP_ENV must be dev or prod ('qa')\n"


def test_app_env_file_names_another_file_or_none(tmp_path: Path) -> None:
    (tmp_path / ".env.dev").write_text("REDIS_KEY_PREFIX=pro:\n")  # would be refused if read
    assert load(tmp_path, APP_ENV_FILE="", **env_of("dev")).redis_key_prefix == "dev:"
    with pytest.raises(ConfigError, match="APP_ENV_FILE: no such file"):
        load(tmp_path, APP_ENV_FILE=str(tmp_path / "missing.env"), **env_of("dev"))

"""Settings of one environment, read once, refused at start when they break a convention.

APP_ENV (dev | prod) comes from the process environment and picks `.env.dev` or `.env.prod` in
server/ (or the file APP_ENV_FILE names; empty for none); the process environment overrides the file.
"""

import os
import re
import sys
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import SplitResult, unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

AppEnv = Literal["dev", "prod"]

SCHEMA_BY_ENV: dict[str, str] = {"dev": "mindfulness_dev", "prod": "mindfulness"}
KEY_PREFIX_BY_ENV: dict[str, str] = {"dev": "dev:", "prod": "pro:"}
SERVER_DIR = Path(__file__).resolve().parents[2]
ONE_DAY_SECONDS = 86400

# Passwords that mean "nobody filled this in": the .env.example forms and the usual suspects.
_PLACEHOLDER_SECRET = re.compile(
    r"^(|<[^>]*>|\$\{[^}]*\}|change[-_ ]?me|placeholder|password|secret|x+|todo)$", re.IGNORECASE
)


class ConfigError(Exception):
    """A setting breaks a convention; the message is one line and holds no secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    app_env: AppEnv
    database_url: SecretStr
    redis_url: SecretStr
    celery_broker_url: SecretStr
    celery_result_backend: SecretStr | None = None
    celery_result_expires_seconds: int = Field(3600, gt=0, le=ONE_DAY_SECONDS)
    redis_key_prefix: str = ""
    celery_queue: str = "push"
    celery_visibility_timeout_seconds: int = Field(3600, gt=0)
    celery_unacked_restore_interval_seconds: int = Field(10, gt=0)
    task_payload_max_bytes: int = Field(512, gt=0)
    heartbeat_interval_seconds: float = Field(60.0, gt=0)
    beat_schedule_file: Path | None = None
    readiness_timeout_seconds: float = Field(2.0, gt=0)

    @model_validator(mode="after")
    def _follow_conventions(self) -> "Settings":
        self.redis_key_prefix = _checked_prefix(self.app_env, self.redis_key_prefix)
        _check_database_url(self.app_env, self.database_url.get_secret_value())
        for name in ("redis_url", "celery_broker_url", "celery_result_backend"):
            value = getattr(self, name)
            if value is not None:
                _check_redis_url(self.app_env, name.upper(), value.get_secret_value())
        if ":" in self.celery_queue:
            raise ValueError("CELERY_QUEUE: give the bare queue name (e.g. push); the env prefix is added")
        if self.beat_schedule_file is None:
            self.beat_schedule_file = Path(tempfile.gettempdir()) / f"mindfulness-celerybeat-{self.app_env}"
        return self

    @property
    def schema(self) -> str:
        return SCHEMA_BY_ENV[self.app_env]


def _checked_prefix(app_env: str, prefix: str) -> str:
    expected = KEY_PREFIX_BY_ENV[app_env]
    if prefix and prefix != expected:
        raise ValueError(f"REDIS_KEY_PREFIX: {prefix!r} is not the prefix of APP_ENV={app_env} (expected {expected!r})")
    return expected


def _parsed_url(raw: str, unparsable: str) -> SplitResult:
    """Split a URL (without SQLAlchemy, which a refused process then never imports); `unparsable` if it
    has no scheme or host, or a bad port."""
    try:
        url = urlsplit(raw)
        url.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(unparsable) from None
    if not url.scheme or not url.hostname:
        raise ValueError(unparsable)
    return url


def _check_password(app_env: str, variable: str, url: SplitResult) -> None:
    if app_env == "prod" and _PLACEHOLDER_SECRET.match(unquote(url.password or "")):
        raise ValueError(f"{variable}: the password is still a placeholder")


def _check_database_url(app_env: str, raw: str) -> None:
    url = _parsed_url(raw, "DATABASE_URL: cannot be parsed as a SQLAlchemy URL")
    if not url.scheme.startswith("mysql"):
        raise ValueError(f"DATABASE_URL: driver {url.scheme!r} is not MySQL (mysql+aiomysql://...)")
    expected, schema = SCHEMA_BY_ENV[app_env], url.path.lstrip("/") or None
    if schema != expected:
        raise ValueError(
            f"DATABASE_URL: schema {schema!r} is not the schema of APP_ENV={app_env} (expected {expected!r})"
        )
    _check_password(app_env, "DATABASE_URL", url)


def _check_redis_url(app_env: str, variable: str, raw: str) -> None:
    url = _parsed_url(raw, f"{variable}: cannot be parsed as a redis:// URL")
    if url.scheme not in ("redis", "rediss"):
        raise ValueError(f"{variable}: cannot be parsed as a redis:// URL (redis://user:password@host:6379/0)")
    _check_password(app_env, variable, url)


def load_settings(environ: Mapping[str, str] | None = None, env_dir: Path = SERVER_DIR) -> Settings:
    """Read the settings of the env named by APP_ENV; raise ConfigError with one clear line.

    With `environ`, only that mapping (and the env file) is read: used by tools that configure
    several envs side by side. Without it, the process environment is read, as a deploy sets it.
    """
    source = os.environ if environ is None else environ
    app_env = source.get("APP_ENV")
    if app_env not in SCHEMA_BY_ENV:
        shown = "missing" if app_env is None else repr(app_env)
        raise ConfigError(f"APP_ENV must be dev or prod ({shown})")
    env_file = _env_file(source, env_dir / f".env.{app_env}")
    init = {} if environ is None else {key.lower(): value for key, value in environ.items()}
    try:
        return Settings(_env_file=env_file, **init)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


def _env_file(source: Mapping[str, str], default: Path) -> Path | None:
    """APP_ENV_FILE names another file (a deploy's /etc/...), or none when empty."""
    chosen = source.get("APP_ENV_FILE")
    if chosen is None:
        return default if default.is_file() else None
    if chosen and not Path(chosen).is_file():
        raise ConfigError(f"APP_ENV_FILE: no such file {chosen!r}")
    return Path(chosen) if chosen else None


def _one_line(exc: ValidationError) -> str:
    """Name each failed variable; never echo a value (it may be a secret)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        problems.append(message if not field or message.startswith(field) else f"{field}: {message}")
    return "; ".join(problems)


@lru_cache
def get_settings() -> Settings:
    return load_settings()


def settings_or_exit() -> Settings:
    """For process entry points: a broken configuration stops the process with one line, exit 2."""
    try:
        return get_settings()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None

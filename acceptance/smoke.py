"""A deployed env as a smoke target: read from the variables and env files the server itself uses.

`--target=prod-smoke` reads `.env.prod` (in `--env-dir`, default server/) with the process environment
on top, as the server does; `.env.dev`, when present, adds dev so that cross-env checks run both
ways. Smoke-only variables: the API base URL of each env and the read-only probe user.
Everything is validated before any connection is opened.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from acceptance import masking
from acceptance.services.base import Endpoint
from acceptance.stack import INHERITED_VARIABLES
from acceptance.targets import Account, AppEnv, Target

REQUIRED_SETTINGS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
PROBE_USER = "ACCEPTANCE_REDIS_PROBE_USER"
PROBE_PASSWORD = "ACCEPTANCE_REDIS_PROBE_PASSWORD"


class SmokeConfigError(Exception):
    """The smoke target's configuration is incomplete or breaks a convention; one line."""


def api_url_variable(env: str) -> str:
    return f"ACCEPTANCE_{env.upper()}_API_URL"


def env_of_target(target: str) -> str:
    return target.removesuffix("-smoke")


@dataclass(frozen=True)
class SmokeConfig:
    env: str
    envs: dict[str, dict[str, str]]
    probe: Account

    def hosts(self) -> list[str]:
        lines = []
        for env, environ in self.envs.items():
            db, redis = urlsplit(environ["DATABASE_URL"]), urlsplit(environ["REDIS_URL"])
            lines.append(f"{env}: MySQL {db.hostname}:{db.port or 3306}/{db.path.lstrip('/')} as {db.username}; "
                         f"Redis {redis.hostname}:{redis.port or 6379} as {redis.username}; "
                         f"API {environ[api_url_variable(env)]}")
        return lines


def _settings_of(env: str, env_dir: Path, with_process_environment: bool) -> dict[str, str]:
    path = env_dir / f".env.{env}"
    values = {k: v for k, v in dotenv_values(path).items() if v is not None} if path.is_file() else {}
    if with_process_environment:  # the target env: the process environment wins, as for the server
        values.update({name: value for name, value in os.environ.items() if name not in INHERITED_VARIABLES})
    return values


def read_smoke_config(target: str, env_dir: Path) -> SmokeConfig:
    """The target env (required) and the other env (if its file exists); every missing variable named."""
    env = env_of_target(target)
    other = "prod" if env == "dev" else "dev"
    candidates = {env: _settings_of(env, env_dir, True)}
    if (env_dir / f".env.{other}").is_file():
        candidates[other] = _settings_of(other, env_dir, False)
    missing = [f"{name} ({'.env.' + e}{' or environment' if e == env else ''})"
               for e, values in candidates.items() for name in (*REQUIRED_SETTINGS, api_url_variable(e))
               if not values.get(name)]
    if not os.environ.get(PROBE_PASSWORD):
        missing.append(f"{PROBE_PASSWORD} (environment)")
    if missing:
        raise SmokeConfigError(f"{target}: missing configuration: {', '.join(missing)}")
    envs = {e: _deploy_environ(e, values) for e, values in candidates.items()}
    probe = Account(os.environ.get(PROBE_USER, "probe"), os.environ[PROBE_PASSWORD])
    _remember_secrets(envs, probe)
    _check_conventions(envs)
    return SmokeConfig(env, envs, probe)


def _deploy_environ(env: str, values: dict[str, str]) -> dict[str, str]:
    environ = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
    environ.update(values)
    environ.update(APP_ENV=env, APP_ENV_FILE="")
    return environ


def _remember_secrets(envs: dict[str, dict[str, str]], probe: Account) -> None:
    passwords = [urlsplit(environ[name]).password or "" for environ in envs.values()
                 for name in (*REQUIRED_SETTINGS, "CELERY_RESULT_BACKEND") if environ.get(name)]
    masking.remember(probe.password, *passwords)


def _check_conventions(envs: dict[str, dict[str, str]]) -> None:
    """The server's own guard: a deployed config that breaks a convention is named before any connection."""
    from app.core.config import ConfigError, load_settings

    for env, environ in envs.items():
        try:
            load_settings(environ)
        except ConfigError as exc:
            raise SmokeConfigError(f"{env}-smoke: the deployed configuration is refused: {exc}") from None


def _endpoint(url: str, default_port: int) -> Endpoint:
    parts = urlsplit(url)
    return Endpoint(parts.hostname or "", parts.port or default_port)


def smoke_target(target: str, config: SmokeConfig) -> Target:
    primary = config.envs[config.env]
    envs = {env: AppEnv(env, environ, environ[api_url_variable(env)].rstrip("/"))
            for env, environ in config.envs.items()}
    return Target(
        name=target,
        mysql=_endpoint(primary["DATABASE_URL"], 3306),
        redis=_endpoint(primary["REDIS_URL"], 6379),
        envs=envs,
        redis_probe=config.probe,
    )

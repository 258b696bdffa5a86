"""What a target gives the checks: endpoints, accounts, and whether it may be harmed.

This is the only place where a throwaway stack and a deployed one differ.
"""

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from acceptance.probes import worker_name
from acceptance.services.base import Endpoint
from acceptance.services.provider import Services
from acceptance.stack import EnvStack

THROWAWAY = "throwaway"
SMOKE_TARGETS = ("dev-smoke", "prod-smoke")
TARGETS = (THROWAWAY, *SMOKE_TARGETS)


@dataclass(frozen=True)
class Account:
    user: str
    password: str


@dataclass
class AppEnv:
    """One deployed env as its users see it: its variables, its API, its accounts."""

    name: str
    environ: dict[str, str]
    api_url: str
    stack: EnvStack | None = None
    worker_names: tuple[str, ...] = ()  # when known, remote control need not wait for stragglers

    def require(self, role: str) -> None:
        """Fail now, naming the process and showing its log, if a process this run started is down.
        (A deployed env's processes are not ours to watch: the check's own observation decides.)"""
        if self.stack is not None:
            self.stack.process(role)

    @property
    def redis_account(self) -> Account:
        return _account_of(self.environ["REDIS_URL"])

    @property
    def db_account(self) -> Account:
        return _account_of(self.environ["DATABASE_URL"])


@dataclass
class Target:
    name: str
    mysql: Endpoint
    redis: Endpoint
    envs: dict[str, AppEnv]
    redis_probe: Account
    redis_admin: Account | None = None
    mysql_admin: Account | None = None
    services: Services | None = None


def _account_of(url: str) -> Account:
    parts = urlsplit(url)
    return Account(unquote(parts.username or ""), unquote(parts.password or ""))


def throwaway_target(services: Services, stacks: dict[str, EnvStack]) -> Target:
    credentials = services.credentials
    envs = {env: AppEnv(env, stack.environ, stack.api_url, stack, (worker_name(env),)) for env, stack in stacks.items()}
    return Target(
        name=THROWAWAY,
        mysql=services.mysql.endpoint,
        redis=services.redis.endpoint,
        envs=envs,
        redis_probe=Account("probe", credentials.redis["probe"]),
        redis_admin=Account("admin", credentials.redis["admin"]),
        mysql_admin=Account("root", credentials.mysql_root),
        services=services,
    )

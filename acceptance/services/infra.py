"""The repo's infra files, rendered with this run's passwords and applied to fresh services."""

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import pymysql

from acceptance import masking

# The infra files' placeholders, and which user each one is the password of.
REDIS_PASSWORD_PLACEHOLDERS = {
    "admin": "REDIS_ADMIN_PASSWORD",
    "probe": "REDIS_PROBE_PASSWORD",
    "dev_user": "REDIS_DEV_PASSWORD",
    "pro_user": "REDIS_PRO_PASSWORD",
}
MYSQL_APP_USERS = {"dev": ("dev_app", "MYSQL_DEV_PASSWORD"), "prod": ("prod_app", "MYSQL_PROD_PASSWORD")}


class InfraError(RuntimeError):
    """An infra file cannot be rendered or applied."""


def _new_password() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Credentials:
    """Per-run random passwords for every user the infra files define."""

    # repr=False: pytest shortens long reprs, and a shortened secret escapes masking.
    mysql_root: str = field(default_factory=_new_password, repr=False)
    redis: dict[str, str] = field(
        default_factory=lambda: {user: _new_password() for user in REDIS_PASSWORD_PLACEHOLDERS}, repr=False
    )
    mysql: dict[str, str] = field(default_factory=lambda: {env: _new_password() for env in MYSQL_APP_USERS}, repr=False)

    def __post_init__(self) -> None:
        masking.remember(self.mysql_root, *self.redis.values(), *self.mysql.values())

    def placeholders(self) -> dict[str, str]:
        values = {REDIS_PASSWORD_PLACEHOLDERS[user]: pw for user, pw in self.redis.items()}
        values.update({MYSQL_APP_USERS[env][1]: pw for env, pw in self.mysql.items()})
        return values

    def mysql_user(self, env: str) -> tuple[str, str]:
        return MYSQL_APP_USERS[env][0], self.mysql[env]


def render(path: Path, credentials: Credentials) -> str:
    try:
        return Template(path.read_text()).substitute(credentials.placeholders())
    except KeyError as exc:
        raise InfraError(f"{path}: unknown placeholder ${{{exc.args[0]}}}") from None
    except ValueError as exc:
        raise InfraError(f"{path}: {exc}") from None


def write_acl(infra_dir: Path, credentials: Credentials, workdir: Path) -> Path:
    """The ACL file with this run's passwords, readable by a container's redis user."""
    target = workdir / "users.acl"
    target.write_text(render(infra_dir / "redis" / "users.acl", credentials))
    target.chmod(0o644)
    return target


def mysql_init_files(infra_dir: Path) -> list[Path]:
    files = sorted((infra_dir / "mysql" / "init").glob("*.sql"))
    if not files:
        raise InfraError(f"{infra_dir / 'mysql' / 'init'}: no *.sql file")
    return files


def apply_mysql_init(host: str, port: int, credentials: Credentials, infra_dir: Path) -> None:
    """Run infra/mysql/init/*.sql in order, as root, as a deploy would."""
    connection = pymysql.connect(
        host=host, port=port, user="root", password=credentials.mysql_root,
        client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS, connect_timeout=5, autocommit=True,
    )
    with connection, connection.cursor() as cursor:
        for path in mysql_init_files(infra_dir):
            try:
                cursor.execute(render(path, credentials))
                while cursor.nextset():
                    pass
            except pymysql.MySQLError as exc:
                raise InfraError(f"{path.name}: {masking.mask(str(exc))}") from None

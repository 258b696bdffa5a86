"""Throwaway MySQL and Redis as local processes (redis-server, mariadbd/mysqld) in temp dirs.

For hosts without a Docker engine. The same infra files drive them as drive the containers.
"""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from acceptance.executor import ReadyExecutor
from acceptance.services.base import (
    Endpoint, Service, ServiceError, Stopwatch, free_port, mysql_version, redis_version,
)
from acceptance.services.infra import Credentials

MYSQL_SERVERS = ("mariadbd", "mysqld")


def missing_binaries() -> list[str]:
    """What this provider would need and PATH does not have."""
    missing = [] if shutil.which("redis-server") else ["redis-server"]
    if not any(shutil.which(name) for name in MYSQL_SERVERS):
        missing.append("mariadbd or mysqld")
    return missing


class ProcessService(Service):
    provider = "process"

    def __init__(self, kind: str, executor: ReadyExecutor, endpoint: Endpoint, version: Callable[[], str]) -> None:
        self.kind = kind
        self.endpoint = endpoint
        self.provider = f"process {executor.command_parts[0]}"
        self._executor = executor
        self._version = version
        self.scratch: Path | None = None

    def start(self) -> "ProcessService":
        clock = Stopwatch()
        try:
            self._executor.start()
        except Exception as exc:
            self.stop()
            raise ServiceError(f"{self.kind} process did not start: {exc}\n{self._executor.log_tail()}") from None
        self.start_seconds = clock.seconds()
        self.version = self._version()
        return self

    def go_down(self) -> None:
        self._executor.stop_quietly()

    def come_back(self) -> None:
        self._executor.start()

    def stop(self) -> None:
        self._executor.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def logs(self) -> str:
        return self._executor.log_tail(200)


def start_redis(
    infra_dir: Path, acl_file: Path, credentials: Credentials, workdir: Path, timeout: float
) -> ProcessService:
    endpoint = Endpoint("127.0.0.1", free_port())
    data = workdir / "redis-data"
    data.mkdir()
    command = [
        shutil.which("redis-server") or "redis-server", str(infra_dir / "redis" / "redis.prod.conf"),
        "--aclfile", str(acl_file), "--bind", "127.0.0.1", "--port", str(endpoint.port), "--dir", str(data),
    ]
    admin = credentials.redis["admin"]
    version = lambda: redis_version(endpoint, admin)  # noqa: E731
    executor = ReadyExecutor(command, lambda _: version(), workdir / "redis.log", timeout=timeout)
    return ProcessService("redis", executor, endpoint, version).start()


def start_mysql(credentials: Credentials, workdir: Path, timeout: float) -> ProcessService:
    server = next(path for name in MYSQL_SERVERS if (path := shutil.which(name)))
    # The data directory goes to tmpfs where there is one: MySQL starts several times faster there.
    tmpfs = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    scratch = Path(tempfile.mkdtemp(prefix="acceptance-mysql-", dir=tmpfs))
    try:
        return _start_mysql_in(scratch, server, credentials, workdir, timeout)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def _start_mysql_in(
    scratch: Path, server: str, credentials: Credentials, workdir: Path, timeout: float
) -> ProcessService:
    endpoint = Endpoint("127.0.0.1", free_port())
    mariadb = "MariaDB" in subprocess.run([server, "--version"], capture_output=True, text=True, timeout=10).stdout
    _initialise(server, mariadb, scratch / "data", workdir / "mysql-install.log")
    init_file = scratch / "init.sql"
    init_file.write_text(_root_sql(credentials.mysql_root))
    command = [
        server, "--no-defaults", f"--datadir={scratch / 'data'}", f"--socket={scratch / 'mysqld.sock'}",
        f"--pid-file={scratch / 'mysqld.pid'}", f"--port={endpoint.port}", "--bind-address=127.0.0.1",
        "--skip-name-resolve", f"--init-file={init_file}",
    ]
    command += _as_current_user() + ([] if mariadb else ["--skip-log-bin", "--mysqlx=OFF"])
    version = lambda: mysql_version(endpoint, credentials.mysql_root)  # noqa: E731
    executor = ReadyExecutor(command, lambda _: version(), workdir / "mysql.log", timeout=timeout)
    service = ProcessService("mysql", executor, endpoint, version)
    service.scratch = scratch
    return service.start()


def _initialise(server: str, mariadb: bool, datadir: Path, log: Path) -> None:
    if mariadb:
        installer = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        if installer is None:
            raise ServiceError("mariadb-install-db not found beside mariadbd (apt-get install -y mariadb-server)")
        command = [installer, "--no-defaults", f"--datadir={datadir}", "--auth-root-authentication-method=normal",
                   "--skip-test-db"] + _as_current_user()
    else:
        command = [server, "--no-defaults", "--initialize-insecure", f"--datadir={datadir}"] + _as_current_user()
    with log.open("w") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=120)
    if result.returncode != 0:
        raise ServiceError(f"initialising the MySQL data directory failed (exit {result.returncode}), see {log}")


def _as_current_user() -> list[str]:
    # mysqld refuses to run as root unless told so; as another user it runs as that user.
    return ["--user=root"] if os.geteuid() == 0 else []


def _root_sql(password: str) -> str:
    # Clients connect over TCP from 127.0.0.1: root@'127.0.0.1' (made by the installer) matches first.
    quoted = password.replace("'", "''")
    return "".join(
        f"CREATE USER IF NOT EXISTS 'root'@'{host}' IDENTIFIED BY '{quoted}';\n"
        f"ALTER USER 'root'@'{host}' IDENTIFIED BY '{quoted}';\n"
        f"GRANT ALL PRIVILEGES ON *.* TO 'root'@'{host}' WITH GRANT OPTION;\n"
        for host in ("127.0.0.1", "%")
    )

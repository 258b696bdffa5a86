"""What a throwaway service gives the harness, whichever way it was started."""

import socket
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

import pymysql
import redis

PROBE_TIMEOUT_SECONDS = 1.0


class ServiceError(RuntimeError):
    """A throwaway service could not be provided; the message says what to do."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class Service(ABC):
    """A running MySQL or Redis: where it listens, what it is, how long it took to answer."""

    kind: str
    provider: str
    endpoint: Endpoint
    version: str = "?"
    start_seconds: float = 0.0

    @abstractmethod
    def go_down(self) -> None:
        """Stop the server cleanly, keeping its port and data, until `come_back`."""

    @abstractmethod
    def come_back(self) -> None:
        """Start it again after `go_down` and wait until it answers."""

    def restart(self) -> None:
        self.go_down()
        self.come_back()

    @abstractmethod
    def stop(self) -> None:
        """Stop and remove it; safe to call twice."""

    @abstractmethod
    def logs(self) -> str:
        """The server's own log, for failure reports."""

    def describe(self) -> str:
        return f"{self.kind} {self.version} ({self.provider}) at {self.endpoint}, ready in {self.start_seconds:.2f}s"


def free_port() -> int:
    """A loopback port nobody listens on now (fixed per service so that a restart keeps it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts_connections(endpoint: Endpoint) -> bool:
    """Whether a server answers the TCP handshake and the first bytes (docker's proxy accepts alone)."""
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=PROBE_TIMEOUT_SECONDS) as sock:
            sock.settimeout(PROBE_TIMEOUT_SECONDS)
            return bool(sock.recv(1))  # MySQL greets first; a proxy with no server behind closes
    except OSError:
        return False


def redis_version(endpoint: Endpoint, admin_password: str) -> str:
    """Authenticate as admin (the default user is off), PING, and read the server's version."""
    client = redis.Redis(
        host=endpoint.host, port=endpoint.port, username="admin", password=admin_password,
        socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
    )
    with client:
        client.ping()
        return str(client.info("server")["redis_version"])


def mysql_version(endpoint: Endpoint, root_password: str) -> str:
    """Log in as root over TCP and run SELECT VERSION()."""
    connection = pymysql.connect(
        host=endpoint.host, port=endpoint.port, user="root", password=root_password,
        connect_timeout=PROBE_TIMEOUT_SECONDS, read_timeout=PROBE_TIMEOUT_SECONDS,
    )
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        return str(cursor.fetchone()[0])


def mysql_shutdown(endpoint: Endpoint, root_password: str) -> None:
    """Ask the server to stop cleanly (SHUTDOWN works on MySQL 8 and MariaDB)."""
    connection = pymysql.connect(
        host=endpoint.host, port=endpoint.port, user="root", password=root_password, connect_timeout=5
    )
    with connection, connection.cursor() as cursor:
        cursor.execute("SHUTDOWN")


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def seconds(self) -> float:
        return time.monotonic() - self.started

"""Small observations the checks share: a denied Redis command, rows of the example task, the
server's own Celery app for an env."""

import secrets
import socket
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pymysql
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from acceptance.waits import wait_until


def no_retry() -> Retry:
    """Checks want the server's first answer: redis-py would otherwise retry refusals with backoff."""
    return Retry(NoBackoff(), 0)


def denial(client: redis.Redis, *command: str | int) -> str:
    """Run `command`; return Redis's refusal. A command that succeeds fails the check."""
    try:
        reply = client.execute_command(*command)
    except (redis.exceptions.ResponseError, redis.exceptions.AuthenticationError) as exc:
        return str(exc)  # NOPERM is a ResponseError; NOAUTH and WRONGPASS are AuthenticationErrors
    raise AssertionError(f"{' '.join(map(str, command))} as {client.get_connection_kwargs().get('username')}: "
                         f"allowed (reply {reply!r}), expected NOPERM")


def refused_with(message: str) -> str:
    """The class of a refusal: NOPERM (ACL), DISABLED (off for everyone), NOAUTH, WRONGPASS, or the text."""
    lowered = message.lower()
    if "no permissions" in lowered or "noperm" in lowered:
        return "NOPERM"
    if "command not allowed. if the enable-" in lowered:
        return "DISABLED"
    if "authentication required" in lowered:
        return "NOAUTH"
    if "invalid username-password" in lowered or "user is disabled" in lowered:
        return "WRONGPASS"
    return message


def unique_ids(count: int) -> list[int]:
    """Item ids no other run or test uses."""
    base = secrets.randbelow(10**12) * 1000
    return [base + offset for offset in range(count)]


def rows_of(connection: pymysql.Connection, ids: Iterable[int]) -> list[tuple[int, str]]:
    """(item_id, env) of task_runs rows for these ids, in the connection's schema."""
    ids = list(ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT item_id, env FROM task_runs WHERE item_id IN ({','.join(['%s'] * len(ids))})", ids)
        return [(int(item_id), env) for item_id, env in cursor.fetchall()]


def wait_for_rows(connection: pymysql.Connection, ids: Sequence[int], *, what: str, timeout: float) -> list[tuple[int, str]]:
    """Wait until every id has at least one row; return all rows (duplicates included)."""
    expected = set(ids)

    def all_there() -> list[tuple[int, str]] | None:
        rows = rows_of(connection, ids)
        return rows if {item for item, _ in rows} >= expected else None

    return wait_until(all_there, what=what, timeout=timeout)


def worker_name(env: str) -> str:
    """The throwaway stack names its workers <env>@<host> (celery -n)."""
    return f"{env}@{socket.gethostname()}"


@contextmanager
def consumer_paused(app: Any, env: str, queue: str) -> Iterator[None]:
    """The env's worker stops taking tasks from `queue` (remote control, as the env's ACL user)."""
    destination = [worker_name(env)]
    paused = app.control.cancel_consumer(queue, destination=destination, reply=True, timeout=5, limit=1)
    assert paused, f"{destination[0]} did not answer cancel_consumer over remote control"
    try:
        yield
    finally:
        resumed = app.control.add_consumer(queue, destination=destination, reply=True, timeout=5, limit=1)
        assert resumed, f"{destination[0]} did not answer add_consumer"

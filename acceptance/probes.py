"""Small observations the checks share: a denied Redis command, rows of the example task, the
server's own Celery app for an env."""

import json
import secrets
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pymysql
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from acceptance import spec
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


def wait_for_rows(
    connection: pymysql.Connection, ids: Sequence[int], *, what: str, timeout: float
) -> list[tuple[int, str]]:
    """Wait until every id has at least one row; return all rows (duplicates included)."""
    expected = set(ids)

    def all_there() -> list[tuple[int, str]]:
        rows = rows_of(connection, ids)
        missing = sorted(expected - {item for item, _ in rows})
        if not missing:
            return rows
        raise AssertionError(f"{len(missing)} of {len(expected)} ids have no row, e.g. {missing[:5]}")

    return wait_until(all_there, what=what, timeout=timeout)


def smoke_ping(app: Any, client: redis.Redis, env: str, *, timeout: float,
               track: Callable[[str], None] = lambda key: None) -> tuple[str, int]:
    """Have env's worker run app.tasks.smoke_ping; return its evidence key and that key's TTL.
    The key is deleted either way; `track` learns it before the task is sent."""
    token = secrets.token_hex(8)
    key = f"{spec.KEY_PREFIX[env]}smoke:ping:{token}"
    track(key)
    app.send_task("app.tasks.smoke_ping", args=[token])
    try:
        wait_until(lambda: client.exists(key), what=f"{env} worker to write {key}", timeout=timeout)
        return key, client.ttl(key)
    finally:
        client.delete(key)


def queued_task_ids(client: redis.Redis, queue_key: str) -> set[str]:
    """Ids of the tasks waiting in a queue (kombu's JSON envelope: headers.id)."""
    return {json.loads(message)["headers"]["id"] for message in client.lrange(queue_key, 0, -1)}


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


FILL_KEY = "acceptance-fill:{}"
FILL_CHUNK = 1024 * 1024


def fill_redis(admin: redis.Redis) -> int:
    """Write as admin until Redis refuses with OOM: big chunks first, then small ones to the edge.

    Bounded at twice the spec's limit, so that a Redis without the limit is not filled for ever.
    """
    written = 0
    for size in (FILL_CHUNK, 1024):
        try:
            while written < 2 * spec.MAXMEMORY_BYTES:
                pipe = admin.pipeline(transaction=False)
                for _ in range(16):
                    pipe.set(FILL_KEY.format(f"{size}:{written}"), b"x" * size)
                    written += size
                pipe.execute()
        except redis.exceptions.OutOfMemoryError:
            continue
    return written


def free_redis(admin: redis.Redis) -> None:
    keys = list(admin.scan_iter(match=FILL_KEY.format("*"), count=1000))
    for start in range(0, len(keys), 500):
        admin.delete(*keys[start:start + 500])

"""The app's publish path: queue a task by name, with broker failures turned into clear errors."""

from typing import Any

from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.worker import celery_app


class PublishError(RuntimeError):
    """A task could not be queued."""


class BrokerFull(PublishError):
    """Redis refused the write: it is at maxmemory with noeviction (spec 4.2)."""


class BrokerUnavailable(PublishError):
    """Redis could not be reached in time."""


def publish(task_name: str, *args: Any) -> str:
    """Queue `task_name` with `args`; return the task id. Raises PublishError or TaskPayloadTooLarge."""
    try:
        return celery_app.send_task(task_name, args=list(args)).id
    except (ResponseError, KombuOperationalError, RedisConnectionError, RedisTimeoutError) as exc:
        raise _classified(task_name, exc) from exc


def _classified(task_name: str, exc: BaseException) -> PublishError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if _caused_by_oom(exc):
        return BrokerFull(f"task {task_name} not queued: Redis is full (maxmemory, noeviction): {reason}")
    return BrokerUnavailable(f"task {task_name} not queued: broker unavailable: {reason}")


def _caused_by_oom(exc: BaseException | None) -> bool:
    # kombu wraps redis-py's OutOfMemoryError; its text ("... > 'maxmemory'") survives the wrap.
    while exc is not None:
        if isinstance(exc, OutOfMemoryError) or "maxmemory" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False

"""Tasks. Arguments are ids or short tokens only (the publish guard enforces a size limit)."""

import time
from functools import cache

import redis
from celery import Task
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from app.core.db import create_worker_engine
from app.core.redis import KeySpace, create_sync_redis, key_space
from app.models import TaskRun
from app.worker import celery_app, settings

HEARTBEATS_KEPT = 10
SMOKE_EVIDENCE_TTL_SECONDS = 60


# Created on first use, inside the worker's pool process: connections are not shared across fork.
@cache
def _engine() -> Engine:
    return create_worker_engine(settings)


@cache
def _redis() -> redis.Redis:
    return create_sync_redis(settings)


@cache
def _keys() -> KeySpace:
    return key_space(settings)


def heartbeat_ttl_seconds() -> int:
    """Long enough to see a few beats, short enough that a dead beat shows as a missing key."""
    return max(10, int(settings.heartbeat_interval_seconds * 5))


@celery_app.task(
    name="app.tasks.record_item",
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    retry_backoff_max=5,
    retry_jitter=False,
    max_retries=20,
)
def record_item(self: Task, item_id: int) -> None:
    """The example task: write the id it was given, the env and a timestamp to the env's schema."""
    with _engine().begin() as connection:
        connection.execute(
            TaskRun.__table__.insert().values(item_id=item_id, env=settings.app_env, task_id=self.request.id)
        )


@celery_app.task(name="app.tasks.heartbeat")
def heartbeat() -> None:
    """Fired by beat: keep the last beats' times under <prefix>heartbeat, with a TTL."""
    key = _keys().key("heartbeat")
    pipe = _redis().pipeline(transaction=True)
    pipe.lpush(key, f"{time.time():.3f}")
    pipe.ltrim(key, 0, HEARTBEATS_KEPT - 1)
    pipe.expire(key, heartbeat_ttl_seconds())
    pipe.execute()


@celery_app.task(name="app.tasks.smoke_ping")
def smoke_ping(token: str) -> None:
    """For post-deploy smoke checks: leave evidence under <prefix>smoke: that expires by itself."""
    _redis().set(_keys().key("smoke", "ping", token), f"{time.time():.3f}", ex=SMOKE_EVIDENCE_TTL_SECONDS)

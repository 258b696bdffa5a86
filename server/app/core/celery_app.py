"""The Celery app's construction: configuration derived from Settings, and the publish guard."""

from datetime import timedelta
from typing import Any

from celery import Celery
from kombu import Queue

from app.core.config import Settings
from app.core.payload import check_payload

TASK_MODULES = ["app.tasks"]
BROKER_TRANSPORT = "app.core.broker:Transport"


class GuardedCelery(Celery):
    """A Celery app that refuses oversized task payloads before anything reaches the broker."""

    payload_max_bytes: int = 512

    def send_task(self, name: str, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        # apply_async, delay, retry and beat all publish through send_task.
        check_payload(name, args, kwargs, self.payload_max_bytes)
        return super().send_task(name, args, kwargs, **options)


def celery_config(settings: Settings) -> dict[str, Any]:
    prefix = settings.redis_key_prefix
    config: dict[str, Any] = {
        "broker_url": settings.celery_broker_url.get_secret_value(),
        # kombu's Redis transport with a consumer that takes and records a message in one step
        # (app/core/broker.py), on one key per queue (no priority steps) so that it applies.
        "broker_transport": BROKER_TRANSPORT,
        "broker_transport_options": {
            "global_keyprefix": prefix,
            "priority_steps": [0],
            "visibility_timeout": settings.celery_visibility_timeout_seconds,
            # A task a dead worker had taken goes back to its queue visibility_timeout after it was
            # taken, at the next sweep: sweep every interval (kombu's default is about 100 s).
            "unacked_restore_interval": settings.celery_unacked_restore_interval_seconds,
            "unacked_restore_throttle": 1,
        },
        "broker_connection_retry_on_startup": True,
        "task_default_queue": settings.celery_queue,
        "task_queues": (Queue(settings.celery_queue),),
        # Reliable delivery: a task is acknowledged after it ran, and given back if its worker dies.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "beat_schedule": {
            # A heartbeat that waited longer than one interval is stale evidence: it expires unrun.
            "heartbeat": {"task": "app.tasks.heartbeat", "schedule": settings.heartbeat_interval_seconds,
                          "options": {"expires": settings.heartbeat_interval_seconds}},
        },
        "beat_schedule_filename": str(settings.beat_schedule_file),
        "result_backend": None,
        "task_ignore_result": True,
    }
    if settings.celery_result_backend is not None:
        config.update(
            result_backend=settings.celery_result_backend.get_secret_value(),
            result_backend_transport_options={"global_keyprefix": prefix},
            result_expires=timedelta(seconds=settings.celery_result_expires_seconds),
            task_ignore_result=False,
        )
    return config


def create_celery_app(settings: Settings) -> GuardedCelery:
    celery = GuardedCelery("mindfulness", include=TASK_MODULES)
    celery.conf.update(celery_config(settings))
    celery.payload_max_bytes = settings.task_payload_max_bytes
    return celery


from datetime import timedelta
from pathlib import Path

import pytest

from app.core.celery_app import celery_config, create_celery_app
from app.core.config import load_settings
from app.core.payload import TaskPayloadTooLarge
from tests.conftest import env_of


def config_of(tmp_path: Path, app_env: str, **overrides: str) -> dict:
    return celery_config(load_settings(env_of(app_env, **overrides), env_dir=tmp_path))


@pytest.mark.parametrize(("app_env", "prefix"), [("dev", "dev:"), ("prod", "pro:")])
def test_every_broker_key_is_prefixed(tmp_path: Path, app_env: str, prefix: str) -> None:
    config = config_of(tmp_path, app_env)
    assert config["broker_transport_options"]["global_keyprefix"] == prefix
    assert config["task_default_queue"] == "push"  # lives at <prefix>push in Redis


def test_no_result_backend_by_default(tmp_path: Path) -> None:
    config = config_of(tmp_path, "dev")
    assert config["result_backend"] is None
    assert config["task_ignore_result"] is True


def test_result_backend_when_set_is_prefixed_and_expires(tmp_path: Path) -> None:
    backend = "redis://dev_user:s3cr3t-redis@redis.internal:6379/0"
    config = config_of(tmp_path, "dev", CELERY_RESULT_BACKEND=backend, CELERY_RESULT_EXPIRES_SECONDS="600")
    assert config["result_backend_transport_options"]["global_keyprefix"] == "dev:"
    assert config["result_expires"] == timedelta(seconds=600)


def test_heartbeat_expires_after_one_interval(tmp_path: Path) -> None:
    heartbeat = config_of(tmp_path, "dev", HEARTBEAT_INTERVAL_SECONDS="30")["beat_schedule"]["heartbeat"]
    assert heartbeat["schedule"] == 30 and heartbeat["options"]["expires"] == 30


def test_reliable_delivery(tmp_path: Path) -> None:
    config = config_of(tmp_path, "prod", CELERY_VISIBILITY_TIMEOUT_SECONDS="120")
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["broker_transport_options"]["visibility_timeout"] == 120
    assert config["broker_transport_options"]["unacked_restore_interval"] == 10


def test_publish_guard_refuses_before_the_broker(tmp_path: Path) -> None:
    """Assert that an oversized payload is refused without a broker connection (none exists here)."""
    app = create_celery_app(load_settings(env_of("dev", TASK_PAYLOAD_MAX_BYTES="64"), env_dir=tmp_path))
    with pytest.raises(TaskPayloadTooLarge, match="over the 64-byte limit"):
        app.send_task("app.tasks.record_item", args=["x" * 100])

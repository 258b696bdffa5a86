"""Spec 4.3: every key the running stacks write carries its env's prefix (scanned as admin)."""

import secrets

import httpx
import pytest

from acceptance import spec
from acceptance.probes import unique_ids
from acceptance.waits import wait_until

# Keys each stack is known to write under its prefix once it has run: proof there was traffic.
EXPECTED_UNDER_PREFIX = ("_kombu.binding.push", "heartbeat")


@pytest.mark.checklist("7.isolation.queues")
def test_every_key_carries_an_env_prefix(task_deadline, target, redis_admin, server_celery, redis_as,
                                         evidence) -> None:
    """Assert that after real traffic (API, worker, beat, a task) every key in Redis is under dev: or pro:."""
    for env in spec.ENVS:
        app_env = target.envs[env]
        app_env.require("api")
        app_env.require("worker")
        queued = httpx.post(f"{app_env.api_url}/tasks/record-item", json={"item_id": unique_ids(1)[0]}, timeout=5)
        assert queued.status_code == 202, queued.text
        token = secrets.token_hex(8)
        server_celery(env).send_task("app.tasks.smoke_ping", args=[token])
        client = redis_as(app_env.redis_account)
        key = f"{spec.KEY_PREFIX[env]}smoke:ping:{token}"
        wait_until(lambda: client.exists(key), what=f"{env} smoke ping", timeout=task_deadline)
        client.delete(key)
    keys = set(redis_admin.scan_iter(count=1000))
    stray = sorted(key for key in keys if not key.startswith(tuple(spec.KEY_PREFIX.values())))
    assert stray == [], f"keys outside dev:/pro: {stray[:20]}"
    missing = [f"{prefix}{name}" for prefix in spec.KEY_PREFIX.values() for name in EXPECTED_UNDER_PREFIX
               if f"{prefix}{name}" not in keys]
    assert missing == [], f"no traffic seen: {missing} absent"
    counts = {env: sum(key.startswith(spec.KEY_PREFIX[env]) for key in keys) for env in spec.ENVS}
    evidence(f"{len(keys)} keys: dev: {counts['dev']}, pro: {counts['prod']}, elsewhere 0")

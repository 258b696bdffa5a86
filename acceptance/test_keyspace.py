"""Spec 4.3: every key the running stacks write carries its env's prefix (scanned as admin)."""


import httpx
import pytest

from acceptance import spec
from acceptance.probes import smoke_ping, unique_ids

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
        smoke_ping(server_celery(env), redis_as(app_env.redis_account), env, timeout=task_deadline)
    keys = set(redis_admin.scan_iter(count=1000))
    stray = sorted(key for key in keys if not key.startswith(tuple(spec.KEY_PREFIX.values())))
    assert stray == [], f"keys outside dev:/pro: {stray[:20]}"
    missing = [f"{prefix}{name}" for prefix in spec.KEY_PREFIX.values() for name in EXPECTED_UNDER_PREFIX
               if f"{prefix}{name}" not in keys]
    assert missing == [], f"no traffic seen: {missing} absent"
    counts = {env: sum(key.startswith(spec.KEY_PREFIX[env]) for key in keys) for env in spec.ENVS}
    evidence(f"{len(keys)} keys: dev: {counts['dev']}, pro: {counts['prod']}, elsewhere 0")

"""Spec 4.3 / 7: the worker consumes its env's tasks only; payloads stay small; results do not pile up."""

import secrets

import pytest

from acceptance import spec
from acceptance.probes import (
    consumer_paused, queued_task_ids, rows_of, smoke_ping, unique_ids, wait_for_rows, worker_name,
)
from acceptance.waits import wait_until

RECORD_ITEM = "app.tasks.record_item"


@pytest.mark.checklist("7.run.worker")
@pytest.mark.parametrize("env", spec.ENVS)
def test_worker_consumes_example_task(task_deadline, target, mysql_as, evidence, env: str) -> None:
    """Assert that a task queued through the API's publish path is run by the worker: its row lands."""
    import httpx

    app_env = target.envs[env]
    app_env.require("api")
    app_env.require("worker")
    [item_id] = unique_ids(1)
    response = httpx.post(f"{app_env.api_url}/tasks/record-item", json={"item_id": item_id}, timeout=5)
    assert response.status_code == 202, response.text
    rows = wait_for_rows(mysql_as(app_env.db_account, spec.SCHEMA[env]), [item_id],
                         what=f"{env} worker to record item {item_id}", timeout=task_deadline)
    assert rows == [(item_id, env)]
    evidence(f"POST /tasks/record-item {item_id} -> 202 -> row in {spec.SCHEMA[env]} (env={env})")


@pytest.mark.checklist("7.run.worker")
@pytest.mark.nondestructive
@pytest.mark.parametrize("env", spec.ENVS)
def test_worker_answers_smoke_ping(task_deadline, target, server_celery, redis_as, evidence, residue,
                                   env: str) -> None:
    """Assert that the deployed worker runs a task: the smoke ping leaves evidence that expires by itself."""
    account = target.envs[env].redis_account
    target.envs[env].require("worker")
    key, ttl = smoke_ping(server_celery(env), redis_as(account), env, timeout=task_deadline,
                          track=lambda key: residue.append(("redis", account, key)))
    assert 0 < ttl <= 60, f"{key} TTL {ttl}"
    evidence(f"smoke_ping -> {key} (TTL {ttl}s), deleted")


@pytest.mark.checklist("7.isolation.queues")
@pytest.mark.parametrize("env", spec.ENVS)
def test_task_waits_in_env_queue_and_only_env_worker_takes_it(task_deadline, target, server_celery, redis_as,
                                                              mysql_as, evidence, env: str) -> None:
    """Assert that a task waits at <prefix>push (spec 4.3: dev:push / pro:push) and only env's worker runs it.

    Both envs' workers run at once on the one Redis: the other env's worker must never take it.
    """
    target.envs[env].require("worker")
    app = server_celery(env)
    queue_key, queue = spec.QUEUE_KEY[env], app.conf.task_default_queue
    client = redis_as(target.envs[env].redis_account)
    with consumer_paused(app, env, queue):
        _wait_until_queue_holds(app, client, queue_key)
        [item_id] = unique_ids(1)
        task_id = app.send_task(RECORD_ITEM, args=[item_id]).id
        waiting = queued_task_ids(client, queue_key)
    assert task_id in waiting, f"task {task_id} not in {queue_key} while the {env} worker was paused ({waiting})"
    rows = wait_for_rows(mysql_as(target.envs[env].db_account, spec.SCHEMA[env]), [item_id],
                         what=f"{env} worker to record item {item_id}", timeout=task_deadline)
    other = spec.other_env(env)
    assert rows == [(item_id, env)]
    assert rows_of(mysql_as(target.envs[other].db_account, spec.SCHEMA[other]), [item_id]) == []
    evidence(f"task waited in {queue_key} while {worker_name(env)} was paused; ran by it only "
             f"({spec.SCHEMA[other]}: no row)")


def _wait_until_queue_holds(app, client, queue_key: str) -> None:  # noqa: ANN001
    """A paused worker may still have one BRPOP in flight (kombu polls for 1 s): push smoke pings
    until one stays in the queue, so that the next task is sure to wait there."""

    def sentinel_stays() -> bool:
        app.send_task("app.tasks.smoke_ping", args=["queue-pause-sentinel"])
        return client.llen(queue_key) > 0

    wait_until(sentinel_stays, what=f"a message to stay in {queue_key}", timeout=5, interval=0.2)


@pytest.mark.checklist("4.3.payload")
@pytest.mark.nondestructive
@pytest.mark.parametrize("env", spec.ENVS)
def test_oversized_payload_is_refused_and_nothing_queued(target, server_celery, redis_as, evidence, residue,
                                                         env: str) -> None:
    """Assert that a task carrying long text fails fast with a clear error and queues nothing (spec 4.3, 8)."""
    from app.core.payload import TaskPayloadTooLarge

    queue = "smoke-payload-guard"
    queue_key = f"{spec.KEY_PREFIX[env]}{queue}"
    client = redis_as(target.envs[env].redis_account)
    for key in (queue_key, f"{spec.KEY_PREFIX[env]}_kombu.binding.{queue}"):
        residue.append(("redis", target.envs[env].redis_account, key))
    try:
        with pytest.raises(TaskPayloadTooLarge) as refused:
            server_celery(env).send_task(RECORD_ITEM, args=["x" * 10_000], queue=queue)
        queued = client.llen(queue_key)
    finally:
        client.delete(queue_key, f"{spec.KEY_PREFIX[env]}_kombu.binding.{queue}")
    assert "byte limit" in str(refused.value) and "10" in str(refused.value)
    assert queued == 0
    evidence(f"{refused.value}; LLEN {queue_key} = 0")


@pytest.mark.checklist("7.resources.results")
@pytest.mark.nondestructive
def test_no_result_keys_after_real_tasks(task_deadline, target, redis_admin, server_celery, redis_as,
                                         evidence) -> None:
    """Assert that, with no result backend (spec 2.2), real tasks leave no celery-task-meta-* key."""
    for env in target.envs:  # real tasks first, so that a result backend would have written something
        target.envs[env].require("worker")
        smoke_ping(server_celery(env), redis_as(target.envs[env].redis_account), env, timeout=task_deadline)
    results = list(redis_admin.scan_iter(match=f"*{spec.RESULT_KEY_PATTERN}", count=1000))
    assert results == []
    evidence(f"SCAN *{spec.RESULT_KEY_PATTERN} after tasks in both envs: none")


@pytest.mark.checklist("7.resources.results")
def test_result_backend_when_enabled_keeps_results_at_most_a_day(task_deadline, target, launch, server_celery,
                                                                 redis_as, evidence) -> None:
    """Assert that with CELERY_RESULT_BACKEND set, each result key is prefixed and has a TTL <= 1 day."""
    env = "dev"
    overrides = {"CELERY_RESULT_BACKEND": target.envs[env].environ["REDIS_URL"], "CELERY_QUEUE": "acceptance-results"}
    [worker] = launch((env, "worker", overrides))
    worker.require()
    task = server_celery(env, **overrides).send_task("app.tasks.smoke_ping", args=[secrets.token_hex(8)])
    key = f"{spec.KEY_PREFIX[env]}celery-task-meta-{task.id}"
    client = redis_as(target.envs[env].redis_account)
    wait_until(lambda: client.exists(key), what=f"result key {key}", timeout=task_deadline)
    ttl = client.ttl(key)
    assert 0 < ttl <= spec.RESULT_TTL_MAX_SECONDS, f"{key}: TTL {ttl} (-1 means no expiry)"
    evidence(f"{key} TTL {ttl}s (<= {spec.RESULT_TTL_MAX_SECONDS})")

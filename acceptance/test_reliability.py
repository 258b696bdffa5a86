"""Spec 2.2 / 4.2 / 8 "no lost task": the faults the stack must survive, on throwaway services only.

Each check reports its figures (sent, done, lost, duplicated, recovery seconds) as evidence.
Delivery is at least once (late acks): duplicates are counted, losses fail the check.
"""

import os
import secrets
import signal
import time
from collections import Counter

import httpx
import pytest

from acceptance import spec
from acceptance.probes import (
    consumer_paused, fill_redis, free_redis, queued_task_ids, rows_of, unique_ids, wait_for_rows, worker_name,
)
from acceptance.waits import WaitTimeout, wait_until

pytestmark = [pytest.mark.checklist("8.reliability"), pytest.mark.slow]

RECORD_ITEM = "app.tasks.record_item"
BATCH = 200
RECOVERY_DEADLINE_SECONDS = 20  # visibility timeout 5 s + sweep 1 s + reconnects, with room
FILL_ATTEMPTS = 5  # fills before a POST that must find Redis full
CONSUMER_WAITS = ("brpop", "blmove")  # kombu's wait, and the server's (app/core/broker.py)
KEY_TTL_SECONDS = 120  # the probe keys expire even if the check dies before it deletes them


def _figures(ids: list[int], rows: list[tuple[int, str]]) -> tuple[int, int, int]:
    """(done, lost, duplicated) for the ids sent."""
    runs = Counter(item_id for item_id, _ in rows)
    return len(runs), len(set(ids) - set(runs)), sum(count - 1 for count in runs.values())


def _rows_after_recovery(db, ids: list[int], what: str) -> list[tuple[int, str]]:  # noqa: ANN001
    """All rows once every id is done, or what there is when the recovery deadline passes."""
    try:
        return wait_for_rows(db, ids, what=what, timeout=RECOVERY_DEADLINE_SECONDS)
    except WaitTimeout:
        return rows_of(db, ids)


def _ready(api_url: str) -> bool:
    return httpx.get(f"{api_url}/readyz", timeout=2).status_code == 200


def test_worker_killed_mid_batch_loses_no_task(target, server_celery, mysql_as, evidence, task_deadline) -> None:
    """Assert that after a SIGKILL of the worker in the middle of a batch, every task completes once the
    worker is back (tasks it had taken return after the visibility timeout)."""
    env = "prod"
    worker = target.envs[env].stack.process("worker")
    db = mysql_as(target.envs[env].db_account, spec.SCHEMA[env])
    ids = unique_ids(BATCH)
    app = server_celery(env)
    for item_id in ids:
        app.send_task(RECORD_ITEM, args=[item_id])
    wait_until(lambda: len(rows_of(db, ids)) >= BATCH // 10, what="a tenth of the batch done", timeout=task_deadline)
    worker.crash()
    killed = time.monotonic()
    done_at_kill = _figures(ids, rows_of(db, ids))[0]
    assert done_at_kill < BATCH, "the batch finished before the kill: nothing was tested"
    worker.start()
    worker.require()
    rows = _rows_after_recovery(db, ids, f"all {BATCH} tasks after the kill")
    recovery = time.monotonic() - killed
    done, lost, duplicated = _figures(ids, rows)
    figures = (f"sent {BATCH}, killed at {done_at_kill} done, done {done}, lost {lost}, duplicated {duplicated}, "
               f"recovered in {recovery:.1f}s")
    evidence(figures)
    assert lost == 0, f"tasks lost: {figures}"


def _consumer_blocked(admin, user: str) -> bool:  # noqa: ANN001
    """Whether a connection of this user is blocked in a queue wait (the worker's consumer, when idle)."""
    return any(client["user"] == user and client["cmd"] in CONSUMER_WAITS and "b" in client["flags"]
               for client in admin.client_list())


def test_worker_killed_while_its_broker_answers_loses_no_task(target, server_celery, redis_admin, mysql_as,
                                                              evidence) -> None:
    """Assert that a task published while the worker's consumer waits, delivered to a worker that dies
    before it reads the answer, still runs once a worker is back.

    Deterministic form of the kill window: the worker is frozen (SIGSTOP) with its consumer blocked on the
    queue, the task is published (Redis answers the blocked consumer at once), then the worker is killed.
    A consumer that takes messages with BRPOP has taken it into a dead socket, recorded nowhere.
    """
    env = "prod"
    app_env = target.envs[env]
    worker = app_env.stack.process("worker")
    db = mysql_as(app_env.db_account, spec.SCHEMA[env])
    group = worker.executor.process.pid
    wait_until(lambda: _consumer_blocked(redis_admin, app_env.redis_account.user), what=f"{env} worker idle",
               timeout=RECOVERY_DEADLINE_SECONDS)
    os.killpg(group, signal.SIGSTOP)
    try:
        assert _consumer_blocked(redis_admin, app_env.redis_account.user), "the frozen worker was not waiting"
        [item_id] = unique_ids(1)
        server_celery(env).send_task(RECORD_ITEM, args=[item_id])
        time.sleep(0.2)  # Redis answers the blocked consumer as it takes the publish
        queued = redis_admin.llen(spec.QUEUE_KEY[env])
    finally:
        worker.crash()  # SIGKILL reaches a stopped process group too
    killed = time.monotonic()
    worker.start()
    worker.require()
    rows = _rows_after_recovery(db, [item_id], "the task published to the frozen worker")
    done, lost, duplicated = _figures([item_id], rows)
    evidence(f"worker frozen while waiting, 1 task published ({spec.QUEUE_KEY[env]} then held {queued}), "
             f"worker killed: done {done}, lost {lost}, duplicated {duplicated}, in "
             f"{time.monotonic() - killed:.1f}s")
    assert lost == 0, (f"the task was lost: the frozen worker's consumer took it from {spec.QUEUE_KEY[env]} "
                       f"(left {queued}) before recording it as unacknowledged")


def test_publish_at_maxmemory_answers_503_and_loses_nothing(target, redis_admin, server_celery, mysql_as, evidence,
                                                            request) -> None:
    """Assert that at maxmemory the API's publish path answers 503 naming the full Redis (not a 500 trace),
    and that once memory is freed publishing works and no earlier task was lost."""
    env = "dev"
    app_env, app = target.envs[env], server_celery(env)
    app_env.require("api")
    db = mysql_as(app_env.db_account, spec.SCHEMA[env])
    before, [after_id] = unique_ids(10), unique_ids(1)
    request.addfinalizer(lambda: free_redis(redis_admin))
    with consumer_paused(app, env, "push"):
        for item_id in before:
            app.send_task(RECORD_ITEM, args=[item_id])
        full, accepted, refused_id = _post_at_maxmemory(redis_admin, app_env.api_url)
        free_redis(redis_admin)
        freed = httpx.post(f"{app_env.api_url}/tasks/record-item", json={"item_id": after_id}, timeout=10)
    assert full.status_code == 503 and "Redis is full" in full.json()["detail"], full.text
    assert freed.status_code == 202, freed.text
    sent = [*before, *accepted, after_id]
    rows = wait_for_rows(db, sent, what="tasks queued before the fill and after the free",
                         timeout=RECOVERY_DEADLINE_SECONDS)
    done, lost, duplicated = _figures(sent, rows)
    assert lost == 0 and rows_of(db, [refused_id]) == []
    evidence(f"full: POST -> 503 \"{full.json()['detail'][:60]}...\" (fills: {len(accepted) + 1}); freed: 202; "
             f"sent {len(sent)}, done {done}, lost {lost}, duplicated {duplicated}")


def _post_at_maxmemory(admin, api_url: str) -> tuple[httpx.Response, list[int], int]:  # noqa: ANN001
    """POST a task right after filling Redis to maxmemory; the answer, the ids accepted on the way, the last id.

    Redis refuses writes only while its memory is over the limit, and frees a little on its own (keys
    expiring, client buffers shrinking): a POST that found room was accepted, and is sent like any other.
    """
    accepted: list[int] = []
    for item_id in unique_ids(FILL_ATTEMPTS):
        fill_redis(admin)
        response = httpx.post(f"{api_url}/tasks/record-item", json={"item_id": item_id}, timeout=10)
        if response.status_code != 202:
            break
        accepted.append(item_id)
    return response, accepted, item_id


def test_mysql_outage_is_survived_without_restarts(target, mysql_as, evidence) -> None:
    """Assert that while MySQL is down /readyz answers 503 naming it, a task that hits the outage is retried
    and completes, and /readyz turns 200 again without a restart of the API."""
    env = "dev"
    app_env = target.envs[env]
    app_env.require("api")
    worker_log = app_env.stack.process("worker").executor
    [item_id] = unique_ids(1)
    target.services.mysql.go_down()
    try:
        down = httpx.get(f"{app_env.api_url}/readyz", timeout=10)
        queued = httpx.post(f"{app_env.api_url}/tasks/record-item", json={"item_id": item_id}, timeout=10)
        task_id = queued.json().get("task_id", "?")
        wait_until(lambda: f"[{task_id}] retry" in worker_log.log_since_start(), what=f"task {task_id} to retry",
                   timeout=RECOVERY_DEADLINE_SECONDS)
    finally:
        target.services.mysql.come_back()
    back = time.monotonic()
    wait_until(lambda: _ready(app_env.api_url), what="/readyz 200 after MySQL came back",
               timeout=RECOVERY_DEADLINE_SECONDS)
    ready_after = time.monotonic() - back
    rows = wait_for_rows(mysql_as(app_env.db_account, spec.SCHEMA[env]), [item_id],
                         what="the retried task to complete", timeout=RECOVERY_DEADLINE_SECONDS)
    done_after = time.monotonic() - back
    retries = worker_log.log_since_start().count(f"[{task_id}] retry")
    assert (down.status_code, down.json().get("failed")) == (503, ["mysql"]), down.text
    assert queued.status_code == 202, queued.text
    done, lost, duplicated = _figures([item_id], rows)
    evidence(f"MySQL down: /readyz 503 {down.json()['failed']}; task retried {retries}x; /readyz 200 "
             f"{ready_after:.1f}s and task done {done_after:.1f}s after MySQL came back; lost {lost}, "
             f"duplicated {duplicated}")


def _restart_redis(target, server_celery) -> tuple[float, float, float]:  # noqa: ANN001
    """Restart Redis and wait until the APIs and workers that run are back by themselves; the moment Redis
    was back (monotonic), and the seconds the APIs and the workers took after it."""
    target.services.redis.restart()
    restarted = time.monotonic()
    running = {env: app_env.stack.processes for env, app_env in target.envs.items()}
    api_urls = [target.envs[env].api_url for env, roles in running.items() if "api" in roles]
    wait_until(lambda: all(_ready(url) for url in api_urls), what="the APIs' /readyz after the Redis restart",
               timeout=RECOVERY_DEADLINE_SECONDS)
    api_back = time.monotonic() - restarted
    for env in (env for env, roles in running.items() if "worker" in roles):
        app, worker = server_celery(env), [worker_name(env)]
        wait_until(lambda: app.control.ping(destination=worker, timeout=1, limit=1),  # noqa: B023
                   what=f"{worker[0]} to answer after the Redis restart", timeout=RECOVERY_DEADLINE_SECONDS)
    return restarted, api_back, time.monotonic() - restarted


# The Redis restarts come last of the fault checks: they leave every client with connections to renew.
def test_redis_restart_keeps_transactions(target, server_celery, redis_as, evidence) -> None:
    """Assert that what an app user wrote inside MULTI/EXEC survives a Redis restart, as plain writes do.

    The broker's own bookkeeping (unacked messages, requeues) is written in transactions. Redis replays
    the append-only file as the default user and re-checks each transaction at EXEC, so a default user
    without permissions makes the replay drop every transaction, silently (redis/redis#14541).
    """
    env = "prod"
    account = target.envs[env].redis_account
    key = f"{spec.KEY_PREFIX[env]}acceptance:restart:{secrets.token_hex(4)}"
    plain, transactional = f"{key}:plain", f"{key}:multi"
    client = redis_as(account)
    try:
        client.rpush(plain, "kept")
        client.expire(plain, KEY_TTL_SECONDS)
        with client.pipeline(transaction=True) as transaction:
            transaction.rpush(transactional, "kept").expire(transactional, KEY_TTL_SECONDS).execute()
        _restart_redis(target, server_celery)
        client = redis_as(account)
        kept = {name: client.lrange(name, 0, -1) == ["kept"] for name in (plain, transactional)}
    finally:
        client.delete(plain, transactional)
    evidence(f"after the restart: plain write {'kept' if kept[plain] else 'LOST'}, MULTI/EXEC write "
             f"{'kept' if kept[transactional] else 'LOST'}")
    assert kept[plain], "a plain write did not survive the Redis restart: is appendonly on?"
    assert kept[transactional], ("a MULTI/EXEC write did not survive the Redis restart while a plain one did: the "
                                 "append-only file is replayed as the default user, whose ACL must allow what "
                                 "was written (infra/redis/users.acl; Redis logs 'NOPERM ... EXEC' at load)")


def test_redis_restart_loses_no_queued_task(target, server_celery, redis_as, mysql_as, evidence) -> None:
    """Assert that worker and API recover by themselves from a Redis restart, and that tasks queued before
    it survive: the configured persistence (appendonly, fsync every second) loses nothing on a clean restart."""
    env = "prod"
    app_env, app = target.envs[env], server_celery(env)
    db = mysql_as(app_env.db_account, spec.SCHEMA[env])
    before, after = unique_ids(20), unique_ids(20)
    worker = [worker_name(env)]
    assert app.control.cancel_consumer("push", destination=worker, reply=True, timeout=5, limit=1)
    task_ids = {app.send_task(RECORD_ITEM, args=[item_id]).id for item_id in before}
    # All of them in Redis first: a message the paused worker's last BRPOP took is requeued by the worker
    # a moment later, and a restart in that moment would test the worker's memory, not Redis's persistence.
    client = redis_as(app_env.redis_account)
    wait_until(lambda: task_ids <= queued_task_ids(client, spec.QUEUE_KEY[env]),
               what=f"the {len(before)} tasks to be in {spec.QUEUE_KEY[env]}", timeout=10)
    # With the tasks queued: the worker is paused. Every figure counts from the moment Redis was back.
    restarted, api_back, worker_back = _restart_redis(target, server_celery)
    # A reconnected worker consumes its configured queues again, the cancel forgotten. Adding a consumer
    # it already has would restart its BRPOP and drop the message in flight (seen with kombu 5.7).
    active = app.control.inspect(destination=worker, timeout=2).active_queues() or {}
    if "push" not in {queue["name"] for queues in active.values() for queue in queues}:
        app.control.add_consumer("push", destination=worker, reply=True, timeout=5, limit=1)
    for item_id in after:
        app.send_task(RECORD_ITEM, args=[item_id])
    rows = _rows_after_recovery(db, before + after, "tasks sent before and after the Redis restart")
    all_done = time.monotonic() - restarted
    done, lost, duplicated = _figures(before + after, rows)
    figures = (f"sent {len(before)} before + {len(after)} after the restart, done {done}, lost {lost}, "
               f"duplicated {duplicated}; APIs ready {api_back:.1f}s, workers {worker_back:.1f}s, settled "
               f"{all_done:.1f}s after the restart")
    evidence(figures)
    assert lost == 0, f"tasks lost: {figures}"

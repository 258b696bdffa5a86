"""Spec 4.2 / 7: maxmemory 256mb with noeviction, in effect: a full Redis refuses writes, loses no task."""

import pytest
import redis

from acceptance import spec
from acceptance.probes import consumer_paused, fill_redis, free_redis, unique_ids, wait_for_rows

QUEUED_BEFORE_FULL = 20


@pytest.mark.checklist("7.resources.maxmemory")
@pytest.mark.nondestructive
def test_maxmemory_and_policy_in_effect(target, redis_as, evidence) -> None:
    """Assert that Redis runs with maxmemory 268435456 (256mb) and maxmemory-policy noeviction (spec 4.2)."""
    probe = redis_as(target.redis_probe)
    config = {**probe.config_get("maxmemory"), **probe.config_get("maxmemory-policy")}
    info = probe.info("memory")
    assert config == {"maxmemory": str(spec.MAXMEMORY_BYTES), "maxmemory-policy": spec.MAXMEMORY_POLICY}
    assert (info["maxmemory"], info["maxmemory_policy"]) == (spec.MAXMEMORY_BYTES, spec.MAXMEMORY_POLICY)
    evidence(f"CONFIG GET / INFO as {target.redis_probe.user}: maxmemory {info['maxmemory']}, "
             f"{info['maxmemory_policy']}; used {info['used_memory_human']}")


@pytest.mark.checklist("7.resources.maxmemory")
def test_full_redis_refuses_writes_and_keeps_queued_tasks(target, redis_admin, server_celery, redis_as, mysql_as,
                                                          evidence, request) -> None:
    """Assert that at maxmemory writes fail with OOM, queued tasks are not evicted, and all run once freed."""
    env = "prod"
    target.envs[env].require("worker")
    app, queue_key = server_celery(env), spec.QUEUE_KEY[env]
    request.addfinalizer(lambda: free_redis(redis_admin))
    ids = unique_ids(QUEUED_BEFORE_FULL)
    with consumer_paused(app, env, "push"):
        for item_id in ids:
            app.send_task("app.tasks.record_item", args=[item_id])
        queued = redis_admin.llen(queue_key)
        written = fill_redis(redis_admin)
        memory = redis_admin.info("memory")
        with pytest.raises(redis.exceptions.OutOfMemoryError) as oom:
            redis_as(target.envs[env].redis_account).set(f"{spec.KEY_PREFIX[env]}acceptance:one-more", "x")
        with pytest.raises(Exception, match="maxmemory") as refused:
            app.send_task("app.tasks.record_item", args=[unique_ids(1)[0]])
        still_queued = redis_admin.llen(queue_key)
        free_redis(redis_admin)
    assert still_queued >= queued >= QUEUED_BEFORE_FULL, f"{queue_key}: {queued} before full, {still_queued} after"
    rows = wait_for_rows(mysql_as(target.envs[env].db_account, spec.SCHEMA[env]), ids,
                         what=f"all {len(ids)} tasks queued before the fill to run", timeout=30)
    done = len({item_id for item_id, _ in rows})
    assert done == len(ids)
    evidence(f"filled {written // 2**20} MiB to {memory['used_memory_human']} of {memory['maxmemory_human']}: "
             f"SET -> {type(oom.value).__name__}, publish -> {type(refused.value).__name__}; {queued} queued kept; "
             f"sent {len(ids)} = done {done} after free")

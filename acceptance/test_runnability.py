"""Spec 7: FastAPI starts and serves; beat fires; remote control works under the least-privilege users."""

import statistics
import subprocess
import sys
import time

import httpx
import pytest

from acceptance import spec
from acceptance.services.base import free_port
from acceptance.waits import wait_until

HTTP_TIMEOUT_SECONDS = 5


@pytest.mark.checklist("7.run.api")
@pytest.mark.nondestructive
@pytest.mark.parametrize("env", spec.ENVS)
def test_api_is_live_and_ready(target, evidence, env: str) -> None:
    """Assert that the env's API answers /healthz 200 and /readyz 200 with MySQL and Redis ok."""
    target.envs[env].require("api")
    api = target.envs[env].api_url
    health = httpx.get(f"{api}/healthz", timeout=HTTP_TIMEOUT_SECONDS)
    ready = httpx.get(f"{api}/readyz", timeout=HTTP_TIMEOUT_SECONDS)
    assert (health.status_code, health.json().get("env")) == (200, env), health.text
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"mysql": "ok", "redis": "ok"}
    evidence(f"/healthz 200, /readyz 200 {ready.json()['checks']}")


@pytest.mark.checklist("7.run.api")
def test_readyz_names_the_unreachable_dependency(target, launch, evidence) -> None:
    """Assert that /readyz answers 503 naming MySQL or Redis when that one cannot be reached."""
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    environ = target.envs["dev"].environ
    broken = {
        "mysql": {"DATABASE_URL": environ["DATABASE_URL"].replace(f"@{target.mysql}", f"@{closed}")},
        "redis": {"REDIS_URL": environ["REDIS_URL"].replace(f"@{target.redis}", f"@{closed}")},
    }
    apis = dict(zip(broken, launch(*(("dev", "api", overrides) for overrides in broken.values())), strict=True))
    answers = {}
    for dependency, api in apis.items():
        response = httpx.get(f"{api.require().url}/readyz", timeout=HTTP_TIMEOUT_SECONDS)
        answers[dependency] = (response.status_code, response.json().get("failed"))
    assert answers == {"mysql": (503, ["mysql"]), "redis": (503, ["redis"])}
    evidence(f"/readyz with MySQL down -> {answers['mysql']}, with Redis down -> {answers['redis']}")


def _heartbeats(client, key: str, at_least: int = 1) -> list[float] | None:  # noqa: ANN001
    """The kept beats, oldest first; None while there are fewer than `at_least`."""
    beats = sorted(float(stamp) for stamp in client.lrange(key, 0, -1))
    return beats if len(beats) >= at_least else None


def _interval(environ: dict[str, str]) -> float:
    return float(environ.get("HEARTBEAT_INTERVAL_SECONDS", "60"))


@pytest.mark.checklist("7.run.beat")
@pytest.mark.nondestructive
@pytest.mark.parametrize("env", spec.ENVS)
def test_beat_fires_heartbeat_at_its_interval(target, redis_as, evidence, env: str) -> None:
    """Assert that beat fires the heartbeat and the worker runs it: beats at the configured spacing.

    The median spacing of the kept beats is compared: a worker that was paused runs the beats that
    waited in the queue in a burst, which says nothing about beat.
    """
    interval = _interval(target.envs[env].environ)
    key = f"{spec.KEY_PREFIX[env]}heartbeat"
    client = redis_as(target.envs[env].redis_account)
    beats = wait_until(lambda: _heartbeats(client, key, at_least=2), what=f"two heartbeats in {key}",
                       timeout=2 * interval + 2)
    spacing = statistics.median(later - earlier for earlier, later in zip(beats, beats[1:], strict=False))
    assert 0.5 * interval <= spacing <= 1.5 * interval, f"beats {spacing:.2f}s apart, interval {interval:g}s"
    ttl = client.ttl(key)
    assert ttl > 0, f"{key} has no TTL ({ttl})"
    evidence(f"{len(beats)} beats in {key}, median {spacing:.2f}s apart (interval {interval:g}s), TTL {ttl}s")


@pytest.mark.checklist("7.run.beat")
@pytest.mark.nondestructive
@pytest.mark.parametrize("env", spec.ENVS)
def test_heartbeat_is_fresh(target, redis_as, evidence, env: str) -> None:
    """Assert that the newest heartbeat is younger than two intervals: beat and worker are alive."""
    interval = _interval(target.envs[env].environ)
    key = f"{spec.KEY_PREFIX[env]}heartbeat"
    client = redis_as(target.envs[env].redis_account)
    beats = wait_until(lambda: _heartbeats(client, key), what=f"a heartbeat in {key}", timeout=2 * interval + 2)
    age = time.time() - beats[-1]
    assert age <= 2 * interval + 1, f"newest heartbeat in {key} is {age:.1f}s old (interval {interval:g}s)"
    evidence(f"newest heartbeat {age:.1f}s old (interval {interval:g}s)")


@pytest.mark.checklist("7.run.worker")
@pytest.mark.nondestructive
def test_celery_inspect_ping_answers(target, request, evidence) -> None:
    """Assert that `celery inspect ping` gets its env's worker's pong under the least-privilege ACL user."""
    server_dir = request.config.acceptance.server_dir
    for app_env in target.envs.values():
        app_env.require("worker")
    commands = {env: subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app.worker", "inspect", "ping", "--timeout", "1",
         *(["-d", ",".join(app_env.worker_names)] if app_env.worker_names else [])],
        cwd=server_dir, env=app_env.environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) for env, app_env in target.envs.items()}
    replies = {env: command.communicate(timeout=30)[0] for env, command in commands.items()}
    for env, output in replies.items():
        assert commands[env].returncode == 0 and "pong" in output, f"{env}: exit {commands[env].returncode}\n{output}"
        assert f"{spec.other_env(env)}@" not in output, f"{env} reached the other env's worker:\n{output}"
    evidence("; ".join(f"{env}: {output.strip().splitlines()[-1]}" for env, output in replies.items()))

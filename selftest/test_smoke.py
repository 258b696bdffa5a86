"""`--target=prod-smoke` against a deployed stack: green when healthy, red naming what broke."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from acceptance.waits import wait_until
from selftest.child import ChildRun, run_child
from selftest.deployment import Deployment, deployed

SMOKE = ["--target=prod-smoke"]
HEALTHY_WALL_LIMIT_SECONDS = 30  # the goal is 10 s (bench figures in the README); this bound means "never hangs"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployed(tmp_path_factory.mktemp("deployment")) as deployment:
        yield deployment


def smoke(deployment: Deployment, tmp_path: Path, *extra: str) -> ChildRun:
    return run_child([*SMOKE, f"--env-dir={deployment.env_dir}", *extra], tmp_path, env=deployment.child_env())


def assert_only(run: ChildRun, expected: dict[str, str], may_fail: tuple[str, ...] = ()) -> None:
    failed = run.failed()
    for check, words in expected.items():
        assert check in failed, f"{check} did not fail\n{run.summary()}"
        assert words in failed[check], f"{check} failed without {words!r}: {failed[check][:1500]}"
    assert set(failed) - set(expected) - set(may_fail) == set(), run.summary()


def test_smoke_passes_against_a_healthy_deploy(deployment, tmp_path, request) -> None:
    """Assert that a smoke run against healthy hosts passes, runs only non-destructive acceptance checks,
    names the hosts in its header, and finishes well within its deadline."""
    run = smoke(deployment, tmp_path)
    request.node.user_properties.append(("smoke_wall_seconds", f"{run.wall_seconds:.2f}"))
    assert run.returncode == 0, run.summary()
    assert "About to touch:" in run.output and deployment.stacks["prod"].api_url in run.output
    assert run.modules and all(module.startswith("acceptance.") for module in run.modules), run.modules
    assert "test_tasks::test_worker_answers_smoke_ping[prod]" in run.passed()
    assert "test_residue::test_run_left_nothing_behind" in run.passed()
    skipped = {name for name, outcome in run.outcomes.items() if outcome.result == "skipped"}
    assert "test_tasks::test_worker_consumes_example_task[prod]" in skipped  # destructive
    assert run.wall_seconds < HEALTHY_WALL_LIMIT_SECONDS, f"smoke run took {run.wall_seconds:.1f}s"


def test_smoke_names_a_stopped_beat(deployment, tmp_path) -> None:
    """Assert that with prod's beat stopped the heartbeat freshness check fails, and little else."""
    beat = deployment.stacks["prod"].processes["beat"].executor
    admin = deployment.admin()
    beat.stop_quietly()
    try:
        stale = lambda: time.time() - max(map(float, admin.lrange("pro:heartbeat", 0, -1) or ["0"])) > 3  # noqa: E731
        wait_until(stale, what="prod's heartbeat to go stale", timeout=15)
        run = smoke(deployment, tmp_path)
    finally:
        beat.start()
        admin.close()
    assert_only(run, {"test_runnability::test_heartbeat_is_fresh[prod]": "old"},
                may_fail=("test_runnability::test_beat_fires_heartbeat_at_its_interval[prod]",))


def test_smoke_names_a_stopped_worker(deployment, tmp_path) -> None:
    """Assert that with prod's worker stopped the smoke ping fails, naming what it waited for."""
    worker = deployment.stacks["prod"].processes["worker"].executor
    worker.stop_quietly()
    try:
        run = smoke(deployment, tmp_path, "--task-deadline=3")
    finally:
        worker.start()
    assert_only(run, {"test_tasks::test_worker_answers_smoke_ping[prod]": "waiting for prod worker"},
                may_fail=("test_runnability::test_celery_inspect_ping_answers",
                          "test_runnability::test_heartbeat_is_fresh[prod]",
                          "test_runnability::test_beat_fires_heartbeat_at_its_interval[prod]"))


def test_smoke_names_dev_user_reaching_all_keys(deployment, tmp_path) -> None:
    """Assert that giving dev_user `~*` on the live Redis turns the dev isolation checks red, leaving nothing."""
    admin = deployment.admin()
    admin.execute_command("ACL", "SETUSER", "dev_user", "~*")
    try:
        run = smoke(deployment, tmp_path)
    finally:
        admin.execute_command("ACL", "SETUSER", "dev_user", "resetkeys", "~dev:*")
        admin.close()
    assert_only(run, {"test_isolation_redis::test_cannot_touch_other_envs_keys[dev]": "allowed",
                      "test_isolation_redis::test_cannot_touch_unprefixed_keys[dev]": "allowed"})
    assert "test_residue::test_run_left_nothing_behind" in run.passed()


def test_smoke_refuses_missing_configuration(tmp_path) -> None:
    """Assert that without configuration the run stops at once with one line listing every missing variable."""
    run = run_child([*SMOKE, f"--env-dir={tmp_path}"], tmp_path, env={"ACCEPTANCE_REDIS_PROBE_PASSWORD": ""})
    assert run.returncode == 4, run.summary()
    line = next(line for line in run.output.splitlines() if "missing configuration" in line)
    for variable in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "ACCEPTANCE_PROD_API_URL",
                     "ACCEPTANCE_REDIS_PROBE_PASSWORD"):
        assert variable in line
    assert run.outcomes == {}


def test_smoke_names_wrong_credentials(deployment, tmp_path) -> None:
    """Assert that a wrong Redis password fails the checks with a line naming the service and the user,
    and that the password appears nowhere in the output."""
    env_dir = tmp_path / "envfiles"
    env_dir.mkdir()
    prod = (deployment.env_dir / ".env.prod").read_text()
    password = deployment.services.credentials.redis["pro_user"]
    (env_dir / ".env.prod").write_text(prod.replace(password, "wrong-password-123"))
    run = run_child([*SMOKE, f"--env-dir={env_dir}"], tmp_path, env=deployment.child_env())
    failed = run.failed()
    assert "test_services::test_app_user_authenticates[prod]" in failed, run.summary()
    assert "refused user pro_user" in failed["test_services::test_app_user_authenticates[prod]"]
    assert password not in run.output and "wrong-password-123" not in run.output

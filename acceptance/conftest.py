"""Fixtures: the target (throwaway services and the server's processes, or deployed hosts) and
the clients checks use to talk to it as its users would."""

import uuid
from collections.abc import Callable, Iterator

import pymysql
import pytest
import redis

from acceptance import masking
from acceptance.plugin import Options
from acceptance.probes import no_retry
from acceptance.report import EVIDENCE
from acceptance.services.base import ServiceError, free_port
from acceptance.services.provider import Images, choose, provide, stop_all, stop_all_at_exit
from acceptance.smoke import smoke_target
from acceptance.stack import ROLES, deploy_environ, new_process, start_all, start_stacks, stop_stacks
from acceptance.targets import Account, Target, throwaway_target

CLIENT_TIMEOUT_SECONDS = 5


# Package scope: the throwaway stack stops when the acceptance checks are done, before the self-test.
@pytest.fixture(scope="package")
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    options: Options = request.config.acceptance  # type: ignore[attr-defined]
    if options.is_smoke:
        yield smoke_target(options.target, options.smoke)
        return
    yield from _throwaway(options, tmp_path_factory.mktemp("stack"), request.config)


def _throwaway(options: Options, workdir, config: pytest.Config) -> Iterator[Target]:  # noqa: ANN001
    run_id = uuid.uuid4().hex[:12]
    stop_all_at_exit(run_id)  # a last sweep, should the run end without unwinding
    try:
        provider = choose(options.services)
        services = provide(provider, infra_dir=options.infra_dir, workdir=workdir, run_id=run_id,
                           images=Images(options.mysql_image, options.redis_image), timeout=options.start_timeout)
    except ServiceError as exc:
        pytest.exit(f"acceptance: {masking.mask(str(exc))}", returncode=4)
    try:
        _say(config, *(f"started {service.describe()}" for service in (services.mysql, services.redis)))
        envs = {env: deploy_environ(env, services.mysql.endpoint, services.redis.endpoint, services.credentials,
                                    workdir, options.server_env) for env in ("dev", "prod")}
        roles = tuple(role for role in ROLES if role not in options.without)
        stacks = start_stacks(envs, options.server_dir, workdir, options.start_timeout, roles)
        try:
            _say(config, *(f"{env} {p.role}: {'ready' if p.error is None else p.error} in {p.start_seconds:.2f}s"
                           for env, stack in stacks.items() for p in stack.processes.values()))
            yield throwaway_target(services, stacks)
        finally:
            stop_stacks(stacks)
    finally:
        stop_all(run_id)


def _say(config: pytest.Config, *lines: str) -> None:
    """Print how the target was provided as it happens; the checklist report repeats it at the end."""
    config.acceptance.checklist.provisioning.extend(masking.mask(line) for line in lines)  # type: ignore[attr-defined]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():  # fixtures run under output capture
        reporter.ensure_newline()
        for line in lines:
            reporter.write_line(masking.mask(line))


@pytest.fixture
def task_deadline(request: pytest.FixtureRequest) -> float:
    """Seconds to wait for a worker to run a task (--task-deadline)."""
    return request.config.acceptance.task_deadline  # type: ignore[attr-defined]


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record one line of evidence for the checklist report (and JUnit properties)."""
    return lambda text: request.node.user_properties.append((EVIDENCE, text))


@pytest.fixture
def redis_as(target: Target) -> Iterator[Callable[[Account], redis.Redis]]:
    """Redis clients authenticated as a given account; all closed after the test."""
    clients: list[redis.Redis] = []

    def connect(account: Account) -> redis.Redis:
        client = redis.Redis(host=target.redis.host, port=target.redis.port, username=account.user,
                             password=account.password, socket_timeout=CLIENT_TIMEOUT_SECONDS,
                             socket_connect_timeout=CLIENT_TIMEOUT_SECONDS, decode_responses=True,
                             retry=no_retry())
        clients.append(client)
        try:
            client.ping()
        except redis.exceptions.AuthenticationError as exc:
            pytest.fail(f"Redis {target.redis} refused user {account.user}: {exc}", pytrace=False)
        except redis.exceptions.ConnectionError as exc:
            pytest.fail(f"Redis {target.redis} unreachable (user {account.user}): {exc}", pytrace=False)
        return client

    yield connect
    for client in clients:
        client.close()


@pytest.fixture
def mysql_as(target: Target) -> Iterator[Callable[..., pymysql.Connection]]:
    """MySQL connections as a given account; all closed after the test."""
    connections: list[pymysql.Connection] = []

    def connect(account: Account, database: str | None = None) -> pymysql.Connection:
        try:
            connection = pymysql.connect(host=target.mysql.host, port=target.mysql.port, user=account.user,
                                         password=account.password, database=database, autocommit=True,
                                         connect_timeout=CLIENT_TIMEOUT_SECONDS, read_timeout=CLIENT_TIMEOUT_SECONDS)
        except pymysql.err.OperationalError as exc:
            pytest.fail(f"MySQL {target.mysql} refused user {account.user}: {exc.args[-1]}", pytrace=False)
        connections.append(connection)
        return connection

    yield connect
    for connection in connections:
        connection.close()


@pytest.fixture(scope="package")
def server_celery(target: Target) -> Iterator[Callable[..., "Celery"]]:  # noqa: F821
    """The server's own Celery app for an env, configured from that env's variables (plus overrides)."""
    from app.core.celery_app import create_celery_app
    from app.core.config import load_settings

    apps = {}

    def of(env: str, **overrides: str):  # noqa: ANN202
        key = (env, tuple(sorted(overrides.items())))
        if key not in apps:
            apps[key] = create_celery_app(load_settings({**target.envs[env].environ, **overrides}))
        return apps[key]

    yield of
    for app in apps.values():
        app.close()


@pytest.fixture
def redis_admin(target: Target, redis_as) -> redis.Redis:  # noqa: ANN001
    """An admin client, to observe (SCAN, fill, free). A target without one skips the check."""
    if target.redis_admin is None:
        pytest.skip("this target gives no Redis admin account")
    return redis_as(target.redis_admin)


@pytest.fixture
def launch(target: Target, request: pytest.FixtureRequest, tmp_path) -> Iterator[Callable[..., list]]:  # noqa: ANN001
    """Start extra server processes (env, role, variable overrides) side by side; stopped after the test."""
    options: Options = request.config.acceptance  # type: ignore[attr-defined]
    started = []

    def start(*specs: tuple[str, str, dict[str, str]]) -> list:
        processes = []
        for env, role, overrides in specs:
            environ = {**target.envs[env].environ, **overrides}
            name = f"{env}-{role}-{len(started) + len(processes)}"
            processes.append(new_process(env, role, environ, options.server_dir, tmp_path / name,
                                         options.start_timeout, free_port()))
        started.extend(processes)
        start_all(processes)
        return processes

    yield start
    for process in started:
        process.executor.close()


@pytest.fixture(scope="session")
def residue() -> list[tuple[str, Account, str]]:
    """What a check created or may have created: ("redis", account, key) or ("mysql", account, "schema.table").
    The run's last check (test_residue.py) verifies that none of it remains."""
    return []

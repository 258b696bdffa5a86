"""The server's real processes (uvicorn, Celery worker, beat) for one env, started as a deploy would.

Each env gets only environment variables (no env file), migrations first, then its processes. A
process that fails to start does not stop the others: the checks that need it fail, naming it.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from acceptance import spec
from acceptance.executor import ReadyExecutor
from acceptance.services.base import Endpoint, Stopwatch, free_port
from acceptance.services.infra import Credentials

ROLES = ("api", "worker", "beat")
# Lines after which a process still running is no longer doing its job (Celery logs, then lingers).
FATAL_LOG_MARKS = ("Unrecoverable error", "CRITICAL/")
# At teardown a worker is killed: even a cold shutdown (SIGQUIT) takes about 2 s here, and an
# unacknowledged task is delivered again anyway (late acks).
STOP_SIGNALS = {"api": signal.SIGTERM, "worker": signal.SIGKILL, "beat": signal.SIGTERM}
# What a deploy's process manager passes through; nothing else of the test process leaks in.
INHERITED_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")


class StackProcessDown(AssertionError):
    """A server process needed by a check is not running."""


@dataclass
class ServerProcess:
    env: str
    role: str
    executor: ReadyExecutor
    url: str | None = None
    error: str | None = None
    start_seconds: float = 0.0

    def require(self) -> "ServerProcess":
        problem = self.error or self.problem()
        if problem is not None:
            raise StackProcessDown(f"{self.env} {self.role} is not running: {problem}\n--- log ---\n{self.log_tail()}")
        return self

    def problem(self) -> str | None:
        """Why a process that started is no longer fit: it exited, or logged a fatal error."""
        if not self.executor.running():
            return "it exited"
        logged = self.executor.log_since_start().splitlines()
        fatal = [line for line in logged if any(mark in line for mark in FATAL_LOG_MARKS)]
        return fatal[0].strip() if fatal else None

    def log_tail(self, lines: int = 40) -> str:
        return self.executor.log_tail(lines)

    def crash(self) -> None:
        """SIGKILL the whole process group, as an OOM killer or a lost host would: no clean-up runs."""
        os.killpg(self.executor.process.pid, signal.SIGKILL)
        self.executor.stop_quietly()

    def start(self) -> None:
        clock = Stopwatch()
        try:
            self.executor.start()
            self.error = None
        except Exception as exc:  # noqa: BLE001 - recorded, reported by the checks that need it
            self.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        self.start_seconds = clock.seconds()


@dataclass
class EnvStack:
    env: str
    environ: dict[str, str]
    api_url: str
    processes: dict[str, ServerProcess] = field(default_factory=dict)
    migration_error: str | None = None

    def process(self, role: str) -> ServerProcess:
        if role not in self.processes:
            raise StackProcessDown(f"{self.env} {role} was not started (--without {role})")
        return self.processes[role].require()


def stop_stacks(stacks: dict[str, EnvStack]) -> None:
    """Stop every process of every env at once (each stop waits for its process to exit)."""
    executors = [process.executor for stack in stacks.values() for process in stack.processes.values()]
    with ThreadPoolExecutor(max_workers=max(1, len(executors))) as pool:
        list(pool.map(lambda executor: executor.close(), executors))


def deploy_environ(
    env: str, mysql: Endpoint, redis: Endpoint, credentials: Credentials, workdir: Path, extra: dict[str, str]
) -> dict[str, str]:
    """The variables a deploy would set for `env`, pointing at this run's services."""
    db_user, db_password = credentials.mysql_user(env)
    redis_user = spec.REDIS_USER[env]
    redis_url = f"redis://{redis_user}:{credentials.redis[redis_user]}@{redis.host}:{redis.port}/0"
    environ = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
    environ.update(
        APP_ENV=env,
        APP_ENV_FILE="",
        DATABASE_URL=f"mysql+aiomysql://{db_user}:{db_password}@{mysql.host}:{mysql.port}/{spec.SCHEMA[env]}",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        BEAT_SCHEDULE_FILE=str(workdir / f"celerybeat-schedule-{env}"),
        PYTHONUNBUFFERED="1",
        # Test-time pace: beat fires every second so that two beats show within a check's deadline;
        # a task a killed worker had taken is back in its queue within about 6 s.
        HEARTBEAT_INTERVAL_SECONDS="1",
        CELERY_VISIBILITY_TIMEOUT_SECONDS="5",
        CELERY_UNACKED_RESTORE_INTERVAL_SECONDS="1",
    )
    environ.update(extra)
    return environ


def server_command(role: str, env: str, api_port: int) -> list[str]:
    python = sys.executable
    if role == "api":
        return [python, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(api_port)]
    if role == "worker":
        # --without-mingle, as deployed (README): one worker per env has no neighbour to sync with,
        # and mingle's 1 s wait for replies would stretch every start.
        return [python, "-m", "celery", "-A", "app.worker", "worker", "--loglevel=INFO", "-n", f"{env}@%h", "-c", "2",
                "--without-mingle"]
    return [python, "-m", "celery", "-A", "app.worker", "beat", "--loglevel=INFO"]


def _ready_check(role: str, api_url: str) -> Callable[[ReadyExecutor], bool]:
    if role == "api":
        return lambda _: httpx.get(f"{api_url}/healthz", timeout=0.5).status_code == 200
    banner = " ready." if role == "worker" else "beat: Starting..."
    return lambda executor: banner in executor.log_since_start()


def new_process(env: str, role: str, environ: dict[str, str], server_dir: Path, workdir: Path, timeout: float,
                api_port: int = 0) -> ServerProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{env}-{role}.log"
    api_url = f"http://127.0.0.1:{api_port}"
    executor = ReadyExecutor(server_command(role, env, api_port), _ready_check(role, api_url), log_path,
                             env=environ, cwd=server_dir, timeout=timeout, stop_signal=STOP_SIGNALS[role])
    return ServerProcess(env, role, executor, url=api_url if role == "api" else None)


def migrate(environ: dict[str, str], server_dir: Path, timeout: float) -> str | None:
    """`alembic upgrade head` as a deploy runs it; the error's last lines, or None."""
    result = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=server_dir, env=environ,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode == 0:
        return None
    return f"alembic upgrade head exited {result.returncode}: " + " | ".join(result.stderr.strip().splitlines()[-3:])


def start_all(processes: list[ServerProcess]) -> None:
    """Start processes side by side; each records its own failure."""
    with ThreadPoolExecutor(max_workers=max(1, len(processes))) as pool:
        list(pool.map(lambda process: process.start(), processes))


def start_stacks(envs: dict[str, dict[str, str]], server_dir: Path, workdir: Path, timeout: float,
                 roles: tuple[str, ...] = ROLES) -> dict[str, EnvStack]:
    """Migrate each env, then start every role of every env at once and wait for all to be ready."""
    stacks = {}
    for env, environ in envs.items():
        port = free_port()
        stack = EnvStack(env, environ, f"http://127.0.0.1:{port}")
        stack.processes = {role: new_process(env, role, environ, server_dir, workdir, timeout, port) for role in roles}
        stacks[env] = stack
    with ThreadPoolExecutor(max_workers=len(envs) * (len(roles) + 1)) as pool:
        migrations = {env: pool.submit(migrate, stack.environ, server_dir, timeout) for env, stack in stacks.items()}
        for stack in stacks.values():
            for process in stack.processes.values():
                pool.submit(process.start)
    for env, migration in migrations.items():
        stacks[env].migration_error = migration.result()
    return stacks

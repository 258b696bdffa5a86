"""Spec 5: a misconfigured env refuses to start, naming the variable, before touching any service."""

import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from acceptance.stack import ROLES, server_command

pytestmark = [pytest.mark.checklist("5.config")]
EXIT_DEADLINE_SECONDS = 15

# Each misconfiguration the config guard knows, and the words its one line must carry.
MISCONFIGURATIONS = {
    "wrong schema": ({"DATABASE_URL": "mysql+aiomysql://dev_app:pw@{listener}/mindfulness"},
                     "DATABASE_URL: schema 'mindfulness' is not the schema of APP_ENV=dev"),
    "wrong prefix": ({"REDIS_KEY_PREFIX": "pro:"}, "REDIS_KEY_PREFIX: 'pro:' is not the prefix of APP_ENV=dev"),
    "unknown APP_ENV": ({"APP_ENV": "staging"}, "APP_ENV must be dev or prod ('staging')"),
}


@pytest.fixture
def listener() -> socket.socket:
    """A port that counts connections: every service URL points here, so a touch would show."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


def _connections(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            sock.accept()[0].close()
            count += 1
        except BlockingIOError:
            return count


def _environ(base: dict[str, str], address: str, overrides: dict[str, str]) -> dict[str, str]:
    environ = {**base, "APP_ENV": "dev", "DATABASE_URL": f"mysql+aiomysql://dev_app:pw@{address}/mindfulness_dev",
               "REDIS_URL": f"redis://dev_user:pw@{address}/0", "CELERY_BROKER_URL": f"redis://dev_user:pw@{address}/0"}
    environ.update({name: value.format(listener=address) for name, value in overrides.items()})
    return environ


def test_misconfigured_processes_exit_with_one_line(target, request, listener, evidence) -> None:
    """Assert that uvicorn, the worker and beat each exit non-zero with the guard's one-line message,
    for each misconfiguration, having opened no connection to any service."""
    server_dir = request.config.acceptance.server_dir
    address = "127.0.0.1:%d" % listener.getsockname()[1]
    base = target.envs["dev"].environ
    runs = {(name, role): (server_command(role, "dev", 0), _environ(base, address, overrides))
            for name, (overrides, _) in MISCONFIGURATIONS.items() for role in ROLES}

    def run(command_and_env: tuple[list[str], dict[str, str]]) -> subprocess.CompletedProcess:
        command, environ = command_and_env
        try:
            return subprocess.run(command, cwd=server_dir, env=environ, capture_output=True, text=True,
                                  timeout=EXIT_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired as exc:  # it started instead of refusing: killed by run()
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
            return subprocess.CompletedProcess(command, 0, "", f"still running after {EXIT_DEADLINE_SECONDS}s; "
                                                               + stderr[-200:])

    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        results = dict(zip(runs, pool.map(run, runs.values()), strict=True))
    wrong = {}
    for (name, role), result in results.items():
        message = MISCONFIGURATIONS[name][1]
        lines = result.stderr.strip().splitlines()
        one_clear_line = len(lines) == 1 and lines[0].startswith(f"config error: {message}")
        if result.returncode == 0 or not one_clear_line:
            wrong[(name, role)] = f"exit {result.returncode}: {result.stderr.strip()[-300:]}"
    assert wrong == {}
    assert _connections(listener) == 0, "a misconfigured process connected to a service before refusing"
    codes = sorted({result.returncode for result in results.values()})
    evidence(f"{len(results)} runs ({len(MISCONFIGURATIONS)} misconfigurations x {'/'.join(ROLES)}): "
             f"exit {codes}, one 'config error:' line each, 0 connections")

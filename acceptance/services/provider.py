"""Which way throwaway services are provided, and their start and cleanup as one unit.

Choice: a reachable Docker engine -> containers; else server binaries on PATH -> local processes;
else one clear error saying how to get either. `--services` forces one.
"""

import atexit
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from acceptance.services import processes
from acceptance.services.base import Service, ServiceError
from acceptance.services.infra import Credentials, apply_mysql_init, write_acl

CHOICES = ("auto", "containers", "processes")
DEFAULT_DOCKER_SOCKET = "unix:///var/run/docker.sock"
_live: dict[str, list[Service]] = {}  # by run id: one process may hold several runs (the self-test)
_unswept: set[str] = set()  # runs that started containers and have not been swept by label yet


@dataclass(frozen=True)
class Images:
    mysql: str
    redis: str


@dataclass
class Services:
    provider: str
    mysql: Service
    redis: Service
    credentials: Credentials


def docker_reachable() -> bool:
    if not _docker_socket_answers():
        return False
    try:
        import docker

        client = docker.from_env(timeout=3)
    except Exception:  # noqa: BLE001 - any failure means "no engine here"
        return False
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001
        return False
    finally:
        client.close()


def _docker_socket_answers() -> bool:
    """Whether a local engine socket accepts a connection (True for a remote DOCKER_HOST: the client decides).

    Checked first because the Docker client leaks its socket when the connection fails, which
    filterwarnings=error turns into a failed check somewhere later in the run.
    """
    host = os.environ.get("DOCKER_HOST", DEFAULT_DOCKER_SOCKET)
    if not host.startswith("unix://"):
        return True
    with socket.socket(socket.AF_UNIX) as probe:
        probe.settimeout(3)
        try:
            probe.connect(host.removeprefix("unix://"))
        except OSError:
            return False
    return True


def choose(requested: str) -> str:
    if requested in ("auto", "containers") and docker_reachable():
        return "containers"
    missing = processes.missing_binaries()
    if requested in ("auto", "processes") and not missing:
        return "processes"
    if requested == "containers":
        raise ServiceError("--services=containers: no Docker engine reachable (is dockerd running? DOCKER_HOST?)")
    if requested == "processes":
        raise ServiceError(f"--services=processes: not on PATH: {', '.join(missing)} "
                           "(apt-get install -y redis-server mariadb-server)")
    raise ServiceError(
        "no throwaway services possible: no Docker engine reachable and not on PATH: "
        f"{', '.join(missing)}. Start a Docker engine, or install redis-server and mariadb-server "
        "(.ci/run sets up both)."
    )


def provide(provider: str, *, infra_dir: Path, workdir: Path, images: Images, run_id: str, timeout: float) -> Services:
    """Start MySQL and Redis side by side, load infra/ into them; all or nothing."""
    credentials = Credentials()
    acl_file = write_acl(infra_dir, credentials, workdir)
    if provider == "containers":
        from acceptance.services import containers

        _unswept.add(run_id)
        start_redis = lambda: containers.start_redis(  # noqa: E731
            images.redis, infra_dir, acl_file, credentials, run_id, timeout)
        start_mysql = lambda: containers.start_mysql(images.mysql, credentials, run_id, timeout)  # noqa: E731
    else:
        start_redis = lambda: processes.start_redis(infra_dir, acl_file, credentials, workdir, timeout)  # noqa: E731
        start_mysql = lambda: processes.start_mysql(credentials, workdir, timeout)  # noqa: E731
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {"redis": pool.submit(start_redis), "mysql": pool.submit(start_mysql)}
    started = {name: future.result() for name, future in futures.items() if future.exception() is None}
    _live.setdefault(run_id, []).extend(started.values())
    failures = [future.exception() for future in futures.values() if future.exception() is not None]
    if failures:
        stop_all(run_id)
        raise failures[0]
    try:
        apply_mysql_init(started["mysql"].endpoint.host, started["mysql"].endpoint.port, credentials, infra_dir)
    except BaseException:
        stop_all(run_id)
        raise
    return Services(provider, started["mysql"], started["redis"], credentials)


def stop_all(run_id: str) -> None:
    """Stop every service this run started; then, once, sweep its containers by label in case one escaped.
    A run without containers opens no Docker connection."""
    services = _live.pop(run_id, [])
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda service: service.stop(), services))
    if run_id not in _unswept:
        return
    _unswept.discard(run_id)
    try:
        import docker

        from acceptance.services.containers import RUN_LABEL

        client = docker.from_env(timeout=10)
    except Exception:  # noqa: BLE001 - no engine: nothing to sweep
        return
    try:
        for container in client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_id}"}):
            container.remove(force=True)
    finally:
        client.close()


def stop_all_at_exit(run_id: str) -> None:
    atexit.register(stop_all, run_id)

"""Throwaway MySQL and Redis as Docker containers (testcontainers), configured by infra/.

The community MySqlContainer / RedisContainer wait by log line and by an unauthenticated PING,
which never succeeds with `user default off`; the generic container with our own readiness
checks (an authenticated PING, a SQL SELECT) works for the official and the stand-in images.
"""

import os
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")  # the reaper image cannot be pulled offline

from docker.errors import DockerException, ImageNotFound, NotFound  # noqa: E402
from testcontainers.core.container import DockerContainer  # noqa: E402

from acceptance.services.base import (  # noqa: E402
    Endpoint, Service, ServiceError, Stopwatch, accepts_connections, free_port, mysql_shutdown, mysql_version,
    redis_version,
)
from acceptance.services.infra import Credentials  # noqa: E402
from acceptance.waits import wait_until  # noqa: E402

RUN_LABEL = "org.mindfulness.acceptance.run"
REDIS_CONF_IN_CONTAINER = "/etc/redis/redis.prod.conf"
REDIS_ACL_IN_CONTAINER = "/etc/redis/users.acl"
# The server runs under a restart loop so that a restart keeps the tmpfs data directory
# (a container restart would drop it); `docker-entrypoint.sh` initialises on the first pass only.
# While the hold file exists the loop waits: a deliberate outage of a chosen length.
MYSQL_HOLD_FILE = "/tmp/acceptance-hold"
MYSQL_RESTARTABLE = (f"while :; do docker-entrypoint.sh mysqld; while [ -e {MYSQL_HOLD_FILE} ]; do sleep 0.1; done; "
                     "done")


class ContainerService(Service):
    provider = "container"

    def __init__(
        self, kind: str, container: DockerContainer, port: int, ready: Callable[[Endpoint], str], timeout: float
    ) -> None:
        self.kind = kind
        self._container = container
        self._ready = ready
        self._timeout = timeout
        self.endpoint = Endpoint("127.0.0.1", free_port())
        # Loopback only, and a fixed host port so that a restart keeps it (docker-py takes (ip, port)).
        container.ports[str(port)] = ("127.0.0.1", self.endpoint.port)  # type: ignore[assignment]
        self.image = container.image
        self.provider = f"container from {self.image}"

    def start(self) -> "ContainerService":
        clock = Stopwatch()
        try:
            self._start_and_wait()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = clock.seconds()
        return self

    def _start_and_wait(self) -> None:
        try:
            self._container.start()
        except ImageNotFound:
            raise ServiceError(
                f"image {self.image} is not available (no registry reachable?): build stand-ins with "
                "infra/images/build.sh and pass --mysql-image/--redis-image, or pull the image first"
            ) from None
        except DockerException as exc:
            raise ServiceError(f"{self.kind} container from {self.image} did not start: {exc}") from None
        self._wait_ready()

    def _wait_ready(self) -> None:
        what = f"{self.kind} in container {self.image} to answer at {self.endpoint}"
        self.version = wait_until(lambda: self._ready(self.endpoint), what=what, timeout=self._timeout)

    def go_down(self) -> None:
        self._container.get_wrapped_container().stop(timeout=10)

    def come_back(self) -> None:
        self._container.get_wrapped_container().start()
        self._wait_ready()

    def stop(self) -> None:
        try:
            self._container.stop()
        except NotFound:
            pass

    def logs(self) -> str:
        try:
            out, err = self._container.get_logs()
        except (DockerException, RuntimeError):
            return "(no container logs)"
        return (out + err).decode(errors="replace")


class MysqlContainerService(ContainerService):
    def __init__(self, container: DockerContainer, credentials: Credentials, timeout: float) -> None:
        super().__init__("mysql", container, 3306, lambda ep: mysql_version(ep, credentials.mysql_root), timeout)
        self._root_password = credentials.mysql_root

    def go_down(self) -> None:
        self._container.exec(["touch", MYSQL_HOLD_FILE])
        mysql_shutdown(self.endpoint, self._root_password)
        wait_until(lambda: not accepts_connections(self.endpoint), what="mysqld to stop", timeout=30)

    def come_back(self) -> None:
        self._container.exec(["rm", "-f", MYSQL_HOLD_FILE])
        self._wait_ready()


def labelled(image: str, run_id: str) -> DockerContainer:
    return DockerContainer(image).with_kwargs(labels={RUN_LABEL: run_id})


def start_redis(
    image: str, infra_dir: Path, acl_file: Path, credentials: Credentials, run_id: str, timeout: float
) -> ContainerService:
    container = (
        labelled(image, run_id)
        .with_volume_mapping(str(infra_dir / "redis" / "redis.prod.conf"), REDIS_CONF_IN_CONTAINER, "ro")
        .with_volume_mapping(str(acl_file), REDIS_ACL_IN_CONTAINER, "ro")
        # Host-specific values only; the limits come from the conf file as written.
        .with_command(["redis-server", REDIS_CONF_IN_CONTAINER, "--aclfile", REDIS_ACL_IN_CONTAINER,
                       "--bind", "0.0.0.0", "--port", "6379", "--dir", "/data"])
    )
    admin_password = credentials.redis["admin"]
    return ContainerService("redis", container, 6379, lambda ep: redis_version(ep, admin_password), timeout).start()


def start_mysql(image: str, credentials: Credentials, run_id: str, timeout: float) -> ContainerService:
    container = (
        labelled(image, run_id)
        .with_env("MYSQL_ROOT_PASSWORD", credentials.mysql_root)
        .with_tmpfs_mount("/var/lib/mysql")
        .with_command(["sh", "-c", MYSQL_RESTARTABLE])
    )
    return MysqlContainerService(container, credentials, timeout).start()


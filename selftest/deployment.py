"""A deployed-looking stack for smoke runs: the server package on throwaway services, with the
env files and variables a real deploy would have, so that `--target=prod-smoke` can be pointed at it."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from acceptance.plugin import DEFAULT_MYSQL_IMAGE, DEFAULT_REDIS_IMAGE
from acceptance.services.provider import Images, Services, choose, provide, stop_all
from acceptance.smoke import PROBE_PASSWORD, api_url_variable
from acceptance.stack import EnvStack, deploy_environ, start_stacks, stop_stacks
from selftest.child import REPO

ENV_FILE_VARIABLES = ("APP_ENV", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "HEARTBEAT_INTERVAL_SECONDS")


@dataclass
class Deployment:
    services: Services
    stacks: dict[str, EnvStack]
    env_dir: Path

    def child_env(self) -> dict[str, str]:
        """What the operator's shell holds: the probe user's password, nothing of the app's settings."""
        return {PROBE_PASSWORD: self.services.credentials.redis["probe"]}

    def admin(self) -> redis.Redis:
        endpoint = self.services.redis.endpoint
        return redis.Redis(host=endpoint.host, port=endpoint.port, username="admin",
                           password=self.services.credentials.redis["admin"], socket_timeout=5, decode_responses=True)


def _write_env_files(stacks: dict[str, EnvStack], env_dir: Path) -> None:
    env_dir.mkdir()
    for env, stack in stacks.items():
        lines = [f"{name}={stack.environ[name]}" for name in ENV_FILE_VARIABLES]
        lines.append(f"{api_url_variable(env)}={stack.api_url}")
        (env_dir / f".env.{env}").write_text("\n".join(lines) + "\n")


@contextmanager
def deployed(workdir: Path) -> Iterator[Deployment]:
    """Both envs deployed from this repo's infra/ and server/; everything stopped afterwards."""
    run_id = uuid.uuid4().hex[:12]
    images = Images(os.environ.get("ACCEPTANCE_MYSQL_IMAGE", DEFAULT_MYSQL_IMAGE),
                    os.environ.get("ACCEPTANCE_REDIS_IMAGE", DEFAULT_REDIS_IMAGE))
    services = provide(choose(os.environ.get("ACCEPTANCE_SERVICES", "auto")), infra_dir=REPO / "infra",
                       workdir=workdir, images=images, run_id=run_id, timeout=90)
    try:
        envs = {env: deploy_environ(env, services.mysql.endpoint, services.redis.endpoint, services.credentials,
                                    workdir, {}) for env in ("dev", "prod")}
        stacks = start_stacks(envs, REPO / "server", workdir, 90)
        try:
            _write_env_files(stacks, workdir / "envfiles")
            yield Deployment(services, stacks, workdir / "envfiles")
        finally:
            stop_stacks(stacks)
    finally:
        stop_all(run_id)

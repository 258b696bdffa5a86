"""Benchmark of the acceptance harness: where a run's time goes, per provider and per phase.

    python3 bench/harness.py [--repeat 3] [--providers containers,processes] [--checklist] [--smoke]

Prints, for each provider: MySQL and Redis time to first authenticated answer (as measured by the
harness), the whole `provide` call (both services plus the infra SQL), the server processes' ready
times, teardown; with --checklist, the wall time of `pytest acceptance` as a child process (with and
without the slow fault-injection checks); with --smoke, the wall time of `pytest --target=prod-smoke`
against a deploy of this repo on throwaway services.
Raw floors for comparison (FACTS): Redis 0.3 s / MariaDB 0.5 s as containers.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "server")]

from acceptance.plugin import DEFAULT_MYSQL_IMAGE, DEFAULT_REDIS_IMAGE  # noqa: E402
from acceptance.services.provider import Images, provide, stop_all  # noqa: E402
from acceptance.stack import deploy_environ, start_stacks, stop_stacks  # noqa: E402


def images() -> Images:
    import os

    return Images(os.environ.get("ACCEPTANCE_MYSQL_IMAGE", DEFAULT_MYSQL_IMAGE),
                  os.environ.get("ACCEPTANCE_REDIS_IMAGE", DEFAULT_REDIS_IMAGE))


def one_round(provider: str) -> dict[str, float]:
    run_id = uuid.uuid4().hex[:12]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        services = provide(provider, infra_dir=REPO / "infra", workdir=workdir, images=images(), run_id=run_id,
                           timeout=90)
        figures = {"mysql ready": services.mysql.start_seconds, "redis ready": services.redis.start_seconds,
                   "services + infra SQL": time.monotonic() - started}
        try:
            envs = {env: deploy_environ(env, services.mysql.endpoint, services.redis.endpoint, services.credentials,
                                        workdir, {}) for env in ("dev", "prod")}
            started = time.monotonic()
            stacks = start_stacks(envs, REPO / "server", workdir, 90)
            figures["server processes (6) + migrations"] = time.monotonic() - started
            for stack in stacks.values():
                for process in stack.processes.values():
                    figures[f"  {process.env} {process.role}"] = process.start_seconds
            started = time.monotonic()
            stop_stacks(stacks)
            figures["stop server processes"] = time.monotonic() - started
        finally:
            started = time.monotonic()
            stop_all(run_id)
            figures["stop services"] = time.monotonic() - started
    return figures


def checklist_wall(provider: str, *extra: str) -> float:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "acceptance", "-q", f"--services={provider}", *extra],
                            cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout[-3000:])
        raise SystemExit(f"pytest acceptance failed with {provider}")
    return time.monotonic() - started


def smoke_walls(repeat: int) -> list[float]:
    from selftest.child import run_child
    from selftest.deployment import deployed

    walls = []
    with tempfile.TemporaryDirectory() as tmp, deployed(Path(tmp)) as deployment:
        for _ in range(repeat):
            run = run_child(["--target=prod-smoke", f"--env-dir={deployment.env_dir}"], Path(tmp),
                            env=deployment.child_env())
            if run.returncode != 0:
                raise SystemExit(run.summary())
            walls.append(run.wall_seconds)
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--providers", default="containers,processes")
    parser.add_argument("--checklist", action="store_true", help="also time a whole `pytest acceptance` run")
    parser.add_argument("--smoke", action="store_true", help="also time smoke runs against a throwaway deploy")
    args = parser.parse_args()
    for provider in args.providers.split(","):
        rounds = [one_round(provider) for _ in range(args.repeat)]
        print(f"\n{provider} ({args.repeat} rounds; median, min-max seconds)")
        for name in rounds[0]:
            values = [figures[name] for figures in rounds]
            print(f"  {name:<38} {statistics.median(values):6.2f}  ({min(values):.2f}-{max(values):.2f})")
        if args.checklist:
            quick = checklist_wall(provider, "-m", "not slow")
            print(f"  {'pytest acceptance -m not-slow, wall':<38} {quick:6.2f}")
            print(f"  {'pytest acceptance (with faults), wall':<38} {checklist_wall(provider):6.2f}")
    if args.smoke:
        walls = smoke_walls(args.repeat)
        print(f"\nsmoke run against a healthy deploy ({args.repeat} rounds): median {statistics.median(walls):.2f}s, "
              f"min {min(walls):.2f}s, max {max(walls):.2f}s")


if __name__ == "__main__":
    main()

"""The acceptance plugin: options, the safety rule, secret masking and the checklist report.

Loaded from the top-level conftest.py so that `--target` works from the repository root.
"""

import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from acceptance import masking
from acceptance.report import Checklist
from acceptance.services.provider import CHOICES
from acceptance.smoke import SmokeConfig, SmokeConfigError, read_smoke_config
from acceptance.targets import SMOKE_TARGETS, TARGETS, THROWAWAY

REPO = Path(__file__).resolve().parents[1]
ACCEPTANCE_DIR = Path(__file__).resolve().parent
DEFAULT_MYSQL_IMAGE = "mysql:8.4"
DEFAULT_REDIS_IMAGE = "redis:7.4"
SMOKE_CHECK_TIMEOUT_SECONDS = 30


@dataclass
class Options:
    target: str
    services: str
    mysql_image: str
    redis_image: str
    infra_dir: Path
    server_dir: Path
    server_env: dict[str, str]
    without: tuple[str, ...]
    start_timeout: float
    env_dir: Path
    smoke_deadline: float
    task_deadline: float
    smoke: "SmokeConfig | None" = None
    checklist: Checklist = field(default_factory=Checklist)

    @property
    def is_smoke(self) -> bool:
        return self.target in SMOKE_TARGETS


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("acceptance", "acceptance checklist")
    add = group.addoption
    add("--target", choices=TARGETS, default=os.environ.get("ACCEPTANCE_TARGET", THROWAWAY),
        help="throwaway (default: services started for this run), dev-smoke or prod-smoke (deployed hosts, "
             "non-destructive checks only). Env: ACCEPTANCE_TARGET")
    add("--services", choices=CHOICES, default=os.environ.get("ACCEPTANCE_SERVICES", "auto"),
        help="how throwaway MySQL/Redis are provided: auto (containers if a Docker engine answers, else local "
             "processes), containers, processes. Env: ACCEPTANCE_SERVICES")
    add("--mysql-image", default=os.environ.get("ACCEPTANCE_MYSQL_IMAGE", DEFAULT_MYSQL_IMAGE),
        help=f"MySQL image (default {DEFAULT_MYSQL_IMAGE}). Env: ACCEPTANCE_MYSQL_IMAGE")
    add("--redis-image", default=os.environ.get("ACCEPTANCE_REDIS_IMAGE", DEFAULT_REDIS_IMAGE),
        help=f"Redis image (default {DEFAULT_REDIS_IMAGE}). Env: ACCEPTANCE_REDIS_IMAGE")
    add("--infra-dir", type=Path, default=REPO / "infra", help="infra files to configure the services with")
    add("--server-dir", type=Path, default=REPO / "server", help="the server package to deploy")
    add("--server-env", action="append", default=[], metavar="NAME=VALUE",
        help="an extra variable for every deployed server process (repeatable)")
    add("--without", action="append", default=[], choices=("api", "worker", "beat"),
        help="do not start this server process (repeatable)")
    add("--start-timeout", type=float, default=float(os.environ.get("ACCEPTANCE_START_TIMEOUT", "90")),
        help="seconds a service or server process may take to become ready")
    add("--task-deadline", type=float, default=float(os.environ.get("ACCEPTANCE_TASK_DEADLINE", "15")),
        help="seconds a check waits for a worker to run a task (default 15)")
    add("--env-dir", type=Path, default=REPO / "server",
        help="smoke targets: where .env.dev / .env.prod are (default server/, as the server reads them)")
    add("--smoke-deadline", type=float, default=float(os.environ.get("ACCEPTANCE_SMOKE_DEADLINE", "120")),
        help="smoke targets: seconds the whole run may take; each check gets at most 30")
    add("--checklist-report", metavar="FILE",
        help="also write the checklist as FILE.md and FILE.json (for CI artifacts)")


def _options(config: pytest.Config) -> Options:
    server_env = {}
    for pair in config.getoption("server_env"):
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise pytest.UsageError(f"--server-env needs NAME=VALUE, got {pair!r}")
        server_env[name] = value
    for option in ("infra_dir", "server_dir"):
        if not config.getoption(option).is_dir():
            raise pytest.UsageError(f"--{option.replace('_', '-')}: no such directory {config.getoption(option)}")
    return Options(
        target=config.getoption("target"), services=config.getoption("services"),
        mysql_image=config.getoption("mysql_image"), redis_image=config.getoption("redis_image"),
        infra_dir=config.getoption("infra_dir").resolve(), server_dir=config.getoption("server_dir").resolve(),
        server_env=server_env, without=tuple(config.getoption("without")),
        start_timeout=config.getoption("start_timeout"), env_dir=config.getoption("env_dir").resolve(),
        smoke_deadline=config.getoption("smoke_deadline"), task_deadline=config.getoption("task_deadline"),
    )


def pytest_configure(config: pytest.Config) -> None:
    options = config.acceptance = _options(config)  # type: ignore[attr-defined]
    # Checks use the server's own code (its engine, its Celery app): the deployed copy of it.
    sys.path.insert(0, str(options.server_dir))
    if options.is_smoke:
        try:  # every missing variable named, before any connection is opened
            options.smoke = read_smoke_config(options.target, options.env_dir)
        except SmokeConfigError as exc:
            raise pytest.UsageError(masking.mask(str(exc))) from None
    if hasattr(signal, "SIGTERM"):
        # A CI runner's SIGTERM unwinds like Ctrl-C, so fixtures stop every process and container.
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    options: Options = config.acceptance  # type: ignore[attr-defined]
    if options.is_smoke:
        return [f"acceptance target: {options.target} (deployed hosts; destructive checks are skipped). "
                "About to touch:", *(f"  {line}" for line in options.smoke.hosts())]
    return [
        f"acceptance target: {options.target} (services: {options.services}; "
        f"images: {options.mysql_image}, {options.redis_image} when containers)",
        f"infra: {options.infra_dir}  server: {options.server_dir}",
    ]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A smoke run collects the acceptance checks only: no unit test, no self-test."""
    options: Options = config.acceptance  # type: ignore[attr-defined]
    if options.is_smoke and not (collection_path == ACCEPTANCE_DIR or ACCEPTANCE_DIR in collection_path.parents
                                 or collection_path in ACCEPTANCE_DIR.parents):
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The safety rule, in one place: a test not marked nondestructive is destructive."""
    # Fault injection (slow) after the other checks, the residue check last of all.
    items.sort(key=_run_order)
    options: Options = config.acceptance  # type: ignore[attr-defined]
    if not options.is_smoke:
        return
    destructive = pytest.mark.skip(reason=f"destructive: never run against {options.target}")
    for item in items:
        if item.get_closest_marker("nondestructive") is None:
            item.add_marker(destructive)
        env = getattr(item, "callspec", None) and item.callspec.params.get("env")
        if env and env not in options.smoke.envs:
            item.add_marker(pytest.mark.skip(reason=f"no .env.{env} in {options.env_dir}: this run covers "
                                                     f"{', '.join(options.smoke.envs)} only"))
        item.add_marker(pytest.mark.timeout(SMOKE_CHECK_TIMEOUT_SECONDS))


def _run_order(item: pytest.Item) -> int:
    """Acceptance checks stay together: fault injection after the others, the residue check last."""
    if REPO / "selftest" in Path(item.path).parents:
        return 3  # after the acceptance checks, whose stack is gone by then
    if ACCEPTANCE_DIR not in Path(item.path).parents:
        return 0
    if item.get_closest_marker("runs_last"):
        return 2
    return 1 if item.get_closest_marker("slow") else 0


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.acceptance_started = time.monotonic()  # type: ignore[attr-defined]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A smoke run has a deadline: past it, the run stops rather than hang after a deploy."""
    options: Options = item.config.acceptance  # type: ignore[attr-defined]
    elapsed = time.monotonic() - item.config.acceptance_started  # type: ignore[attr-defined]
    if options.is_smoke and elapsed > options.smoke_deadline:
        pytest.exit(f"{options.target}: run deadline of {options.smoke_deadline:g}s passed", returncode=3)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # noqa: ANN201
    report = yield
    _mask_report(report)
    checklist: Checklist = item.config.acceptance.checklist  # type: ignore[attr-defined]
    checklist.record(item, report)
    return report


def _mask_report(report: pytest.TestReport) -> None:
    """No secret reaches the terminal, the JUnit file or the checklist report."""
    if report.failed and report.longrepr is not None:
        report.longrepr = masking.mask(str(report.longrepr))
    report.sections = [(title, masking.mask(text)) for title, text in report.sections]
    report.user_properties = [(name, masking.mask(str(value))) for name, value in report.user_properties]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    checklist: Checklist = config.acceptance.checklist  # type: ignore[attr-defined]
    if checklist.empty:
        return
    terminalreporter.section("acceptance checklist")
    for line in checklist.table_lines():
        terminalreporter.write_line(line)
    path = config.getoption("checklist_report")
    if path:
        for written in checklist.write(Path(path)):
            terminalreporter.write_line(f"checklist written to {written}")

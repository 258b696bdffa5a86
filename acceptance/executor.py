"""A mirakuru executor with a readiness callable, an exact environment and a log file.

Used for every process the harness starts: redis-server, mariadbd, uvicorn, celery.
"""

import atexit
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mirakuru import Executor
from mirakuru.base import ENV_UUID
from mirakuru.exceptions import ProcessFinishedWithError


_created: list["ReadyExecutor"] = []


def stop_all_executors() -> None:
    """Last line of cleanup (atexit): no process this run started outlives it."""
    while _created:
        _created.pop().close()


atexit.register(stop_all_executors)


class ReadyExecutor(Executor):
    def __init__(
        self,
        command: list[str],
        ready: Callable[["ReadyExecutor"], Any],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 30,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.log_path = log_path
        self._log = log_path.open("a")
        self._log_offset = 0
        self._ready = ready
        self._exact_env = env
        super().__init__(
            command, cwd=str(cwd) if cwd else None, timeout=timeout, sleep=0.05, envvars=env, stop_signal=stop_signal,
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )
        _created.append(self)

    def pre_start_check(self) -> bool:
        return False

    def start(self) -> "ReadyExecutor":
        # Readiness and health read only what this start logged, not an earlier run's lines.
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        return super().start()

    def log_since_start(self) -> str:
        if not self._log.closed:
            self._log.flush()
        with self.log_path.open(errors="replace") as log:
            log.seek(self._log_offset)
            return log.read()

    def after_start_check(self) -> bool:
        try:
            return bool(self._ready(self))
        except Exception:  # noqa: BLE001 - not ready yet, whatever the reason
            return False

    @property
    def envvars(self) -> dict[str, str]:
        # Exactly the given environment (a deploy's), not the test process's, plus mirakuru's marker.
        if self._exact_env is None:
            return super().envvars
        return {**self._exact_env, ENV_UUID: self._uuid}

    def stop_quietly(self) -> None:
        """Stop the process group; an unclean exit code is not an error during cleanup."""
        try:
            self.stop()
        except ProcessFinishedWithError:
            pass

    def close(self) -> None:
        self.stop_quietly()
        if not self._log.closed:
            self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        if not self._log.closed:
            self._log.flush()
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

"""Run the acceptance suite in a child pytest and read what each check did (from its JUnit file)."""

import os
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Outcome:
    result: str  # passed | failed | skipped
    message: str


@dataclass
class ChildRun:
    args: list[str]
    returncode: int
    wall_seconds: float
    outcomes: dict[str, Outcome]
    output: str
    modules: set[str]

    def failed(self) -> dict[str, str]:
        return {name: o.message for name, o in self.outcomes.items() if o.result == "failed"}

    def passed(self) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.result == "passed"}

    def summary(self) -> str:
        head = f"pytest {' '.join(self.args)} -> exit {self.returncode} in {self.wall_seconds:.1f}s"
        return f"{head}\n{self.output[-4000:]}"


def run_child(args: list[str], workdir: Path, env: dict[str, str] | None = None, timeout: float = 600) -> ChildRun:
    junit = workdir / f"junit-{uuid.uuid4().hex[:8]}.xml"
    command = [sys.executable, "-m", "pytest", *args, f"--junitxml={junit}", "-p", "no:cacheprovider"]
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                            timeout=timeout)
    wall = time.monotonic() - started
    cases = list(ElementTree.parse(junit).iter("testcase")) if junit.exists() else []
    modules = {case.get("classname", "") for case in cases}
    return ChildRun(args, result.returncode, wall, _outcomes(cases), result.stdout + result.stderr, modules)


def _outcomes(cases: list[ElementTree.Element]) -> dict[str, Outcome]:
    outcomes = {}
    for case in cases:
        name = f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
        problem = next((child for child in case if child.tag in ("failure", "error")), None)
        skipped = case.find("skipped")
        if problem is not None:
            outcomes[name] = Outcome("failed", f"{problem.get('message', '')}\n{problem.text or ''}")
        elif skipped is not None:
            outcomes[name] = Outcome("skipped", skipped.get("message", ""))
        else:
            outcomes[name] = Outcome("passed", "")
    return outcomes

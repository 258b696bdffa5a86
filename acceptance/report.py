"""The checklist report: one row per check, grouped by the spec's checklist item."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from acceptance import masking
from acceptance.spec import CHECKLIST

EVIDENCE = "evidence"


@dataclass
class Row:
    item: str
    test: str
    result: str
    evidence: str


class Checklist:
    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.provisioning: list[str] = []  # services and server processes: versions, start times

    @property
    def empty(self) -> bool:
        return not self.rows

    def record(self, item: pytest.Item, report: pytest.TestReport) -> None:
        marker = item.get_closest_marker("checklist")
        if marker is None or not _decides(report):
            return
        result = "xfail" if hasattr(report, "wasxfail") else (
            "skip" if report.skipped else "pass" if report.passed else "fail")
        self.rows[item.nodeid] = Row(marker.args[0], item.nodeid.split("/")[-1], result, _evidence(report, result))

    def table_lines(self) -> list[str]:
        lines = [f"target: {line}" for line in self.provisioning]
        lines.append(f"{'item':<24} {'result':<6} {'check':<70} evidence")
        for item in CHECKLIST:
            rows = [row for row in self.rows.values() if row.item == item]
            if not rows:
                lines.append(f"{item:<24} {'-':<6} {'(no check ran)':<70} {CHECKLIST[item]}")
            for row in rows:
                lines.append(f"{row.item:<24} {row.result.upper():<6} {row.test[:70]:<70} {row.evidence}")
        return lines

    def write(self, base: Path) -> list[Path]:
        base.parent.mkdir(parents=True, exist_ok=True)
        markdown, data = base.with_suffix(".md"), base.with_suffix(".json")
        rows = sorted(self.rows.values(), key=lambda row: (list(CHECKLIST).index(row.item), row.test))
        table = ["| item | spec | result | check | evidence |", "| --- | --- | --- | --- | --- |"]
        table += [f"| {r.item} | {CHECKLIST[r.item]} | {r.result} | `{r.test}` | {r.evidence.replace('|', '/')} |"
                  for r in rows]
        target = "".join(f"- {line}\n" for line in self.provisioning)
        markdown.write_text("# Acceptance checklist\n\n" + target + "\n" + "\n".join(table) + "\n")
        data.write_text(json.dumps({"target": self.provisioning, "items": CHECKLIST,
                                    "checks": [asdict(r) for r in rows]}, indent=2) + "\n")
        return [markdown, data]


def _decides(report: pytest.TestReport) -> bool:
    """The call phase decides, unless setup did not let it run or teardown failed."""
    return report.when == "call" or (report.when == "setup" and not report.passed) or (
        report.when == "teardown" and report.failed)


def _evidence(report: pytest.TestReport, result: str) -> str:
    if result == "xfail":
        return masking.mask(str(report.wasxfail))[:300]
    if result == "pass":
        notes = [str(value) for name, value in report.user_properties if name == EVIDENCE]
        return masking.mask("; ".join(notes)) if notes else "(passed)"
    if result == "skip":
        return str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
    text = str(report.longrepr)
    failures = [line[2:].strip() for line in text.splitlines() if line.startswith("E ")]
    return masking.mask(failures[0] if failures else text.strip().splitlines()[-1])[:300]

"""The publish guard: task arguments are ids, never long text (spec 4.3, 8)."""

import json
from collections.abc import Mapping, Sequence
from typing import Any


class TaskPayloadTooLarge(ValueError):
    """A task's arguments exceed the payload limit; nothing was queued."""


def payload_size(args: Sequence[Any] | None, kwargs: Mapping[str, Any] | None) -> int:
    """Bytes of the JSON the broker would carry for these arguments."""
    body = [list(args or ()), dict(kwargs or {})]
    return len(json.dumps(body, separators=(",", ":"), default=str).encode())


def check_payload(task_name: str, args: Sequence[Any] | None, kwargs: Mapping[str, Any] | None, limit: int) -> None:
    size = payload_size(args, kwargs)
    if size > limit:
        raise TaskPayloadTooLarge(
            f"task {task_name}: arguments are {size} bytes, over the {limit}-byte limit; pass ids, not data"
        )

"""Bounded waits: every wait has a deadline and says what it waited for when it gives up."""

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryError, Retrying, retry_if_exception_type, retry_if_result, stop_after_delay, wait_fixed

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A condition did not hold before its deadline."""


def wait_until(check: Callable[[], T], *, what: str, timeout: float, interval: float = 0.05) -> T:
    """Call `check` until it returns a truthy value without raising; give up after `timeout` s."""
    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(interval),
        retry=retry_if_exception_type(Exception) | retry_if_result(lambda result: not result),
    )
    try:
        return retrying(check)
    except RetryError as exc:
        last = exc.last_attempt
        error = last.exception() if last.failed else None
        detail = f"last error {type(error).__name__}: {error}" if error else f"last result {last.result()!r}"
        raise WaitTimeout(f"gave up after {timeout:g}s waiting for {what}: {detail}") from None

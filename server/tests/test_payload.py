import pytest

from app.core.payload import TaskPayloadTooLarge, check_payload, payload_size


def test_ids_pass() -> None:
    check_payload("app.tasks.record_item", [123456789], None, limit=512)


def test_long_text_is_refused_with_sizes_in_the_message() -> None:
    with pytest.raises(TaskPayloadTooLarge, match=r"task t: arguments are 1\d{3} bytes, over the 512-byte limit"):
        check_payload("t", ["x" * 1000], None, limit=512)


def test_size_counts_args_and_kwargs() -> None:
    assert payload_size([1], {"a": 2}) == len('[[1],{"a":2}]')

import pytest

from app.core.redis import KeySpace


def test_every_key_carries_the_prefix() -> None:
    keys = KeySpace("dev:")
    assert keys.key("heartbeat") == "dev:heartbeat"
    assert keys.key("smoke", "ping", 42) == "dev:smoke:ping:42"


@pytest.mark.parametrize("parts", [(), ("",), ("cache", "")])
def test_empty_key_parts_are_refused(parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="non-empty parts"):
        KeySpace("pro:").key(*parts)


def test_prefix_must_end_with_a_colon() -> None:
    with pytest.raises(ValueError, match="ends with ':'"):
        KeySpace("dev")

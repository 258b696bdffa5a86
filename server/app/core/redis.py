"""Redis access under the env's key prefix: every application key is built here."""

import redis
import redis.asyncio

from app.core.config import Settings

SOCKET_TIMEOUT_SECONDS = 5


class KeySpace:
    """Builds the env's keys: `KeySpace("dev:").key("heartbeat")` -> "dev:heartbeat"."""

    def __init__(self, prefix: str) -> None:
        if not prefix.endswith(":"):
            raise ValueError(f"a key prefix ends with ':' ({prefix!r})")
        self.prefix = prefix

    def key(self, *parts: str | int) -> str:
        names = [str(part) for part in parts]
        if not names or not all(names):
            raise ValueError(f"a key needs non-empty parts ({parts!r})")
        return self.prefix + ":".join(names)


def key_space(settings: Settings) -> KeySpace:
    return KeySpace(settings.redis_key_prefix)


def _client_options() -> dict[str, float | bool]:
    return {
        "socket_timeout": SOCKET_TIMEOUT_SECONDS,
        "socket_connect_timeout": SOCKET_TIMEOUT_SECONDS,
        "retry_on_timeout": True,
    }


def create_async_redis(settings: Settings) -> redis.asyncio.Redis:
    return redis.asyncio.from_url(settings.redis_url.get_secret_value(), **_client_options())


def create_sync_redis(settings: Settings) -> redis.Redis:
    return redis.from_url(settings.redis_url.get_secret_value(), **_client_options())

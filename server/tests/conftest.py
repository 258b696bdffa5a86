"""Unit tests of pure logic: no service is started or contacted."""

from collections.abc import Iterator

import pytest

SETTINGS_VARIABLES = (
    "APP_ENV", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
    "CELERY_RESULT_EXPIRES_SECONDS", "REDIS_KEY_PREFIX", "CELERY_QUEUE", "TASK_PAYLOAD_MAX_BYTES",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The settings under test come from each test, never from the developer's shell."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield


def env_of(app_env: str, **overrides: str) -> dict[str, str]:
    """A valid environment for `app_env`, with some variables replaced (None removes one)."""
    user, schema = ("dev", "mindfulness_dev") if app_env == "dev" else ("pro", "mindfulness")
    environ = {
        "APP_ENV": app_env,
        "DATABASE_URL": f"mysql+aiomysql://{user}_app:s3cr3t-db@db.internal:3306/{schema}",
        "REDIS_URL": f"redis://{user}_user:s3cr3t-redis@redis.internal:6379/0",
        "CELERY_BROKER_URL": f"redis://{user}_user:s3cr3t-redis@redis.internal:6379/0",
    }
    environ.update(overrides)
    return {key: value for key, value in environ.items() if value is not None}

"""The spec's expected values, written once (spec: project-bootstrap-plan, sections 2, 4, 7).

Checks compare what they observe with these values, never with the infra files or the server's
settings under test: a wrong infra file must turn a check red.
"""

ENVS = ("dev", "prod")

# 2.1: one schema per env, utf8mb4.
SCHEMA = {"dev": "mindfulness_dev", "prod": "mindfulness"}
CHARSET = "utf8mb4"

# 2.2 / 4.1: ACL users limited to their env's prefix; the default user off.
REDIS_USER = {"dev": "dev_user", "prod": "pro_user"}
KEY_PREFIX = {"dev": "dev:", "prod": "pro:"}
DEFAULT_REDIS_USER = "default"

# 4.3: Celery queue names carry the prefix at the Redis level.
QUEUE_KEY = {"dev": "dev:push", "prod": "pro:push"}

# 4.2: maxmemory 256mb with noeviction.
MAXMEMORY_BYTES = 256 * 1024 * 1024  # 268435456
MAXMEMORY_POLICY = "noeviction"

# 2.2 / 4.3: no result backend by default; if enabled, a short TTL (at most one day).
RESULT_KEY_PATTERN = "celery-task-meta-*"
RESULT_TTL_MAX_SECONDS = 24 * 3600


def other_env(env: str) -> str:
    return "prod" if env == "dev" else "dev"


# Section 7 and phases A-C, as the items of the checklist report.
CHECKLIST = {
    "A.schemas": "Phase A: schemas mindfulness_dev and mindfulness exist, utf8mb4",
    "7.isolation.schema": "dev binds to mindfulness_dev, prod to mindfulness",
    "7.isolation.redis": "dev's Redis credentials cannot read or write pro:*, and the reverse",
    "7.isolation.mysql": "each env's DB user reaches only its own schema",
    "7.isolation.queues": "each env's queue and keys stay under its prefix; workers consume only their env",
    "7.resources.maxmemory": "prod Redis maxmemory 256mb with noeviction in effect",
    "7.resources.results": "no result backend (or a short TTL): results do not pile up",
    "4.3.payload": "task arguments stay small: oversized payloads are refused",
    "7.run.api": "FastAPI starts and serves its basic endpoints",
    "7.run.worker": "the Celery worker consumes tasks",
    "7.run.beat": "beat fires scheduled tasks",
    "B.migrations": "Phase B: Alembic applies (upgrade, downgrade, one head, models match)",
    "5.config": "a misconfigured env refuses to start, naming the variable",
    "8.reliability": "no lost task under faults (worker kill, Redis/MySQL restart, maxmemory)",
}

"""Deliberately broken variants of infra/ and server/, and the checks each one must turn red.

A variant is a copy of the repo's files with one textual change (which must still apply: a stale
variant is an error, not a silent pass), run through a subset of the acceptance checks.
"""

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from selftest.child import REPO

NO_SERVER = ("--without", "api", "--without", "worker", "--without", "beat")
WORKERS_ONLY = ("--without", "api", "--without", "beat")

SECOND_ROOT_MIGRATION = '''"""a second root: two heads"""
revision = "0002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


@dataclass(frozen=True)
class Edit:
    path: str  # relative to the repository
    old: str
    new: str  # with old == "", the whole new file


@dataclass(frozen=True)
class Variant:
    name: str
    item: str  # the checklist item this variant proves can fail
    edits: tuple[Edit, ...]
    checks: tuple[str, ...]  # the acceptance checks the child run selects
    expect: dict[str, str]  # check -> a pattern (re.search) its failure message must match
    may_fail: tuple[str, ...] = ()  # checks of the same concern that may fail too
    options: tuple[str, ...] = ()
    server_env: dict[str, str] = field(default_factory=dict)


def acl(old: str, new: str) -> Edit:
    return Edit("infra/redis/users.acl", old, new)


def redis_conf(old: str, new: str) -> Edit:
    return Edit("infra/redis/redis.prod.conf", old, new)


CELERY_APP = "server/app/core/celery_app.py"
T_REDIS = "acceptance/test_isolation_redis.py"
T_MYSQL = "acceptance/test_isolation_mysql.py"
T_TASKS = "acceptance/test_tasks.py"

VARIANTS = (
    Variant("dev_user ~*", "7.isolation.redis", (acl("resetkeys ~dev:*", "resetkeys ~*"),),
            (T_REDIS, "acceptance/test_services.py"),
            {"test_isolation_redis::test_cannot_touch_other_envs_keys[dev]": "allowed",
             "test_isolation_redis::test_cannot_touch_unprefixed_keys[dev]": "allowed"}, options=NO_SERVER),
    Variant("default user on", "7.isolation.redis",
            (acl("user default off ~* &* +@all", "user default on nopass ~* &* +@all"),),
            # Over a container's bridge, protected mode refuses every client first: the run stops, naming it.
            (T_REDIS,), {"test_isolation_redis::test_default_user_is_off": "allowed|protected mode"},
            may_fail=tuple(f"test_isolation_redis::{name}" for name in (
                "test_cannot_touch_other_envs_keys[dev]", "test_cannot_touch_other_envs_keys[prod]",
                "test_cannot_touch_unprefixed_keys[dev]", "test_cannot_touch_unprefixed_keys[prod]",
                "test_app_users_cannot_inspect", "test_app_users_cannot_run_admin_commands",
                "test_cannot_use_other_envs_channels[dev]", "test_cannot_use_other_envs_channels[prod]")),
            options=NO_SERVER),
    Variant("maxmemory unset", "7.resources.maxmemory", (redis_conf("maxmemory 256mb\n", ""),),
            ("acceptance/test_resources.py",),
            {"test_resources::test_maxmemory_and_policy_in_effect": "268435456",
             "test_resources::test_full_redis_refuses_writes_and_keeps_queued_tasks": "OutOfMemoryError"},
            options=WORKERS_ONLY),
    Variant("policy allkeys-lru", "7.resources.maxmemory",
            (redis_conf("maxmemory-policy noeviction", "maxmemory-policy allkeys-lru"),),
            ("acceptance/test_resources.py",),
            {"test_resources::test_maxmemory_and_policy_in_effect": "noeviction",
             "test_resources::test_full_redis_refuses_writes_and_keeps_queued_tasks": ""}, options=WORKERS_ONLY),
    Variant("channel grant &dev:* only", "7.run.worker",
            (acl("&dev:* &dev:/0.celery.pidbox &dev:/0.celeryev/worker.*", "&dev:*"),),
            (f"{T_TASKS}::test_worker_answers_smoke_ping",),
            {"test_tasks::test_worker_answers_smoke_ping[dev]": "dev worker is not running"}, options=WORKERS_ONLY),
    Variant("no global key prefix in the Celery config", "7.isolation.queues",
            (Edit(CELERY_APP, '            "global_keyprefix": prefix,\n', ""),),
            (f"{T_TASKS}::test_task_waits_in_env_queue_and_only_env_worker_takes_it", "acceptance/test_keyspace.py"),
            {"test_tasks::test_task_waits_in_env_queue_and_only_env_worker_takes_it[dev]": "",
             "test_keyspace::test_every_key_carries_an_env_prefix": ""},
            may_fail=("test_tasks::test_task_waits_in_env_queue_and_only_env_worker_takes_it[prod]",),
            options=("--without", "beat")),
    Variant("dev DB user granted on mindfulness", "7.isolation.mysql",
            (Edit("infra/mysql/init/10-create-app-users.sql", "GRANT ALL PRIVILEGES ON `mindfulness_dev`.* TO 'dev_app'@'%';",
                  "GRANT ALL PRIVILEGES ON `mindfulness_dev`.* TO 'dev_app'@'%';\n"
                  "GRANT ALL PRIVILEGES ON `mindfulness`.* TO 'dev_app'@'%';"),),
            (T_MYSQL,), {"test_isolation_mysql::test_db_user_reaches_no_other_schema[dev]": "was allowed"},
            options=NO_SERVER),
    Variant("dev schema in latin1", "A.schemas",
            (Edit("infra/mysql/init/00-create-schemas.sql",
                  "`mindfulness_dev` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", "`mindfulness_dev` CHARACTER SET latin1"),),
            ("acceptance/test_services.py", T_MYSQL),
            {"test_services::test_schema_exists_in_utf8mb4[dev]": "latin1",
             "test_isolation_mysql::test_app_binds_to_its_schema[dev]": "latin1"}, options=NO_SERVER),
    Variant("server binds every env to mindfulness", "7.isolation.schema",
            (Edit("server/app/core/db.py", ".set(drivername=driver)", '.set(drivername=driver, database="mindfulness")'),),
            (T_MYSQL,), {"test_isolation_mysql::test_app_binds_to_its_schema[dev]": "mindfulness"}, options=NO_SERVER),
    Variant("beat not running", "7.run.beat", (),
            ("acceptance/test_runnability.py::test_beat_fires_heartbeat_at_its_interval",
             "acceptance/test_runnability.py::test_heartbeat_is_fresh"),
            {"test_runnability::test_beat_fires_heartbeat_at_its_interval[dev]": "heartbeat",
             "test_runnability::test_beat_fires_heartbeat_at_its_interval[prod]": "heartbeat",
             "test_runnability::test_heartbeat_is_fresh[dev]": "heartbeat",
             "test_runnability::test_heartbeat_is_fresh[prod]": "heartbeat"}, options=WORKERS_ONLY),
    Variant("/readyz does not probe MySQL", "7.run.api",
            (Edit("server/app/api/health.py", '"mysql": lambda: _select_one(state.engine), ', ""),),
            ("acceptance/test_runnability.py::test_readyz_names_the_unreachable_dependency",
             "acceptance/test_runnability.py::test_api_is_live_and_ready"),
            {"test_runnability::test_readyz_names_the_unreachable_dependency": "mysql"},
            may_fail=("test_runnability::test_api_is_live_and_ready[dev]", "test_runnability::test_api_is_live_and_ready[prod]"),
            options=("--without", "worker", "--without", "beat")),
    Variant("two Alembic heads", "B.migrations",
            (Edit("server/alembic/versions/0002_second_root.py", "", SECOND_ROOT_MIGRATION),),
            ("acceptance/test_migrations.py",),
            {"test_migrations::test_single_head_revision": "2 heads",
             "test_migrations::test_schema_is_at_head[dev]": "Multiple head"},
            may_fail=("test_migrations::test_schema_is_at_head[prod]", "test_migrations::test_models_match_migrations[dev]",
                      "test_migrations::test_models_match_migrations[prod]",
                      "test_migrations::test_downgrade_base_then_upgrade_head[dev]",
                      "test_migrations::test_downgrade_base_then_upgrade_head[prod]"),
            options=NO_SERVER),
    Variant("a model without its migration", "B.migrations",
            (Edit("server/app/models.py", "    task_id: Mapped[str] = mapped_column(String(64), nullable=False)\n",
                  "    task_id: Mapped[str] = mapped_column(String(64), nullable=False)\n"
                  "    note: Mapped[str | None] = mapped_column(String(200), nullable=True)\n"),),
            ("acceptance/test_migrations.py::test_models_match_migrations",),
            {"test_migrations::test_models_match_migrations[dev]": "add_column",
             "test_migrations::test_models_match_migrations[prod]": "add_column"}, options=NO_SERVER),
    Variant("a result backend without expiry", "7.resources.results",
            (Edit(CELERY_APP, "result_expires=timedelta(seconds=settings.celery_result_expires_seconds),",
                  "result_expires=None,"),),
            (f"{T_TASKS}::test_result_backend_when_enabled_keeps_results_at_most_a_day",),
            {"test_tasks::test_result_backend_when_enabled_keeps_results_at_most_a_day": "TTL -1"},
            options=NO_SERVER),
    Variant("a result backend on by default", "7.resources.results",
            (Edit(CELERY_APP, '"result_backend": None,', '"result_backend": settings.redis_url.get_secret_value(),'),
             Edit(CELERY_APP, '"task_ignore_result": True,',
                  '"task_ignore_result": False, "result_backend_transport_options": {"global_keyprefix": prefix},')),
            (f"{T_TASKS}::test_no_result_keys_after_real_tasks",),
            {"test_tasks::test_no_result_keys_after_real_tasks": "celery-task-meta"}, options=WORKERS_ONLY),
    Variant("the payload guard off", "4.3.payload",
            (Edit(CELERY_APP, "        check_payload(name, args, kwargs, self.payload_max_bytes)\n", ""),),
            (f"{T_TASKS}::test_oversized_payload_is_refused_and_nothing_queued",),
            {"test_tasks::test_oversized_payload_is_refused_and_nothing_queued[dev]": "DID NOT RAISE",
             "test_tasks::test_oversized_payload_is_refused_and_nothing_queued[prod]": "DID NOT RAISE"},
            options=NO_SERVER),
    Variant("the API lets a full Redis surface as a 500", "8.reliability",
            (Edit("server/app/api/tasks.py", "    except PublishError as exc:", "    except ZeroDivisionError as exc:"),),
            ("acceptance/test_reliability.py::test_publish_at_maxmemory_answers_503_and_loses_nothing",),
            {"test_reliability::test_publish_at_maxmemory_answers_503_and_loses_nothing": "500"},
            options=("--without", "beat")),
    # The ACL line infra/ had first: Redis replays its append-only file as the default user and drops
    # every MULTI/EXEC the user may not run (kombu's requeues among them): a task lost per restart.
    Variant("default user without permissions (the AOF replay drops transactions)", "8.reliability",
            (acl("user default off ~* &* +@all", "user default off resetkeys resetchannels -@all"),),
            ("acceptance/test_reliability.py::test_redis_restart_keeps_transactions",),
            {"test_reliability::test_redis_restart_keeps_transactions": "MULTI/EXEC write did not survive"},
            options=NO_SERVER),
    Variant("kombu's own Redis consumer (BRPOP, then records the message)", "8.reliability",
            (Edit(CELERY_APP, '        "broker_transport": BROKER_TRANSPORT,\n', ""),),
            ("acceptance/test_reliability.py::test_worker_killed_while_its_broker_answers_loses_no_task",),
            {"test_reliability::test_worker_killed_while_its_broker_answers_loses_no_task": "was lost"},
            options=WORKERS_ONLY),
    Variant("the config guard lets a wrong schema through", "5.config",
            (Edit("server/app/core/config.py", "    expected, schema = SCHEMA_BY_ENV[app_env], url.path",
                  "    expected, schema = url.path.lstrip('/') or None, url.path"),),
            ("acceptance/test_config_guard.py",),
            {"test_config_guard::test_misconfigured_processes_exit_with_one_line": "wrong schema"}, options=NO_SERVER),
)


def materialise(variant: Variant, workdir: Path) -> tuple[Path, Path]:
    """Copies of infra/ and server/ with the variant's edits; raises if an edit no longer applies."""
    root = workdir / "repo"
    for folder in ("infra", "server"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__", ".env.*"))
    for edit in variant.edits:
        path = root / edit.path
        if not edit.old:
            path.write_text(edit.new)
            continue
        text = path.read_text()
        if text.count(edit.old) != 1:
            raise AssertionError(f"variant {variant.name!r} is stale: {edit.old!r} is not once in {edit.path}")
        path.write_text(text.replace(edit.old, edit.new))
    return root / "infra", root / "server"

"""Phase B: Alembic applies on both schemas (pytest-alembic's standard checks are the reference:
single head, upgrade, up/down, models match the migrations)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect
from sqlalchemy.pool import NullPool

from acceptance import spec

pytestmark = [pytest.mark.checklist("B.migrations")]
EXAMPLE_TABLE = "task_runs"


def _alembic(server_dir: Path, connection: Connection | None = None) -> Config:
    config = Config(str(server_dir / "alembic.ini"))
    config.attributes["connection"] = connection
    config.attributes["configure_logger"] = False
    return config


@contextmanager
def _connection(environ: dict[str, str]) -> Iterator[Connection]:
    """A connection as the env's DB user, from the server's own URL handling."""
    from app.core.config import load_settings
    from app.core.db import sync_database_url

    engine = create_engine(sync_database_url(load_settings(environ)), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def head(request) -> tuple[str, ...]:  # noqa: ANN001
    """The repo's head revision(s); one, unless the history is broken."""
    return tuple(ScriptDirectory.from_config(_alembic(request.config.acceptance.server_dir)).get_heads())


@pytest.mark.nondestructive
def test_single_head_revision(head, evidence) -> None:
    """Assert that the migration history has exactly one head, so `upgrade head` is unambiguous."""
    assert len(head) == 1, f"migration history has {len(head)} heads: {head}"
    evidence(f"one head: {head[0]}")


@pytest.mark.nondestructive
@pytest.mark.parametrize("env", spec.ENVS)
def test_schema_is_at_head(target, head, evidence, env: str) -> None:
    """Assert that the env's schema is at the repo's head: `upgrade head` applied (read only)."""
    with _connection(target.envs[env].environ) as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    stack = target.envs[env].stack
    deploy_error = stack.migration_error if stack is not None else None
    assert current == head, f"{spec.SCHEMA[env]} at {current}, repo head {head}; deploy: {deploy_error}"
    evidence(f"{spec.SCHEMA[env]} at {', '.join(head)}")


@pytest.mark.parametrize("env", spec.ENVS)
def test_downgrade_base_then_upgrade_head(target, head, request, evidence, env: str) -> None:
    """Assert that `downgrade base` removes the example table and `upgrade head` brings it back."""
    server_dir = request.config.acceptance.server_dir
    with _connection(target.envs[env].environ) as connection:
        config = _alembic(server_dir, connection)
        command.downgrade(config, "base")
        connection.commit()
        after_down = set(inspect(connection).get_table_names())
        command.upgrade(config, "head")
        connection.commit()
        after_up = set(inspect(connection).get_table_names())
        current = MigrationContext.configure(connection).get_current_heads()
    assert EXAMPLE_TABLE not in after_down, f"after downgrade base: {sorted(after_down)}"
    assert EXAMPLE_TABLE in after_up and current == head, f"after upgrade head: {sorted(after_up)} at {current}"
    evidence(f"{spec.SCHEMA[env]}: base -> tables {sorted(after_down)}; head -> {sorted(after_up)}")


@pytest.mark.nondestructive
@pytest.mark.parametrize("env", spec.ENVS)
def test_models_match_migrations(target, evidence, env: str) -> None:
    """Assert that autogenerate finds no difference between the models and the migrated schema."""
    from app.models import Base

    with _connection(target.envs[env].environ) as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == [], f"{spec.SCHEMA[env]}: models and migrations differ: {differences}"
    evidence(f"{spec.SCHEMA[env]}: autogenerate finds no difference")

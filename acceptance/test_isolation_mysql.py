"""Spec 2.1 / 7: each env binds to its own schema and its DB user reaches no other."""

import asyncio
import secrets

import pymysql
import pytest
from sqlalchemy import text

from acceptance import spec

pytestmark = [pytest.mark.nondestructive]


async def _bound_schema(environ: dict[str, str]) -> tuple[str, str]:
    """SELECT DATABASE() and the charset through the server's own async engine."""
    from app.core.config import load_settings
    from app.core.db import create_api_engine

    engine = create_api_engine(load_settings(environ))
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT DATABASE(), @@character_set_database"))).one()
            return str(row[0]), str(row[1])
    finally:
        await engine.dispose()


@pytest.mark.checklist("7.isolation.schema")
@pytest.mark.parametrize("env", spec.ENVS)
def test_app_binds_to_its_schema(target, evidence, env: str) -> None:
    """Assert that the env's app, through its own engine and settings, lands in spec 2.1's schema."""
    schema, charset = asyncio.run(_bound_schema(target.envs[env].environ))
    assert (schema, charset) == (spec.SCHEMA[env], spec.CHARSET)
    evidence(f"APP_ENV={env}: SELECT DATABASE() -> {schema} ({charset})")


@pytest.mark.checklist("7.isolation.mysql")
@pytest.mark.parametrize("env", spec.ENVS)
def test_db_user_reaches_no_other_schema(target, mysql_as, evidence, residue, env: str) -> None:
    """Assert that the env's DB user is denied on the other env's schema (use, read, create, drop).

    Safe on deployed hosts even if the grants were wrong: it drops only a table of its own that does
    not exist, and a probe table it managed to create is dropped again.
    """
    other = spec.SCHEMA[spec.other_env(env)]
    account = target.envs[env].db_account
    probe_table = f"`{other}`.smoke_acl_probe_{secrets.token_hex(4)}"
    residue.append(("mysql", account, probe_table))
    statements = (
        f"USE `{other}`",
        f"SELECT COUNT(*) FROM `{other}`.task_runs",
        f"CREATE TABLE {probe_table} (id INT)",
        f"DROP TABLE `{other}`.smoke_acl_probe_absent",
    )
    refusals, allowed = {}, []
    with mysql_as(account).cursor() as cursor:
        for statement in statements:
            try:
                cursor.execute(statement)
                allowed.append(statement)
            except pymysql.err.MySQLError as exc:
                refusals[statement.split()[0]] = exc.args[0]
        if f"CREATE TABLE {probe_table} (id INT)" in allowed:
            cursor.execute(f"DROP TABLE {probe_table}")
        cursor.execute("SHOW DATABASES")
        visible = {name for (name,) in cursor.fetchall()} & set(spec.SCHEMA.values())
    assert allowed == [], f"{account.user} was allowed: {allowed}"
    # 1044: access denied to database, 1142: command denied on table.
    assert set(refusals.values()) <= {1044, 1142}, refusals
    assert visible == {spec.SCHEMA[env]}
    codes = ", ".join(f"{statement} -> {code}" for statement, code in refusals.items())
    evidence(f"{account.user} on {other}: {codes}; sees {sorted(visible)}")

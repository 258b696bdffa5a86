"""Phase A: the services answer, configured by infra/ (users, schemas)."""

import pytest

from acceptance import spec

pytestmark = [pytest.mark.nondestructive]


@pytest.mark.checklist("7.isolation.redis")
@pytest.mark.parametrize("env", spec.ENVS)
def test_app_user_authenticates(target, redis_as, evidence, env: str) -> None:
    """Assert that each env's ACL user (spec 4.1: dev_user / pro_user) can log in and PING."""
    account = target.envs[env].redis_account
    assert account.user == spec.REDIS_USER[env]
    assert redis_as(account).ping() is True
    evidence(f"AUTH {account.user} + PING -> PONG")


@pytest.mark.checklist("7.resources.maxmemory")
def test_probe_user_authenticates(target, redis_as, evidence) -> None:
    """Assert that the read-only probe user can log in: smoke checks read limits through it."""
    assert redis_as(target.redis_probe).ping() is True
    evidence(f"AUTH {target.redis_probe.user} + PING -> PONG")


@pytest.mark.checklist("A.schemas")
@pytest.mark.parametrize("env", spec.ENVS)
def test_schema_exists_in_utf8mb4(target, mysql_as, evidence, env: str) -> None:
    """Assert that spec 2.1's schema of env exists with character set utf8mb4 (phase A)."""
    with mysql_as(target.envs[env].db_account).cursor() as cursor:
        cursor.execute("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                       (spec.SCHEMA[env],))
        found = cursor.fetchall()
    assert found == ((spec.CHARSET,),), f"schema {spec.SCHEMA[env]}: {found or 'absent'}"
    evidence(f"{spec.SCHEMA[env]} exists, {found[0][0]}")

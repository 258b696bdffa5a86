"""The run's last check: nothing it created remains (a smoke run against deployed hosts leaves no trace)."""

import pytest
import redis

pytestmark = [pytest.mark.nondestructive, pytest.mark.runs_last, pytest.mark.checklist("7.isolation.redis")]


def test_run_left_nothing_behind(residue, redis_as, mysql_as, evidence) -> None:
    """Assert that no key or table a check created (or might have, through a broken ACL) still exists."""
    remaining = []
    for kind, account, name in residue:
        if kind == "redis":
            try:
                if redis_as(account).exists(name):
                    remaining.append(f"redis key {name}")
            except redis.exceptions.NoPermissionError:
                continue  # the ACL that hides the key from this user kept it from writing it too
        else:
            schema, table = (part.strip("`") for part in name.split(".", 1))
            with mysql_as(account).cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                               "AND TABLE_NAME = %s", (schema, table))
                if cursor.fetchone()[0]:
                    remaining.append(f"table {name}")
    assert remaining == [], f"left behind: {remaining}"
    evidence(f"{len(residue)} keys and tables the run created or probed: none remains")

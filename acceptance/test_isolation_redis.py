"""Spec 2.2 / 4.1 / 7: each env's Redis user reaches its own prefix only; the default user is off."""

import pytest
import redis

from acceptance import spec
from acceptance.probes import denial, no_retry, refused_with

pytestmark = [pytest.mark.checklist("7.isolation.redis")]

# DEBUG is off for every user unless enable-debug-command says otherwise: that refusal counts too.
DENIED = {"NOPERM", "DISABLED"}
# Probe keys live under <prefix>smoke: with a short TTL: a broken ACL leaves nothing lasting.
PROBE_TTL = "30"
KEY_COMMANDS = (
    ("GET", "{key}"), ("SET", "{key}", "x", "EX", PROBE_TTL), ("DEL", "{key}"), ("EXPIRE", "{key}", PROBE_TTL),
    ("LPUSH", "{key}", "x"), ("RPOP", "{key}"), ("LLEN", "{key}"), ("HSET", "{key}", "f", "x"),
    ("INCR", "{key}"), ("EXISTS", "{key}"), ("MGET", "{key}"),
)
# Read-only or harmless when wrongly allowed: safe against deployed hosts.
INSPECTION_COMMANDS = (
    ("KEYS", "*"), ("SCAN", "0"), ("CONFIG", "GET", "maxmemory"), ("ACL", "LIST"), ("ACL", "GETUSER", "admin"),
    ("INFO",), ("CLIENT", "LIST"), ("DEBUG", "SLEEP", "0"), ("MONITOR",), ("RANDOMKEY",), ("DBSIZE",),
)
# Harmful when wrongly allowed: only against throwaway services.
DESTRUCTIVE_COMMANDS = (
    ("FLUSHALL",), ("FLUSHDB",), ("SHUTDOWN", "NOSAVE"), ("ACL", "SETUSER", "intruder", "on", ">x", "+@all", "~*"),
    ("CONFIG", "SET", "maxmemory", "0"), ("SAVE",), ("BGSAVE",), ("BGREWRITEAOF",), ("SCRIPT", "FLUSH"),
    ("FUNCTION", "FLUSH"), ("SWAPDB", "0", "1"), ("REPLICAOF", "127.0.0.1", "1"), ("CLIENT", "KILL", "TYPE", "normal"),
    ("EVAL", "return redis.call('flushall')", "0"),
)


def _probe_key(prefix: str, token: str) -> str:
    return f"{prefix}smoke:acl-probe:{token}"


def _cleanup(client: redis.Redis, key: str) -> None:
    """If the ACL wrongly let a write through, undo it (the same broken ACL allows the DEL)."""
    try:
        client.delete(key)
    except redis.exceptions.ResponseError:
        pass


def _assert_key_commands_denied(account, key, redis_as, residue, request, evidence) -> None:  # noqa: ANN001
    """Every command of KEY_COMMANDS on `key` as `account` gets NOPERM; a write that got through is undone."""
    client = redis_as(account)
    residue.append(("redis", account, key))
    request.addfinalizer(lambda: _cleanup(client, key))
    refusals = {command[0]: refused_with(denial(client, *(part.format(key=key) for part in command)))
                for command in KEY_COMMANDS}
    assert refusals == {command[0]: "NOPERM" for command in KEY_COMMANDS}, f"on {key}"
    evidence(f"{account.user} on {key}: {len(refusals)} commands -> NOPERM")


@pytest.mark.nondestructive
@pytest.mark.parametrize("env", spec.ENVS)
def test_cannot_touch_other_envs_keys(target, redis_as, evidence, residue, env: str, request) -> None:
    """Assert that env's Redis user gets NOPERM for every key command on the other env's prefix (spec 7).

    dev's credentials cannot read or write pro:*, and the reverse: GET, SET, DEL, EXPIRE, LPUSH, ...
    """
    key = _probe_key(spec.KEY_PREFIX[spec.other_env(env)], request.node.name)
    _assert_key_commands_denied(target.envs[env].redis_account, key, redis_as, residue, request, evidence)


@pytest.mark.nondestructive
@pytest.mark.parametrize("env", spec.ENVS)
def test_cannot_touch_unprefixed_keys(target, redis_as, evidence, residue, env: str, request) -> None:
    """Assert that env's Redis user gets NOPERM on keys without any env prefix (spec 4.3)."""
    key = f"smoke:acl-probe:{request.node.name}"
    _assert_key_commands_denied(target.envs[env].redis_account, key, redis_as, residue, request, evidence)


@pytest.mark.nondestructive
def test_default_user_is_off(target, redis_as, evidence) -> None:
    """Assert that the default user can neither authenticate nor run a command (spec 4.1)."""
    # RESP2: no HELLO handshake, so each command meets the server unauthenticated, as is.
    anonymous = redis.Redis(host=target.redis.host, port=target.redis.port, socket_timeout=5,
                            decode_responses=True, protocol=2, retry=no_retry())
    with anonymous:
        refusals = {name: refused_with(denial(anonymous, name, *args))
                    for name, *args in (("PING",), ("GET", "dev:x"), ("SET", "pro:x", "1", "EX", "5"))}
        try:
            anonymous.execute_command("AUTH", spec.DEFAULT_REDIS_USER, "any-password")
        except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError) as exc:
            refusals["AUTH default"] = refused_with(str(exc))
    assert refusals == {"PING": "NOAUTH", "GET": "NOAUTH", "SET": "NOAUTH", "AUTH default": "WRONGPASS"}
    evidence("without AUTH: PING, GET, SET -> NOAUTH; AUTH default -> WRONGPASS")


def _denial_table(target, redis_as, commands) -> dict[tuple[str, str], str]:  # noqa: ANN001
    table = {}
    for env in spec.ENVS:
        account = target.envs[env].redis_account
        for command in commands:
            # A fresh connection per command: a wrongly allowed MONITOR or CLIENT KILL spoils the socket.
            client = redis_as(account)
            table[(account.user, " ".join(command[:2]))] = refused_with(denial(client, *command))
    return table


@pytest.mark.nondestructive
def test_app_users_cannot_inspect(target, redis_as, evidence) -> None:
    """Assert that no app user can list keys or read server state (KEYS, SCAN, CONFIG, ACL, INFO, ...).

    With these, dev_user would see prod's key names even where it cannot read them.
    """
    table = _denial_table(target, redis_as, INSPECTION_COMMANDS)
    assert {cell: refusal for cell, refusal in table.items() if refusal not in DENIED} == {}
    evidence(f"{len(table)} cells (command x user): {sorted(set(table.values()))}")


@pytest.mark.destructive
def test_app_users_cannot_run_admin_commands(target, redis_as, evidence) -> None:
    """Assert that no app user can run a dangerous or admin command: a table of command x user, all NOPERM."""
    table = _denial_table(target, redis_as, DESTRUCTIVE_COMMANDS)
    assert {cell: refusal for cell, refusal in table.items() if refusal not in DENIED} == {}
    evidence(f"{len(table)} cells (command x user): {sorted(set(table.values()))}")


@pytest.mark.nondestructive
@pytest.mark.parametrize("env", spec.ENVS)
def test_cannot_use_other_envs_channels(target, redis_as, evidence, env: str) -> None:
    """Assert that env's user can neither publish nor subscribe on the other env's channels."""
    other = spec.KEY_PREFIX[spec.other_env(env)]
    client = redis_as(target.envs[env].redis_account)
    refusals = {
        "PUBLISH": refused_with(denial(client, "PUBLISH", f"{other}smoke:channel", "x")),
        "SUBSCRIBE": _subscribe_refusal(client, "subscribe", f"{other}smoke:channel"),
        "PSUBSCRIBE": _subscribe_refusal(client, "psubscribe", f"{other}*"),
    }
    assert refusals == {"PUBLISH": "NOPERM", "SUBSCRIBE": "NOPERM", "PSUBSCRIBE": "NOPERM"}
    evidence(f"{spec.REDIS_USER[env]} on {other}* channels: PUBLISH, SUBSCRIBE, PSUBSCRIBE -> NOPERM")


def _subscribe_refusal(client: redis.Redis, method: str, channel: str) -> str:
    pubsub = client.pubsub()
    try:
        getattr(pubsub, method)(channel)
        message = pubsub.get_message(timeout=2)
    except redis.exceptions.ResponseError as exc:
        return refused_with(str(exc))
    finally:
        pubsub.close()
    raise AssertionError(f"{method.upper()} {channel}: allowed (first message {message!r}), expected NOPERM")

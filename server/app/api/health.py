"""Liveness and readiness."""

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, str]:
    """Liveness: the process serves requests. No I/O."""
    return {"status": "ok", "env": request.app.state.settings.app_env}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: MySQL answers SELECT 1 and Redis answers PING, each within the timeout."""
    state = request.app.state
    probes = {"mysql": lambda: _select_one(state.engine), "redis": state.redis.ping}
    results = await asyncio.gather(
        *(_probe(probe, state.settings.readiness_timeout_seconds) for probe in probes.values())
    )
    checks = dict(zip(probes, results, strict=True))
    failed = sorted(name for name, result in checks.items() if result != "ok")
    body = {"status": "unavailable" if failed else "ready", "env": state.settings.app_env, "checks": checks}
    if failed:
        body["failed"] = failed
    return JSONResponse(body, status_code=503 if failed else 200)


async def _select_one(engine) -> None:  # noqa: ANN001 - AsyncEngine
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _probe(probe: Callable[[], Awaitable[object]], timeout: float) -> str:
    try:
        await asyncio.wait_for(probe(), timeout)
    except TimeoutError:
        return f"timeout after {timeout:g}s"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; its class names it
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}".rstrip(": ")
    return "ok"

"""The API: `uvicorn app.main:app` from server/."""

from app.core.config import settings_or_exit

# A broken configuration stops the process here, before anything else is imported or contacted.
settings = settings_or_exit()

from collections.abc import AsyncIterator  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402

from fastapi import FastAPI  # noqa: E402
from sqlalchemy.ext.asyncio import async_sessionmaker  # noqa: E402

from app.api import health, tasks  # noqa: E402
from app.core.db import create_api_engine  # noqa: E402
from app.core.redis import create_async_redis  # noqa: E402


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Clients connect lazily: the API starts even while a dependency is down (readyz says so).
    app.state.settings = settings
    app.state.engine = create_api_engine(settings)
    app.state.sessions = async_sessionmaker(app.state.engine, expire_on_commit=False)
    app.state.redis = create_async_redis(settings)
    try:
        yield
    finally:
        await app.state.redis.aclose()
        await app.state.engine.dispose()


app = FastAPI(title="mindfulness", lifespan=lifespan)
app.include_router(health.router)
app.include_router(tasks.router)

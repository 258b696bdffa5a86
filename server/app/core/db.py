"""Database engines: async for the API, sync (same DATABASE_URL) for the worker and Alembic."""

from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.config import Settings, async_database_url, sync_database_url

CONNECT_TIMEOUT_SECONDS = 5


def create_api_engine(settings: Settings) -> AsyncEngine:
    # pre_ping: a connection that died with a MySQL restart is replaced, not handed out.
    return create_async_engine(
        async_database_url(settings),
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


def create_worker_engine(settings: Settings) -> Engine:
    return create_engine(
        sync_database_url(settings),
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )

"""Database engines: async for the API, sync (same DATABASE_URL) for the worker and Alembic."""

from sqlalchemy import URL, Engine, create_engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.config import Settings

CONNECT_TIMEOUT_SECONDS = 5


def sync_database_url(settings: Settings) -> URL:
    """The DATABASE_URL with the sync driver, for the worker and Alembic."""
    return _with_driver(settings, "mysql+pymysql")


def async_database_url(settings: Settings) -> URL:
    """The DATABASE_URL with the async driver, for the API."""
    return _with_driver(settings, "mysql+aiomysql")


def _with_driver(settings: Settings, driver: str) -> URL:
    url = make_url(settings.database_url.get_secret_value()).set(drivername=driver)
    return url.update_query_dict({"charset": "utf8mb4"})


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

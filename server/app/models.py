"""Tables of the env's schema. Alembic's migrations must match these (autogenerate finds nothing)."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class TaskRun(Base):
    """One row per run of the example task: which id it was given, in which env, when."""

    __tablename__ = "task_runs"
    __table_args__ = (Index("ix_task_runs_item_id", "item_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    env: Mapped[str] = mapped_column(String(8), nullable=False)
    task_id: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False, server_default=func.now())

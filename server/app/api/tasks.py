"""Queue the example task over HTTP: the API's publish path."""

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from app.core.payload import TaskPayloadTooLarge
from app.publish import PublishError, publish

router = APIRouter(prefix="/tasks", tags=["tasks"])


class ItemRef(BaseModel):
    item_id: int = Field(ge=0)


class Queued(BaseModel):
    task_id: str


@router.post("/record-item", status_code=status.HTTP_202_ACCEPTED)
def queue_record_item(item: ItemRef) -> Queued:
    """Queue app.tasks.record_item. 503 when the broker is full or down, naming which."""
    try:
        return Queued(task_id=publish("app.tasks.record_item", item.item_id))
    except TaskPayloadTooLarge as exc:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, str(exc)) from exc
    except PublishError as exc:  # BrokerFull or BrokerUnavailable: the message names which
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc

"""The Celery app: `celery -A app.worker worker` and `celery -A app.worker beat`, from server/.

Every broker key and pub/sub channel lands under the env's prefix (kombu `global_keyprefix`), so the
queue `push` lives at `dev:push` / `pro:push` and the env's ACL user can reach all of it.
"""

from app.core.config import settings_or_exit

# A broken configuration stops the process here, before anything else is imported or contacted.
settings = settings_or_exit()

from app.core.celery_app import create_celery_app  # noqa: E402

celery_app = create_celery_app(settings)

"""The Celery app: `celery -A app.worker worker` and `celery -A app.worker beat`, from server/.

Every broker key and pub/sub channel lands under the env's prefix (kombu `global_keyprefix`), so the
queue `push` lives at `dev:push` / `pro:push` and the env's ACL user can reach all of it.
"""

from app.core.celery_app import create_celery_app
from app.core.config import settings_or_exit

settings = settings_or_exit()
celery_app = create_celery_app(settings)

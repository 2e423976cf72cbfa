import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_personal_information(logger, **kwargs) -> None:
    """A worker replaces the root logger's handlers with its own (and gives the task logger
    others): put the filter that masks 身份证号 and 手机号 on each of them, as settings.LOGGING
    does for the web processes."""
    from grids.pii_logging import RedactPersonalInformation

    for handler in logger.handlers:
        if not any(isinstance(f, RedactPersonalInformation) for f in handler.filters):
            handler.addFilter(RedactPersonalInformation())

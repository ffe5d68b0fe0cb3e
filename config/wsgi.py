import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django.setup(set_prefix=False)

# Django's handler, with the event-receiving endpoints served without URL resolution and middleware
from ingestion.receive import Handler  # noqa: E402

application = Handler()

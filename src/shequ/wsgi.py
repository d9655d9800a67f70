import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")
application = get_wsgi_application()

# Each worker loads its URLconf and reference data before it serves (shequ.core.warmup).
if os.environ.get("SHEQU_WARM_UP", "1") != "0":
    from shequ.core.warmup import warm_up

    warm_up()

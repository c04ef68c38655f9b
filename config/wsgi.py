"""WSGI entry point (gunicorn config.wsgi): Django's application, with readers' pages kept in
the page cache answered in front of it (papers/fastpath.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from papers.fastpath import StoredPages  # noqa: E402 (needs the settings, loaded above)

application = StoredPages(django_application)

"""The site's URLs plus a view that fails, for the error-page tests (R25)."""

from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as site_patterns

__all__ = ["handler404", "handler500", "urlpatterns"]


def broken(request):
    raise RuntimeError("boom: SECRET detail from deep inside a view")


urlpatterns = [path("broken/", broken), *site_patterns]

"""/api/v1/: the API's operations and schema (django-ninja), and the page documenting them."""

from django.urls import path

from papers.api import docs
from papers.api.endpoints import api

app_name = "api"
operations = api.urls[0]
# django-ninja marks its views CSRF-exempt, for APIs that take writes with their own auth. This
# one takes no write: papers/api/edge.py answers 405 to any, before the CSRF check runs, and no
# view of the project is exempt from it (tests/test_security.py).
for pattern in operations:
    vars(pattern.callback).pop("csrf_exempt", None)

urlpatterns = [path("docs/", docs.docs, name="docs"), *operations]

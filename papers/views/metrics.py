"""/metrics for Prometheus: answered only to a bearer token (STANDPOINT_METRICS_TOKEN) or an
address in STANDPOINT_METRICS_ALLOW; everyone else gets the 404 any unknown address gets, so the
page does not say it exists."""

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from papers import metrics


@never_cache
def scrape(request):
    if not _allowed(request):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


def _allowed(request):
    token = settings.STANDPOINT_METRICS_TOKEN
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(offered, token):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.STANDPOINT_METRICS_ALLOW)

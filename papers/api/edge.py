"""The API's HTTP edge, for every address under /api/: cross-origin reads, read-only methods,
validators and conditional requests, and errors in JSON.

- Any origin may read (Access-Control-Allow-Origin: *, never with credentials: the API shows
  only what every reader may see); a preflight OPTIONS is answered here.
- Other methods than GET, HEAD and OPTIONS get 405 here, before CSRF protection could call a
  write the API does not have a forgery.
- HEAD is answered as GET without the body.
- A 200 gets a weak ETag of its bytes (the JSON is the same whatever the coding) and a minute
  of freshness, as readers' pages have; If-None-Match then gets a 304.
- An address under /api/v1/ that names nothing gets a JSON 404, as the API's own 404s are.
"""

import hashlib

from django.http import HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers

PREFIX = "/api/"
READ_METHODS = ("GET", "HEAD", "OPTIONS")
ALLOW = ", ".join(READ_METHODS)
# What a cross-origin script may send and read beyond the CORS-safelisted headers.
REQUEST_HEADERS = "If-None-Match, If-Modified-Since"
EXPOSED_HEADERS = "ETag, Retry-After"
PREFLIGHT_MAX_AGE = 86400
MAX_AGE = 60


class APIEdgeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = ALLOW
            response["Access-Control-Allow-Headers"] = REQUEST_HEADERS
            response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        elif request.method not in READ_METHODS:
            response = JsonResponse(
                {"detail": f"The API is read-only: {request.method} is not allowed."}, status=405
            )
        else:
            head = request.method == "HEAD"
            if head:
                request.method = "GET"
            response = _conditional(request, _json_not_found(self.get_response(request)))
            if head:
                request.method = "HEAD"
                response.content = b""
        response["Allow"] = ALLOW
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response


def _json_not_found(response):
    if response.status_code == 404 and not response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return JsonResponse({"detail": "Nothing is published at this address."}, status=404)
    return response


def _conditional(request, response):
    if response.status_code != 200 or response.streaming:
        return response
    etag = f'W/"{hashlib.sha256(response.content).hexdigest()[:32]}"'
    conditional = get_conditional_response(request, etag=etag)
    if conditional is not None and conditional.status_code != 304:
        return conditional  # a failed If-Match
    if conditional is not None:
        if response.has_header("Vary"):
            conditional["Vary"] = response["Vary"]
        response = conditional
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    patch_vary_headers(response, ["Accept-Encoding"])
    return response

"""The bare view of the benchmark: N bytes from memory, through the same middleware stack.

N is the `bytes` parameter (run.py asks for the size of each page it measures). Only the bench
URLconf that run.py writes into its temporary directory routes to it; the project's own URLconf
never does.
"""

from django.http import HttpResponse

PAYLOAD = b"<!doctype html><title>bare</title>" + b"x" * 10_000_000
_SIZED = {}  # one bytes object per size, so that no request copies its body


def bare_view(request):
    size = min(int(request.GET.get("bytes", "50000")), len(PAYLOAD))
    body = _SIZED.setdefault(size, PAYLOAD[:size])
    return HttpResponse(body, content_type="text/html; charset=utf-8")

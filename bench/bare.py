"""The bare view of the benchmark: N bytes from memory, through the same middleware stack.

N comes from BENCH_BARE_BYTES (run.py sets it to the size of the large paper's page). Only the
bench URLconf that run.py writes into its temporary directory routes to it; the project's own
URLconf never does.
"""

import os

from django.http import HttpResponse

PAYLOAD = (b"<!doctype html><title>bare</title>" + b"x" * 10_000_000)[
    : int(os.environ.get("BENCH_BARE_BYTES", "50000"))
]


def bare_view(request):
    return HttpResponse(PAYLOAD, content_type="text/html; charset=utf-8")

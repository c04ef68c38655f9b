"""Metrics for Prometheus, for operators: how long requests take by view, how often the readers'
page cache answers, how deep the task queue is and which tasks failed (purges among them).

Requests and the page cache are counted in each process (with PROMETHEUS_MULTIPROC_DIR set,
gunicorn's workers share them through files there). Tasks are counted from the queue's table at
each scrape, so the figures are the same whichever server is asked and include every worker's.
`/metrics` answers only a bearer token or an allow-listed address (papers/views/metrics.py).
"""

import os
import time

from django.conf import settings
from django.db.models import Count
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

# Down to a millisecond: a page from the cache takes a fraction of one.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# What a request that no view answered is counted as.
PAGE_CACHE_VIEW = "page-cache"
UNRESOLVED_VIEW = "unresolved"

requests = Histogram(
    "standpoint_request_seconds",
    "Time to answer a request, by view (page-cache: a stored readers' page) and method.",
    ["view", "method"],
    buckets=BUCKETS,
)
page_cache = Counter(
    "standpoint_page_cache_lookups",
    "Lookups of readers' pages in the page cache, by result (hit or miss).",
    ["result"],
)


class RequestTimingMiddleware:
    """Outermost: times every request, those answered from the page cache included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        if match is not None:
            view = match.view_name
        elif getattr(request, "from_page_cache", False):
            view = PAGE_CACHE_VIEW
        else:
            view = UNRESOLVED_VIEW
        observe_request(view, request.method, started)
        return response


def observe_request(view, method, started):
    """Count a request to `view` that started at `started` (time.perf_counter())."""
    requests.labels(view, method).observe(time.perf_counter() - started)


def count_lookup(hit):
    page_cache.labels("hit" if hit else "miss").inc()


class TaskCollector:
    """Tasks in the database queue by task and status, read at each scrape: READY rows are the
    queue's depth, FAILED ones the failures kept for editors to retry."""

    def describe(self):
        return [self._family()]

    def collect(self):
        from django_tasks_db.models import DBTaskResult

        family = self._family()
        rows = DBTaskResult.objects.order_by().values_list("task_path", "status")
        for task, status, count in rows.annotate(count=Count("pk")):
            family.add_metric([task, status], count)
        yield family

    def _family(self):
        return GaugeMetricFamily(
            "standpoint_tasks",
            "Background tasks stored in the database queue, by task and status.",
            labels=["task", "status"],
        )


def exposition():
    """The text Prometheus reads: this server's (or, in multiprocess mode, every worker's)
    request and page-cache figures, then the queue's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        text = generate_latest(processes)
    else:
        from prometheus_client import REGISTRY

        text = generate_latest(REGISTRY)
    if settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend":
        queue = CollectorRegistry()
        queue.register(TaskCollector())
        text += generate_latest(queue)
    return text

"""/metrics: Prometheus' figures for operators (requests by view, the page cache, the task queue),
shown only to a bearer token or an allow-listed address."""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from papers import notifications

pytestmark = pytest.mark.django_db

TOKEN = "a-metrics-token-for-tests-only"


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.STANDPOINT_METRICS_TOKEN = TOKEN
    settings.STANDPOINT_METRICS_ALLOW = []


def scrape(client=None, **headers):
    client = client or Client()
    return client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}", **headers})


def samples(response):
    """{(name, frozenset(labels)): value} of an exposition."""
    text = response.content.decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(response, name, **labels):
    return samples(response).get((name, frozenset(labels.items())), 0)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "],
)
def test_without_the_token_it_is_a_404(authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = Client().get("/metrics", headers=headers)
    assert response.status_code == 404
    assert "standpoint_" not in response.content.decode()


def test_without_a_token_configured_nobody_gets_it(settings):
    settings.STANDPOINT_METRICS_TOKEN = ""
    assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_other_methods_are_refused_to_the_token_alone():
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert Client().post("/metrics", headers=headers).status_code == 405
    assert Client().post("/metrics").status_code == 404


def test_signed_in_editors_get_a_404_too(editor_client):
    assert editor_client.get("/metrics").status_code == 404


def test_an_allow_listed_address_gets_it_without_a_token(settings):
    import ipaddress

    settings.STANDPOINT_METRICS_ALLOW = [ipaddress.ip_network("10.1.0.0/16")]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.2.0.1").get("/metrics").status_code == 404


def test_the_token_gets_the_exposition_uncached():
    response = scrape()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_requests_are_timed_by_view(published):
    before = scrape()
    Client().get("/papers/draft-on-deterrence/")
    after = scrape()
    name = "standpoint_request_seconds_count"
    labels = {"view": "papers:detail", "method": "GET"}
    assert value(after, name, **labels) == value(before, name, **labels) + 1


def test_the_page_cache_counts_a_miss_then_a_hit(published):
    before = scrape()
    reader = Client()
    assert reader.get("/papers/draft-on-deterrence/").status_code == 200
    assert reader.get("/papers/draft-on-deterrence/").status_code == 200
    after = scrape()
    name = "standpoint_page_cache_lookups_total"
    for result in ("miss", "hit"):
        assert value(after, name, result=result) == value(before, name, result=result) + 1
    # The stored page's request is counted under the page cache, not under a view.
    cached = {"view": "page-cache", "method": "GET"}
    count = "standpoint_request_seconds_count"
    assert value(after, count, **cached) == value(before, count, **cached) + 1


def test_the_task_queue_shows_its_depth_by_task(
    settings, draft, reviewer, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    task = "papers.notifications.send_email"
    before = value(scrape(), "standpoint_tasks", task=task, status="READY")
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify("assigned", draft, [reviewer])
    after = scrape()
    assert value(after, "standpoint_tasks", task=task, status="READY") == before + 1

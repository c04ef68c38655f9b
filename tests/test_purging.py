"""Which changes purge which tags from a shared HTTP cache, only after they commit, retried when
the cache fails and never at the cost of the change (papers/purging.py). The backends' requests
go to a real HTTP server on 127.0.0.1 that records them, and to a real Varnish."""

import datetime
import json
import os
import subprocess
import sys
import threading
import urllib.request
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client

from papers import purging, workflow
from papers.models import Paper, Tag, Version
from papers.workflow import WorkflowError
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, TagFactory, approved

pytestmark = pytest.mark.django_db

LISTS = {"list:papers", "list:claims", "list:tags", "list:corrections", "list:forecasts"}
PURGE = "papers.purging.purge_pages"


class Recorder(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records every request and answers `status`/`body`."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.requests = []
        self.status = 200
        self.body = b"Purged."

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_port}/"

    def keys(self):
        """Every key the recorded Varnish purges named."""
        return {key for r in self.requests for key in r.headers["xkey-purge"].split(" ")}


class RecordingHandler(BaseHTTPRequestHandler):
    def answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(Recorded(self.command, self.path, self.headers, body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    do_GET = do_POST = do_PURGE = answer

    def log_message(self, *args):
        pass


class Recorded:
    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body


@pytest.fixture
def recorder():
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def use_backend(settings, backend, **config):
    settings.STANDPOINT_PURGE = {**settings.STANDPOINT_PURGE, "BACKEND": backend, **config}


@pytest.fixture
def varnish(settings, recorder):
    use_backend(settings, "varnish", VARNISH_URLS=[recorder.url])
    return recorder


def publish_harbours(editor):
    """'harbours' published, tagged 'nato' on the paper and 'ports' on its one claim."""
    paper = PaperFactory(slug="harbours", title="Harbours of the Baltic")
    paper.tags.set([TagFactory(slug="nato")])
    section = SectionFactory(paper=paper, body="Harbours are deep here. They freeze rarely.")
    claim = ClaimFactory(section=section, quote="Harbours are deep here.")
    claim.tags.set([TagFactory(slug="ports")])
    workflow.publish_paper(approved(paper), by=editor)
    paper.refresh_from_db()
    return paper


def claim_key(paper):
    return f"claim:{paper.claims.get().public_id}"


def test_publishing_purges_the_paper_its_claims_its_tags_and_the_lists(
    varnish, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        paper = publish_harbours(editor)
    [request] = varnish.requests
    assert (request.method, request.path) == ("PURGE", "/")
    assert varnish.keys() == {
        "paper:harbours",
        claim_key(paper),
        "tag:nato",
        "tag:ports",
        "list:papers",
        "list:claims",
        "list:tags",
        "list:forecasts",
    }


def test_a_correction_purges_the_claims_of_every_version_and_the_corrections_log(
    varnish, editor, django_capture_on_commit_callbacks
):
    paper = publish_harbours(editor)
    first = claim_key(paper)
    paper.claims.all().delete()
    ClaimFactory(section=paper.sections.get(), quote="They freeze rarely.")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish_correction(paper, by=editor, note="The claim was the wrong one.")
    # The old claim's page lists the new version; the new claim's page is new.
    assert varnish.keys() == {
        "paper:harbours",
        first,
        claim_key(paper),
        "tag:nato",
        "tag:ports",
        *LISTS,
    }


def test_a_withdrawal_purges_every_page_of_the_paper_and_every_list(
    varnish, editor, django_capture_on_commit_callbacks
):
    paper = publish_harbours(editor)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw_paper(paper, by=editor, reason="The soundings were wrong.")
    assert varnish.keys() == {"paper:harbours", claim_key(paper), "tag:nato", "tag:ports", *LISTS}


def test_a_new_slug_purges_the_old_address_the_new_one_and_every_page_linking_to_it(
    varnish, editor, editor_client, django_capture_on_commit_callbacks
):
    paper = publish_harbours(editor)
    form = {
        "opened_version": paper.lock_version,
        "title": paper.title,
        "slug": "baltic-harbours",
        "standfirst": paper.standfirst,
        "byline": paper.byline,
        "tags": [tag.pk for tag in paper.tags.all()],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(f"/admin/papers/paper/{paper.pk}/change/", form)
    assert response.status_code == 302
    assert varnish.keys() == {
        "paper:harbours",
        "paper:baltic-harbours",
        claim_key(paper),
        "tag:nato",
        "tag:ports",
        *LISTS,
    }


def test_an_edit_that_keeps_the_slug_purges_nothing(
    varnish, editor, editor_client, django_capture_on_commit_callbacks
):
    paper = publish_harbours(editor)
    form = {
        "opened_version": paper.lock_version,
        "title": "Harbours, a draft title",
        "slug": "harbours",
        "standfirst": paper.standfirst,
        "byline": paper.byline,
        "tags": [tag.pk for tag in paper.tags.all()],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(f"/admin/papers/paper/{paper.pk}/change/", form)
    assert response.status_code == 302
    assert varnish.requests == []  # readers still see the published title


def test_a_tag_edit_purges_its_pages_old_and_new_and_every_published_page_showing_it(
    varnish, editor, editor_client, django_capture_on_commit_callbacks
):
    paper = publish_harbours(editor)
    unpublished = PaperFactory(slug="not-yet")
    unpublished.tags.set([Tag.objects.get(slug="ports")])
    tag = Tag.objects.get(slug="ports")
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(
            f"/admin/papers/tag/{tag.pk}/change/",
            {"name": "Sea ports", "slug": "sea-ports", "description": ""},
        )
    # The claim carries the tag: its page and its paper's pages show it. The draft shows nowhere.
    assert varnish.keys() == {
        "tag:ports",
        "tag:sea-ports",
        "paper:harbours",
        claim_key(paper),
        *LISTS,
    }


def test_deleting_a_tag_purges_the_pages_that_showed_it(
    varnish, editor, editor_client, django_capture_on_commit_callbacks
):
    publish_harbours(editor)
    tag = Tag.objects.get(slug="nato")
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(f"/admin/papers/tag/{tag.pk}/delete/", {"post": "yes"})
    assert not Tag.objects.filter(slug="nato").exists()
    assert varnish.keys() == {"tag:nato", "paper:harbours", *LISTS}


def test_a_forecast_resolved_purges_its_papers_pages_its_claim_and_the_lists_showing_it(
    varnish, editor, other_editor, django_capture_on_commit_callbacks
):
    paper = publish_harbours(editor)
    claim = paper.claims.get()
    claim.kind, claim.due = "predictive", datetime.date(2020, 1, 1)
    claim.save()
    workflow.publish_correction(paper, by=editor, note="The claim is a forecast.")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.resolve_forecast(claim, by=other_editor, outcome="came_true", note="It held.")
    assert varnish.keys() == {
        "paper:harbours",
        claim_key(paper),
        "list:claims",
        "list:forecasts",
    }


def test_nothing_is_purged_before_the_change_commits(
    varnish, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish_harbours(editor)
    assert varnish.requests == []
    for callback in callbacks:
        callback()
    assert len(varnish.requests) == 1


def test_a_change_rolled_back_purges_nothing(varnish, editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            publish_harbours(editor)
            raise RuntimeError("the request failed after publishing")
        draft = PaperFactory(slug="unreviewed")
        with pytest.raises(WorkflowError):
            workflow.publish_paper(draft, by=editor)  # not approved: refused
    assert varnish.requests == []
    assert not Version.objects.exists()


def test_without_a_shared_cache_no_purge_is_queued(recorder, editor, task_queue):
    publish_harbours(editor)
    assert task_queue.results(task_path=PURGE) == []
    assert recorder.requests == []


def test_a_failed_purge_is_retried_later_and_the_publication_stands(
    varnish, editor, task_queue, django_capture_on_commit_callbacks
):
    varnish.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        publish_harbours(editor)
    task_queue.run()
    [failed] = task_queue.results(status="FAILED", task_path=PURGE)
    assert "PurgeFailed" in failed.exception_class_path
    assert [task.task_path for task in task_queue.waiting()] == [PURGE]
    # Readers have the new paper all the same.
    assert Paper.objects.get(slug="harbours").live_version.number == 1
    assert Client().get("/papers/harbours/").status_code == 200

    varnish.status = 200
    task_queue.make_due()
    task_queue.run()
    assert len(task_queue.results(status="SUCCESSFUL", task_path=PURGE)) == 1
    assert len(varnish.requests) == 2
    assert "paper:harbours" in varnish.requests[-1].headers["xkey-purge"]


def test_an_unreachable_cache_fails_the_attempt(settings, editor, task_queue):
    use_backend(settings, "varnish", VARNISH_URLS=["http://127.0.0.1:9/"])
    with pytest.raises(purging.PurgeFailed):
        purging.backend().purge(["paper:harbours"])


def test_the_purge_waits_until_every_server_reads_the_new_revision(
    varnish, settings, editor, task_queue, django_capture_on_commit_callbacks
):
    settings.STANDPOINT_PAGE_REVISION_MS = 1000
    with django_capture_on_commit_callbacks(execute=True):
        publish_harbours(editor)
    task_queue.run()
    assert varnish.requests == []  # an app server may still render the old page for a second
    assert [task.task_path for task in task_queue.waiting()] == [PURGE]
    task_queue.make_due()
    task_queue.run()
    assert len(varnish.requests) == 1


def test_many_keys_go_to_varnish_in_several_requests(varnish):
    purging.backend().purge([f"claim:{n}" for n in range(250)])
    assert [len(r.headers["xkey-purge"].split(" ")) for r in varnish.requests] == [100, 100, 50]


def test_every_varnish_is_purged(settings, recorder):
    use_backend(settings, "varnish", VARNISH_URLS=[recorder.url, recorder.url + "second"])
    purging.backend().purge(["paper:harbours"])
    assert [r.path for r in recorder.requests] == ["/", "/second"]


# --- Cloudflare and CloudFront, as they are configured in docs/deploy.md -------------------


@pytest.fixture
def cloudflare(settings, recorder):
    recorder.body = json.dumps({"success": True, "errors": [], "result": {"id": "zone-1"}}).encode()
    use_backend(
        settings,
        "cloudflare",
        CLOUDFLARE_API_URL=recorder.url + "client/v4",
        CLOUDFLARE_ZONE_ID="zone-1",
        CLOUDFLARE_API_TOKEN="secret-token",
    )
    return recorder


def test_cloudflare_purges_the_tags_of_a_publication(
    cloudflare, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        paper = publish_harbours(editor)
    [request] = cloudflare.requests
    assert (request.method, request.path) == ("POST", "/client/v4/zones/zone-1/purge_cache")
    assert request.headers["Authorization"] == "Bearer secret-token"
    assert request.headers["Content-Type"] == "application/json"
    assert set(json.loads(request.body)["tags"]) == {
        "paper:harbours",
        claim_key(paper),
        "tag:nato",
        "tag:ports",
        "list:papers",
        "list:claims",
        "list:tags",
        "list:forecasts",
    }


def test_cloudflare_takes_thirty_tags_a_call(cloudflare):
    purging.backend().purge([f"claim:{n}" for n in range(70)])
    assert [len(json.loads(r.body)["tags"]) for r in cloudflare.requests] == [30, 30, 10]


def test_a_cloudflare_refusal_fails_the_purge(cloudflare):
    cloudflare.body = json.dumps({"success": False, "errors": [{"code": 10000}]}).encode()
    with pytest.raises(purging.PurgeFailed):
        purging.backend().purge(["paper:harbours"])


@pytest.fixture
def cloudfront(settings, recorder):
    use_backend(
        settings,
        "cloudfront",
        CLOUDFRONT_API_URL=recorder.url.rstrip("/"),
        CLOUDFRONT_DISTRIBUTION_ID="E2EXAMPLE",
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    )
    return recorder


def test_cloudfront_invalidates_the_addresses_the_tags_name(
    cloudfront, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw_paper(publish_harbours(editor), by=editor, reason="Wrong soundings.")
    request = cloudfront.requests[-1]
    assert (request.method, request.path) == (
        "POST",
        "/2020-05-31/distribution/E2EXAMPLE/invalidation",
    )
    namespace = {"cf": "http://cloudfront.amazonaws.com/doc/2020-05-31/"}
    batch = ET.fromstring(request.body)
    paths = [item.text for item in batch.findall("cf:Paths/cf:Items/cf:Path", namespace)]
    assert int(batch.find("cf:Paths/cf:Quantity", namespace).text) == len(paths)
    assert batch.find("cf:CallerReference", namespace).text
    assert set(paths) == {
        "/papers/harbours/*",
        "/api/v1/papers/harbours/*",
        "/claims/*",
        "/api/v1/claims/*",
        "/tags/nato/*",
        "/tags/ports/*",
        "/",
        "/papers/*",
        "/feed/",
        "/sitemap.xml",
        "/api/v1/papers/*",
        "/tags/*",
        "/corrections/*",
        "/api/v1/corrections/*",
        "/forecasts/*",
        "/api/v1/*",
    }
    today = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")
    authorization = request.headers["Authorization"]
    assert authorization.startswith(
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{today}/us-east-1/cloudfront/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, Signature="
    )


def test_the_aws_signature_matches_aws_own_example():
    # "get-vanilla" from AWS's Signature Version 4 test suite.
    headers = purging.sign_v4(
        "GET",
        "https://example.amazonaws.com/",
        {},
        b"",
        access_key="AKIDEXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        service="service",
        now=datetime.datetime(2015, 8, 30, 12, 36, tzinfo=datetime.UTC),
    )
    assert headers["X-Amz-Date"] == "20150830T123600Z"
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


# --- A real Varnish running the VCL of docs/deploy.md ---------------------------------------


def fetch(url, **headers):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        return response.headers, response.read().decode()


@pytest.fixture
def varnish_in_front(live_server, settings):
    from bench.servers import Varnish

    cache = Varnish([live_server.url]).start()
    use_backend(settings, "varnish", VARNISH_URLS=[cache.base + "/"])
    yield cache
    cache.stop()


@pytest.mark.django_db(transaction=True)
def test_varnish_keeps_readers_pages_and_a_correction_purges_them(varnish_in_front, editor):
    paper = publish_harbours(editor)
    page = varnish_in_front.base + "/papers/harbours/"
    assert fetch(page)[0]["X-Cache"] == "miss"
    headers, body = fetch(page)
    assert headers["X-Cache"] == "hit"
    assert "xkey" not in headers  # the tags stay in the cache
    assert fetch(varnish_in_front.base + "/claims/")[0]["X-Cache"] == "miss"

    Paper.objects.filter(pk=paper.pk).update(title="Harbours of the Baltic, corrected")
    workflow.publish_correction(paper, by=editor, note="The title was wrong.")
    headers, body = fetch(page)
    assert headers["X-Cache"] == "miss"
    assert "Harbours of the Baltic, corrected" in body
    assert "Harbours of the Baltic, corrected" in fetch(varnish_in_front.base + "/claims/")[1]
    # A signed-in editor's request goes past the cache.
    cookie = "sessionid=anything; csrftoken=x"
    assert fetch(page, Cookie=cookie)[0]["X-Cache"] == "miss"
    assert fetch(page, Cookie=cookie)[0]["X-Cache"] == "miss"


def test_varnish_refuses_a_purge_from_an_address_outside_its_acl(settings, live_server):
    from bench.servers import Varnish

    cache = Varnish([live_server.url], purgers=["127.0.0.2"]).start()
    try:
        use_backend(settings, "varnish", VARNISH_URLS=[cache.base + "/"])
        with pytest.raises(purging.PurgeFailed, match="403"):
            purging.backend().purge(["paper:harbours"])
    finally:
        cache.stop()


# --- By hand: manage.py purge_pages --------------------------------------------------------------


def test_purge_pages_purges_the_keys_given_now(varnish):
    out = StringIO()
    call_command("purge_pages", "paper:harbours", "list:papers", stdout=out)
    assert varnish.keys() == {"paper:harbours", "list:papers"}
    assert out.getvalue() == "Purged list:papers, paper:harbours.\n"


def test_purge_pages_all_empties_the_cache_in_one_key(varnish):
    call_command("purge_pages", "all", "paper:harbours", stdout=StringIO())
    assert varnish.keys() == {"all"}


@pytest.mark.parametrize("key", ["harbours", "paper:", "paper:a b", "list:Papers", "everything"])
def test_purge_pages_refuses_what_is_no_tag_and_purges_nothing(varnish, key):
    with pytest.raises(CommandError, match="Not a cache tag"):
        call_command("purge_pages", "paper:harbours", key)
    assert varnish.requests == []


def test_purge_pages_says_when_the_cache_refused(varnish):
    varnish.status = 403
    with pytest.raises(CommandError, match="answered 403"):
        call_command("purge_pages", "all")


def test_purge_pages_needs_a_shared_cache(recorder):
    with pytest.raises(CommandError, match="STANDPOINT_PURGE_BACKEND"):
        call_command("purge_pages", "all")


# --- Settings for several machines ----------------------------------------------------------


def settings_in(**env):
    """Settings as a fresh process reads them from `env` (the outcome of `manage.py diffsettings`
    for the keys asked, or its error)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STANDPOINT_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "diffsettings", "--all"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        env={**base, "DJANGO_DEBUG": "1", "DATABASE_URL": "sqlite:///:memory:", **env},
    )


def test_behind_pgbouncer_connections_are_not_kept_and_cursors_stay_client_side():
    pooled = settings_in(DATABASE_TRANSACTION_POOLING="1").stdout
    assert "'CONN_MAX_AGE': 0" in pooled
    assert "'DISABLE_SERVER_SIDE_CURSORS': True" in pooled
    direct = settings_in().stdout
    assert "'CONN_MAX_AGE': 60" in direct
    assert "'DISABLE_SERVER_SIDE_CURSORS': False" in direct


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"STANDPOINT_PURGE_BACKEND": "fastly"}, "STANDPOINT_PURGE_BACKEND must be"),
        ({"STANDPOINT_PURGE_BACKEND": "varnish"}, "needs VARNISH_URLS"),
        (
            {"STANDPOINT_PURGE_BACKEND": "cloudflare", "CLOUDFLARE_ZONE_ID": "z"},
            "needs CLOUDFLARE_API_TOKEN",
        ),
        (
            {"STANDPOINT_PURGE_BACKEND": "cloudfront", "CLOUDFRONT_DISTRIBUTION_ID": "E1"},
            "needs AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY",
        ),
    ],
)
def test_a_purge_backend_without_its_settings_stops_start_up(env, error):
    result = settings_in(**env)
    assert result.returncode != 0
    assert error in result.stderr

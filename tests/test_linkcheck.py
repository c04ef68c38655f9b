"""The source link check (papers/linkcheck.py, papers/link_status.py, check_sources), against a
real HTTP server on 127.0.0.1 started here."""

import io
import ipaddress
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from papers import dashboard, workflow
from papers.link_status import check_sources
from papers.linkcheck import Checker, user_agent
from papers.models import ClaimSource, Source
from tests.factories import SourceFactory, approved

ROBOTS = "User-agent: *\nDisallow: /private/\n"


class Site:
    """A small web site: good, redirected, missing, slow, changing and forbidden pages."""

    def __init__(self):
        self.changing = "first text"
        self.requests = []  # (path, User-Agent, time)
        self.purges = []  # the keys of each PURGE, when it plays a shared cache's part
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append((self.path, self.headers["User-Agent"], time.monotonic()))
                status, headers, body = site.answer(self.path)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the checker gave up waiting

            def do_PURGE(self):
                site.purges.append(set(self.headers["xkey-purge"].split()))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def answer(self, path):
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, ROBOTS.encode()
        if path == "/good":
            return 200, {}, b"a good page"
        if path == "/moved":
            return 301, {"Location": "/good"}, b""
        if path == "/hop":
            return 302, {"Location": "/moved"}, b""
        if path == "/loop":
            return 302, {"Location": "/loop"}, b""
        if path == "/to-private":
            return 302, {"Location": "http://10.0.0.1/"}, b""
        if path == "/to-other-loopback":
            return 302, {"Location": f"http://127.0.0.2:{self.server.server_port}/good"}, b""
        if path == "/to-hostile":
            return 302, {"Location": "/good?<script>alert(1)</script>"}, b""
        if path.startswith("/good?"):
            return 200, {}, b"a good page"
        if path == "/changing":
            return 200, {}, self.changing.encode()
        if path == "/slow":
            time.sleep(2)
            return 200, {}, b"late"
        if path == "/private/page":
            return 200, {}, b"not for crawlers"
        if path == "/error":
            return 503, {}, b"down"
        return 404, {}, b"missing"


@pytest.fixture
def site():
    site = Site()
    site.thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture
def local(settings):
    """The check as tests run it: the local server allowed, no pause between requests."""
    settings.STANDPOINT_LINKCHECK_ALLOW_PRIVATE = True
    settings.STANDPOINT_LINKCHECK_HOST_SECONDS = 0
    settings.STANDPOINT_LINKCHECK_TIMEOUT = 0.5
    settings.SITE_URL = "https://standpoint.example"


PAGES = ["/good", "/moved", "/missing", "/slow", "/changing", "/private/page"]


@pytest.fixture
def cited(draft, editor, site, local):
    """The draft published with a source for each page of the site, spread over its claims."""
    claims = list(draft.claims.order_by("pk"))
    sources = {}
    for number, path in enumerate(PAGES):
        sources[path] = SourceFactory(title=f"Page {path}", url=site.url(path))
        ClaimSource.objects.create(claim=claims[number % 2], source=sources[path])
    workflow.publish_paper(approved(draft), by=editor, note="First edition.")
    return sources


def statuses(sources):
    return {path: Source.objects.get(pk=s.pk).link_status for path, s in sources.items()}


# The checker against the local server.


def test_each_kind_of_page_gets_its_status(cited):
    counts = check_sources()
    assert statuses(cited) == {
        "/good": "ok",
        "/moved": "redirected",
        "/missing": "broken",
        "/slow": "broken",
        "/changing": "ok",
        "/private/page": "refused",
    }
    assert counts == {
        "not_checked": 0,
        "ok": 2,
        "redirected": 1,
        "broken": 2,
        "changed": 0,
        "refused": 1,
    }
    missing = Source.objects.get(pk=cited["/missing"].pk)
    assert (missing.link_code, missing.link_note) == (404, "HTTP 404")
    assert missing.link_broken_since == missing.link_checked_at
    slow = Source.objects.get(pk=cited["/slow"].pk)
    assert slow.link_code is None and "no answer within" in slow.link_note
    moved = Source.objects.get(pk=cited["/moved"].pk)
    assert moved.link_code == 200 and moved.link_note.endswith("/good")
    assert "robots.txt" in Source.objects.get(pk=cited["/private/page"].pk).link_note


def test_a_page_whose_content_changed_is_reported_and_stays_so(cited, site):
    check_sources()
    baseline = Source.objects.get(pk=cited["/changing"].pk).link_hash
    site.changing = "rewritten text"
    check_sources()
    changing = Source.objects.get(pk=cited["/changing"].pk)
    assert changing.link_status == "changed"
    assert changing.link_hash == baseline  # compared with the page as first fetched
    check_sources()
    assert Source.objects.get(pk=cited["/changing"].pk).link_status == "changed"


def test_broken_since_is_kept_while_broken_and_cleared_when_back(cited, site):
    check_sources()
    first = Source.objects.get(pk=cited["/missing"].pk).link_broken_since
    check_sources()
    missing = Source.objects.get(pk=cited["/missing"].pk)
    assert missing.link_broken_since == first < missing.link_checked_at
    Source.objects.filter(pk=missing.pk).update(url=site.url("/good"))
    check_sources()
    back = Source.objects.get(pk=missing.pk)
    assert back.link_status == "ok" and back.link_broken_since is None


def test_a_new_address_starts_a_new_baseline(cited, site):
    check_sources()
    Source.objects.filter(pk=cited["/changing"].pk).update(url=site.url("/good"))
    site.changing = "rewritten text"
    check_sources()
    assert Source.objects.get(pk=cited["/changing"].pk).link_status == "ok"


def test_redirects_are_followed_hop_by_hop_and_loops_end(site, local):
    checker = Checker()
    outcome = checker.check(site.url("/hop"))
    assert (outcome.code, outcome.redirected, outcome.final_url) == (200, True, site.url("/good"))
    loop = checker.check(site.url("/loop"))
    assert loop.kind == "broken" and "redirects" in loop.note


def test_5xx_is_broken(site, local):
    outcome = Checker().check(site.url("/error"))
    assert (outcome.kind, outcome.code, outcome.body_hash) == ("answered", 503, None)


def test_requests_name_standpoint_and_the_site_and_read_robots_txt_once(cited, site):
    check_sources()
    agents = {agent for _, agent, _ in site.requests}
    assert agents == {user_agent()}
    assert "Standpoint" in user_agent() and "https://standpoint.example" in user_agent()
    paths = [path for path, _, _ in site.requests]
    assert paths.count("/robots.txt") == 1
    assert "/private/page" not in paths


def test_requests_to_one_host_are_paced(site, local, settings):
    checker = Checker(interval=0.3)
    for _ in range(3):
        checker.check(site.url("/good"))
    times = [at for path, _, at in site.requests if path == "/good"]
    assert all(later - earlier >= 0.29 for earlier, later in zip(times, times[1:], strict=False))


# Never a way into the private network.


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
        "http://2130706433/",  # 127.0.0.1 written as a number
        "http://localhost/",  # a name that resolves to loopback
    ],
)
def test_private_addresses_are_refused(url, settings):
    settings.STANDPOINT_LINKCHECK_ALLOW_PRIVATE = False
    outcome = Checker().check(url)
    assert outcome.kind == "refused" and "not a public address" in outcome.note


def test_the_local_server_itself_is_refused_without_the_variable(site, settings):
    settings.STANDPOINT_LINKCHECK_ALLOW_PRIVATE = False
    assert Checker().check(site.url("/good")).kind == "refused"
    assert site.requests == []  # not even robots.txt was asked for


def test_a_redirect_to_a_private_address_is_refused(site, settings):
    # Only the test server's address is let through: where it redirects is judged afresh.
    settings.STANDPOINT_LINKCHECK_HOST_SECONDS = 0
    checker = Checker(allow_private=[ipaddress.ip_network("127.0.0.1/32")])
    assert checker.check(site.url("/good")).kind == "answered"
    to_private = checker.check(site.url("/to-private"))
    assert to_private.kind == "refused" and "10.0.0.1" in to_private.note
    to_loopback = checker.check(site.url("/to-other-loopback"))
    assert to_loopback.kind == "refused" and "127.0.0.2" in to_loopback.note


def test_refusal_is_recorded_on_the_source(cited, settings):
    settings.STANDPOINT_LINKCHECK_ALLOW_PRIVATE = False
    check_sources()
    assert set(statuses(cited).values()) == {"refused"}


def test_the_variable_is_read_strictly():
    env = {**os.environ, "STANDPOINT_LINKCHECK_ALLOW_PRIVATE": "maybe"}
    command = [sys.executable, "-c", "import django; django.setup()"]
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    run = subprocess.run(
        command, env=env, capture_output=True, text=True, cwd=django_settings.BASE_DIR
    )
    assert run.returncode != 0 and "STANDPOINT_LINKCHECK_ALLOW_PRIVATE" in run.stderr


# What is checked.


def test_only_sources_of_published_claims_are_checked(cited, draft, site):
    unpublished = SourceFactory(url=site.url("/good"))
    ClaimSource.objects.create(claim=draft.claims.first(), source=unpublished)  # after publishing
    withdrawn_only = SourceFactory(url=site.url("/missing"))
    check_sources()
    # The draft's claim is published, so a source added since is checked with it; a source no
    # published claim cites is not.
    assert Source.objects.get(pk=withdrawn_only.pk).link_status == "not_checked"
    assert Source.objects.get(pk=unpublished.pk).link_status == "ok"


# The command.


def test_the_command_prints_a_line_per_address_and_a_summary_when_not_on_a_terminal(cited):
    out = io.StringIO()
    call_command("check_sources", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(PAGES) + 1
    assert any(line.startswith("1/6 ") for line in lines)
    assert any(line.endswith("/missing") and " broken " in line for line in lines)
    assert lines[-1] == ("Checked 6 sources: 2 ok, 1 redirected, 2 broken, 1 refused.")
    assert "\r" not in out.getvalue()


def test_the_command_draws_a_progress_bar_on_a_terminal(cited):
    master, replica = os.openpty()
    with os.fdopen(replica, "w") as terminal:
        call_command("check_sources", stdout=terminal)
    shown = b""
    while chunk := _read_available(master):
        shown += chunk
    os.close(master)
    text = shown.decode()
    assert "\r[" + "#" * 30 + "] 6/6 addresses" in text
    assert "http://" not in text  # no line per address
    assert text.rstrip().endswith("Checked 6 sources: 2 ok, 1 redirected, 2 broken, 1 refused.")


def _read_available(fd):
    import select

    if not select.select([fd], [], [], 0.2)[0]:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


def test_the_command_checks_one_paper(cited, site, published_other):
    out = io.StringIO()
    call_command("check_sources", "--paper", "other-paper", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Checked 1 source: 1 ok."
    assert set(statuses(cited).values()) == {"not_checked"}


@pytest.fixture
def published_other(db, editor, site):
    from tests.factories import ClaimFactory, PaperFactory, SectionFactory

    paper = PaperFactory(title="Other paper", slug="other-paper")
    section = SectionFactory(paper=paper, heading="Only", position=0)
    claim = ClaimFactory(section=section, quote="NATO forces are present in Estonia.")
    ClaimSource.objects.create(claim=claim, source=SourceFactory(url=site.url("/good")))
    workflow.publish_paper(approved(paper), by=editor, note="First edition.")
    return paper


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--timeout", "soon"], "invalid float value"),
        (["--timeout", "0"], "--timeout must be"),
        (["--frobnicate"], "unrecognized arguments"),
    ],
)
def test_bad_options_get_one_line_and_a_non_zero_exit(arguments, message):
    run = subprocess.run(
        [sys.executable, "manage.py", "check_sources", *arguments],
        capture_output=True,
        text=True,
        cwd=django_settings.BASE_DIR,
        env={**os.environ, "DJANGO_DEBUG": "1"},
        timeout=120,
    )
    assert run.returncode != 0
    assert len(run.stderr.strip().splitlines()) == 1
    assert message in run.stderr
    assert run.stdout == ""


def test_an_unknown_paper_is_an_error_and_nothing_is_checked(cited, site):
    with pytest.raises(CommandError, match="no-such-paper"):
        call_command("check_sources", "--paper", "no-such-paper", stdout=io.StringIO())
    assert site.requests == []
    assert set(statuses(cited).values()) == {"not_checked"}


# What readers and editors see.


def test_readers_see_when_each_link_was_checked_or_broke(cited, client):
    check_sources()
    html = client.get("/papers/draft-on-deterrence/").content.decode()
    today = timezone.localdate()
    assert html.count("link checked on") == 3  # good, moved and changing
    assert html.count("link broken since") == 2  # missing and slow
    assert f'<time datetime="{today.isoformat()}">' in html


def test_a_claims_page_says_the_same_of_its_sources(cited, draft, client):
    check_sources()
    first = draft.claims.order_by("pk").first()  # cites the good, missing and changing pages
    html = client.get(f"/claims/{first.public_id}/").content.decode()
    assert html.count("link checked on") == 2
    assert html.count("link broken since") == 1


def test_a_check_that_changes_what_readers_see_refreshes_cached_pages(cited, client, site):
    check_sources()
    first = client.get("/papers/draft-on-deterrence/")
    assert first.content.decode().count("link broken since") == 2
    site.changing = "rewritten"
    Source.objects.filter(pk=cited["/missing"].pk).update(url=site.url("/good"))
    check_sources()
    second = client.get("/papers/draft-on-deterrence/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    html = second.content.decode()
    assert html.count("link broken since") == 1
    assert "page changed since cited" in html


def test_a_check_that_changes_what_readers_see_purges_those_pages_from_a_shared_cache(
    cited, draft, site, settings, django_capture_on_commit_callbacks
):
    settings.STANDPOINT_PURGE = {
        **settings.STANDPOINT_PURGE,
        "BACKEND": "varnish",
        "VARNISH_URLS": [site.url("/")],
    }
    with django_capture_on_commit_callbacks(execute=True):
        check_sources()
    claims = {f"claim:{claim.public_id}" for claim in draft.claims.all()}
    assert site.purges == [{"paper:draft-on-deterrence", *claims}]
    with django_capture_on_commit_callbacks(execute=True):
        check_sources()  # the same day, the same findings: nothing readers see has changed
    assert len(site.purges) == 1


def test_a_check_that_changes_nothing_readers_see_keeps_the_pages(cited, client):
    check_sources()
    first = client.get("/papers/draft-on-deterrence/")
    check_sources()
    again = client.get("/papers/draft-on-deterrence/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_the_link_notes_cost_one_query_whatever_the_number_of_sources(cited, client):
    check_sources()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/papers/draft-on-deterrence/v1/")
    assert response.content.decode().count('class="link-check') == 5
    assert sum("papers_source" in query["sql"] for query in queries.captured_queries) == 1


def test_editors_see_claims_with_dead_or_changed_sources_on_the_desk(cited, site, editor_client):
    check_sources()
    site.changing = "rewritten"
    check_sources()
    html = editor_client.get("/admin/").content.decode()
    block = html[
        html.index('id="desk-links"') : html.index("</section>", html.index('id="desk-links"'))
    ]
    assert block.count("<tr>") == 1 + 3  # the header, missing, slow and changing
    assert "Page /missing" in block and "broken since" in block and "HTTP 404" in block
    assert "Page /changing" in block and "changed since cited" in block
    assert "Page /good" not in block and "Page /private/page" not in block


def test_the_desk_block_costs_the_same_queries_for_one_bad_link_and_many(
    cited, draft, editor_client, django_assert_num_queries
):
    check_sources()
    with CaptureQueriesContext(connection) as few:
        editor_client.get("/admin/")
    claim = draft.claims.first()
    for n in range(dashboard.LIMIT + 5):
        source = SourceFactory(title=f"Dead {n}", url=f"https://dead.example/{n}")
        ClaimSource.objects.create(claim=claim, source=source)
    Source.objects.filter(title__startswith="Dead").update(
        link_status="broken", link_broken_since=timezone.now(), checked_url=F("url")
    )
    with django_assert_num_queries(len(few.captured_queries)):
        html = editor_client.get("/admin/").content.decode()
    assert "Every broken or changed source" in html


def test_the_desk_says_when_no_link_is_broken(editor_client):
    assert "No published claim cites a broken or changed page." in (
        editor_client.get("/admin/").content.decode()
    )


def test_an_editor_accepts_a_changed_page_as_the_new_baseline(cited, site, editor_client):
    check_sources()
    site.changing = "rewritten"
    check_sources()
    changing = cited["/changing"]
    response = editor_client.post(
        "/admin/papers/source/",
        {"action": "accept_pages", "_selected_action": [changing.pk]},
        follow=True,
    )
    assert "1 source will take the page as the next check finds it." in response.content.decode()
    assert Source.objects.get(pk=changing.pk).link_status == "changed"  # until it is checked
    check_sources()
    assert Source.objects.get(pk=changing.pk).link_status == "ok"
    site.changing = "rewritten again"
    check_sources()
    assert Source.objects.get(pk=changing.pk).link_status == "changed"


def test_the_periodic_task_checks_every_cited_source(cited):
    from papers import tasks
    from papers.link_status import check_cited_sources

    assert ("papers.link_status.check_cited_sources", check_cited_sources, 86400) in (
        tasks.periodic_tasks()
    )
    result = check_cited_sources.enqueue()
    assert result.return_value["broken"] == 2
    assert set(statuses(cited).values()) == {"ok", "redirected", "broken", "refused"}


def test_what_a_hostile_server_says_reaches_editors_only_as_text(cited, site, editor_client):
    Source.objects.filter(pk=cited["/good"].pk).update(url=site.url("/to-hostile"))
    check_sources()
    source = Source.objects.get(pk=cited["/good"].pk)
    assert source.link_status == "redirected" and "<script>" in source.link_note
    page = editor_client.get(f"/admin/papers/source/{source.pk}/change/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

"""Readers' pages from the cache: one query on a hit, and never a page older than what readers
may see (papers/pagecache.py)."""

import logging

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.utils import timezone

from papers import pagecache, workflow
from papers.models import Paper, PublicRevision, Tag
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, TagFactory, approved

pytestmark = pytest.mark.django_db

CACHED_URLS = [
    "/",
    "/papers/",
    "/papers/?tag=nato",
    "/papers/?q=harbour",
    "/papers/harbours/",
    "/papers/harbours/v1/",
    "/papers/harbours/versions/",
    "/papers/harbours/export.json",
    "/papers/harbours/export.md",
    "/claims/",
    "/claims/?kind=factual",
    "/tags/nato/",
    "/feed/",
    "/sitemap.xml",
]


def publish(editor, slug, title, *, tags=()):
    paper = PaperFactory(slug=slug, title=title)
    paper.tags.set(tags)
    section = SectionFactory(paper=paper, body=f"{title} are described here. It is deep.")
    ClaimFactory(section=section, quote=f"{title} are described here.")
    workflow.publish_paper(approved(paper), by=editor)
    paper.refresh_from_db()
    return paper


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def harbours(editor):
    return publish(editor, "harbours", "Harbours of the Baltic", tags=[TagFactory(slug="nato")])


@pytest.mark.parametrize("url", CACHED_URLS)
def test_a_second_anonymous_request_is_served_from_the_cache_in_one_query(
    anonymous, harbours, url, django_assert_num_queries
):
    rendered = anonymous.get(url)
    assert rendered.status_code == 200
    with django_assert_num_queries(1):
        cached = anonymous.get(url)
    assert cached.status_code == 200
    assert cached.templates == []
    assert cached.content == rendered.content
    assert cached["Content-Type"] == rendered["Content-Type"]
    # A CDN must not hand this copy to a signed-in user, whose page differs.
    assert "Cookie" in cached["Vary"]


def test_the_claim_page_and_the_diff_page_are_cached_too(
    anonymous, harbours, editor, django_assert_num_queries
):
    workflow.publish_correction(harbours, by=editor, note="Second edition.")
    claim_url = f"/claims/{harbours.claims.get().public_id}/"
    for url in [claim_url, "/papers/harbours/diff/1/2/"]:
        assert anonymous.get(url).status_code == 200
        with django_assert_num_queries(1):
            assert anonymous.get(url).status_code == 200


class TestTheRevisionWindow:
    """A process trusts the public revision it last read for STANDPOINT_PAGE_REVISION_MS: pages
    from memory then cost no query (micro-caching)."""

    @pytest.fixture(autouse=True)
    def window(self, settings):
        settings.STANDPOINT_PAGE_REVISION_MS = 60_000

    def test_pages_from_memory_cost_no_query_within_it(
        self, anonymous, harbours, django_assert_num_queries
    ):
        anonymous.get("/papers/harbours/")
        with django_assert_num_queries(0):
            assert anonymous.get("/papers/harbours/").status_code == 200

    def test_a_change_made_in_this_process_shows_at_once(self, anonymous, harbours, editor):
        anonymous.get("/papers/")
        publish(editor, "bridges", "Bridges of the Baltic")
        assert b"Bridges of the Baltic" in anonymous.get("/papers/").content

    def test_a_change_made_by_another_process_shows_once_the_window_is_over(
        self, anonymous, harbours, editor, settings
    ):
        publish(editor, "bridges", "Bridges of the Baltic")
        pagecache.last_read.forget()
        before = anonymous.get("/papers/").content
        # Another server withdraws the paper: what its commit leaves in the database, which this
        # process learns of only by reading the revision again.
        Paper.objects.filter(slug="bridges").update(withdrawn_at=timezone.now())
        PublicRevision.objects.update(token="from-another-server")
        assert anonymous.get("/papers/").content == before
        settings.STANDPOINT_PAGE_REVISION_MS = 0  # as when the window has passed
        assert b"Bridges of the Baltic" not in anonymous.get("/papers/").content


def test_each_address_has_its_own_entry(anonymous, harbours, editor):
    publish(editor, "bridges", "Bridges of the Baltic")
    assert b"Bridges" in anonymous.get("/papers/?q=bridges").content
    assert b"Bridges" not in anonymous.get("/papers/?q=harbours").content
    assert b"Bridges" in anonymous.get("/papers/?q=bridges").content


def test_publishing_any_paper_replaces_every_cached_page(anonymous, harbours, editor):
    before = {url: anonymous.get(url).content for url in ["/", "/papers/", "/claims/", "/feed/"]}
    publish(editor, "bridges", "Bridges of the Baltic")
    for url, content in before.items():
        assert b"Bridges of the Baltic" not in content
        assert b"Bridges of the Baltic" in anonymous.get(url).content, url


def test_after_a_restore_from_backup_no_page_of_the_abandoned_history_is_served(
    anonymous, harbours, editor
):
    backup = PublicRevision.objects.values("number", "token").get()
    publish(editor, "bridges", "Bridges of the Baltic")
    assert b"Bridges" in anonymous.get("/papers/").content  # kept under the new revision
    PublicRevision.objects.update(**backup)  # what restoring the backup does to the row
    publish(editor, "canals", "Canals of the Baltic")
    assert b"Canals of the Baltic" in anonymous.get("/papers/").content


def test_a_correction_replaces_the_paper_page(anonymous, harbours, editor):
    assert b"Version 1" in anonymous.get("/papers/harbours/").content
    section = harbours.sections.get()
    section.body = "Harbours of the Baltic are described here. It is deeper than we said."
    section.save()
    workflow.publish_correction(harbours, by=editor, note="Depth corrected.")
    page = anonymous.get("/papers/harbours/").content
    assert b"deeper than we said" in page
    assert b"Version 2" in page


def test_a_withdrawal_replaces_the_page_and_the_listings(anonymous, harbours, editor):
    assert b"Harbours of the Baltic" in anonymous.get("/papers/").content
    anonymous.get("/papers/harbours/")
    workflow.withdraw_paper(harbours, by=editor, reason="The soundings were wrong.")
    assert b"The soundings were wrong." in anonymous.get("/papers/harbours/").content
    assert b"Harbours of the Baltic" not in anonymous.get("/papers/").content


def test_a_tag_renamed_or_deleted_in_the_admin_reaches_the_cached_pages(
    anonymous, harbours, editor_client
):
    tag = Tag.objects.get(slug="nato")
    assert b"Atlantic Alliance" not in anonymous.get("/papers/").content
    editor_client.post(
        f"/admin/papers/tag/{tag.pk}/change/",
        {"name": "Atlantic Alliance", "slug": "nato", "description": ""},
    )
    assert b"Atlantic Alliance" in anonymous.get("/papers/").content
    editor_client.post(f"/admin/papers/tag/{tag.pk}/delete/", {"post": "yes"})
    assert not Tag.objects.filter(pk=tag.pk).exists()
    assert b"Atlantic Alliance" not in anonymous.get("/papers/").content


def test_review_work_on_the_next_draft_leaves_the_cached_pages_in_place(
    anonymous, harbours, editor, reviewer, django_assert_num_queries
):
    anonymous.get("/papers/harbours/")
    workflow.assign_reviewer(harbours, reviewer, by=editor)
    workflow.submit_paper(harbours, by=editor)
    with django_assert_num_queries(1):
        assert anonymous.get("/papers/harbours/").status_code == 200


def test_a_missing_page_is_never_cached(anonymous, editor):
    assert anonymous.get("/papers/later/").status_code == 404
    publish(editor, "later", "Published later")
    assert anonymous.get("/papers/later/").status_code == 200


def test_signed_in_users_neither_read_nor_fill_the_cache(anonymous, harbours, editor_client):
    assert b"Sign out" in editor_client.get("/papers/harbours/").content
    assert b"Sign out" not in anonymous.get("/papers/harbours/").content
    assert b"Sign out" in editor_client.get("/papers/harbours/").content


def test_a_visitor_with_a_message_waiting_gets_a_page_of_their_own(anonymous, harbours):
    anonymous.get("/papers/")  # cached without the message
    storage = CookieStorage(HttpRequest())
    storage.add(constants.SUCCESS, "You have been signed out.")
    carrier = HttpResponse()
    storage.update(carrier)
    anonymous.cookies["messages"] = carrier.cookies["messages"].value
    assert b"You have been signed out." in anonymous.get("/papers/").content
    assert b"You have been signed out." not in Client().get("/papers/").content


def test_a_reader_with_cookies_but_no_session_still_gets_the_shared_page(
    anonymous, harbours, django_assert_num_queries
):
    anonymous.get("/papers/harbours/")
    anonymous.cookies["csrftoken"] = "a" * 32
    with django_assert_num_queries(1):
        assert anonymous.get("/papers/harbours/").templates == []


def test_a_matching_etag_gets_304_from_the_cache(anonymous, harbours, django_assert_num_queries):
    etag = anonymous.get("/papers/harbours/")["ETag"]
    with django_assert_num_queries(1):
        response = anonymous.get("/papers/harbours/", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert not response.has_header("Content-Type") or not response.content


def test_the_release_digest_names_the_code_that_renders(tmp_path, settings):
    (tmp_path / "templates").mkdir()
    template = tmp_path / "templates" / "page.html"
    template.write_text("<p>{{ one }}</p>")
    settings.BASE_DIR = tmp_path
    first = pagecache.release.__wrapped__()
    assert first == pagecache.release.__wrapped__()
    template.write_text("<p>{{ two }}</p>")
    assert pagecache.release.__wrapped__() != first


@pytest.fixture
def shared_cache(settings):
    """A "pages" cache as Redis would be, shared by processes (a local-memory stand-in here;
    the CI run uses Redis with two servers)."""
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"},
    }
    yield caches["pages"]
    caches["pages"].clear()


def test_another_process_reads_the_page_from_the_shared_cache(
    anonymous, harbours, shared_cache, django_assert_num_queries
):
    rendered = anonymous.get("/papers/harbours/")
    pagecache.memory.clear()  # as in a process that has not served it yet
    with django_assert_num_queries(1):
        served = anonymous.get("/papers/harbours/")
    assert served.templates == []
    assert served.content == rendered.content
    assert served["ETag"] == rendered["ETag"]


def sized(size):
    identity = pagecache.Variant(b"x" * size, headers={}, not_modified={}, etag=None)
    return pagecache.Page(
        variants={"identity": identity},
        last_modified=None,
        codings=("identity",),
        headers=[],
        etag=None,
    )


def test_the_memory_keeps_the_latest_pages_within_its_budget():
    memory = pagecache.Memory(budget=10)
    memory.set("a", sized(5))
    memory.set("b", sized(5))
    memory.get("a")  # now the most recently used
    memory.set("c", sized(3))
    assert memory.get("b") is None
    assert memory.get("a") and memory.get("c")
    memory.set("huge", sized(11))
    assert memory.get("huge") is None
    assert memory.size == 8


def test_a_page_weighs_every_coding_it_is_kept_in(anonymous, harbours):
    """The budget counts what memory holds: the page and its Brotli and gzip copies, weighed
    again as clients ask for them."""
    identity = len(anonymous.get("/papers/harbours/").content)
    br = len(anonymous.get("/papers/harbours/", headers={"Accept-Encoding": "br"}).content)
    gz = len(anonymous.get("/papers/harbours/", headers={"Accept-Encoding": "gzip"}).content)
    ((page, _),) = pagecache.memory.entries.values()
    assert set(page.variants) == {"identity", "br", "gzip"}
    assert page.size == identity + br + gz == pagecache.memory.size


def test_a_page_set_again_is_weighed_again():
    memory = pagecache.Memory(budget=9)
    page = sized(4)
    memory.set("a", page)
    memory.set("b", sized(4))
    page.variants["br"] = pagecache.Variant(b"xx", headers={}, not_modified={}, etag=None)
    memory.set("a", page)  # now 6 bytes: "b" goes to keep within the budget
    assert memory.size == 6 and memory.get("b") is None


def test_a_cache_server_that_is_down_costs_the_cache_not_the_page(
    anonymous, harbours, settings, caplog
):
    # A real Redis client pointed at a port where nothing listens.
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    with caplog.at_level(logging.WARNING, logger="papers.pagecache"):
        response = anonymous.get("/papers/harbours/")
    assert response.status_code == 200
    assert b"Harbours of the Baltic" in response.content
    assert "The pages cache cannot be read" in caplog.text
    assert "The pages cache cannot be written" in caplog.text

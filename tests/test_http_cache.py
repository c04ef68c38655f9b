"""What readers' responses tell shared HTTP caches (Varnish, a CDN): how long they may keep a
page, by which tags it is purged, and that signed-in people's pages are never shared
(papers/cache_tags.py, applied in papers/fastpath.py)."""

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client

from papers import workflow
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, TagFactory, approved

pytestmark = pytest.mark.django_db

YEAR = 31536000


def directives(response):
    return set(response["Cache-Control"].split(", "))


def keys(response):
    return set(response["xkey"].split(" "))


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def paper(editor):
    """'harbours', published with the tag 'nato' on the paper and on its claim."""
    nato = TagFactory(slug="nato", name="NATO")
    paper = PaperFactory(slug="harbours", title="Harbours of the Baltic")
    paper.tags.set([nato])
    section = SectionFactory(paper=paper, body="Harbours are deep here. They freeze rarely.")
    claim = ClaimFactory(section=section, quote="Harbours are deep here.")
    claim.tags.set([nato])
    workflow.publish_paper(approved(paper), by=editor)
    paper.refresh_from_db()
    return paper


@pytest.fixture
def claim_id(paper):
    return paper.claims.get().public_id


# (address, the tags it must carry besides "all"); {claim} stands for the claim's public id.
PAGES = [
    ("/", {"list:papers", "list:tags"}),
    ("/papers/", {"list:papers", "list:tags"}),
    ("/papers/?tag=nato", {"list:papers", "list:tags"}),
    ("/papers/harbours/", {"paper:harbours"}),
    ("/papers/harbours/versions/", {"paper:harbours"}),
    ("/papers/harbours/diff/1/1/", {"paper:harbours"}),
    ("/papers/harbours/export.json", {"paper:harbours"}),
    ("/papers/harbours/export.md", {"paper:harbours"}),
    ("/papers/harbours/cite/", {"paper:harbours"}),
    ("/papers/harbours/cite.bib", {"paper:harbours"}),
    ("/claims/", {"list:claims", "list:tags"}),
    ("/claims/{claim}/", {"claim:{claim}"}),
    ("/claims/{claim}/cite/", {"claim:{claim}"}),
    ("/tags/", {"list:tags"}),
    ("/tags/nato/", {"tag:nato"}),
    ("/corrections/", {"list:corrections", "list:tags"}),
    ("/corrections/feed/", {"list:corrections"}),
    ("/feed/", {"list:papers"}),
    ("/sitemap.xml", {"list:papers", "list:claims", "list:tags"}),
    ("/api/v1/", set()),
    ("/api/v1/papers/", {"list:papers", "list:tags"}),
    ("/api/v1/papers/harbours/", {"paper:harbours"}),
    ("/api/v1/claims/", {"list:claims", "list:tags"}),
    ("/api/v1/claims/{claim}/", {"claim:{claim}"}),
    ("/api/v1/corrections/", {"list:corrections", "list:tags"}),
]
VERSION_PAGES = [
    "/api/v1/papers/harbours/versions/1/",
    "/papers/harbours/v1/",
    "/papers/harbours/v1/cite/",
    "/papers/harbours/v1/cite.ris",
]


@pytest.mark.parametrize(("url", "tags"), PAGES)
def test_a_readers_page_may_be_kept_by_shared_caches_and_names_what_it_shows(
    anonymous, claim_id, url, tags
):
    response = anonymous.get(url.format(claim=claim_id))
    assert response.status_code == 200
    assert directives(response) == {
        "public",
        "max-age=60",
        "s-maxage=86400",
        "stale-while-revalidate=60",
    }
    assert keys(response) == {"all", *(tag.format(claim=claim_id) for tag in tags)}
    assert "Cache-Tag" not in response  # only for a Cloudflare backend


@pytest.mark.parametrize("url", [url for url, _ in PAGES] + VERSION_PAGES)
def test_a_page_from_the_page_cache_sends_the_same_headers(anonymous, claim_id, url):
    url = url.format(claim=claim_id)
    rendered = anonymous.get(url)
    stored = anonymous.get(url)
    assert stored.templates == []  # the fast path answered
    assert stored["Cache-Control"] == rendered["Cache-Control"]
    assert stored["xkey"] == rendered["xkey"]


@pytest.mark.parametrize("url", VERSION_PAGES)
def test_a_version_page_is_kept_a_year_by_shared_caches_but_a_minute_by_browsers(
    anonymous, paper, url
):
    response = anonymous.get(url)
    assert response.status_code == 200
    assert "s-maxage=31536000" in directives(response)
    # A withdrawal or a newer version changes its notices: nothing can purge a browser.
    assert "max-age=60" in directives(response)
    assert keys(response) == {"all", "paper:harbours"}


def test_a_version_page_of_a_withdrawn_paper_is_still_purged_not_frozen(anonymous, paper, editor):
    workflow.withdraw_paper(paper, by=editor, reason="The harbour data were wrong.")
    response = anonymous.get("/papers/harbours/v1/")
    assert b"withdrawn" in response.content
    assert "max-age=60" in directives(response)
    assert keys(response) == {"all", "paper:harbours"}


def test_the_forecasts_page_is_kept_no_longer_than_a_minute_as_forecasts_fall_due(anonymous, paper):
    response = anonymous.get("/forecasts/")
    assert response.status_code == 200
    assert {"public", "max-age=60", "s-maxage=60"} <= directives(response)
    assert keys(response) == {"all", "list:forecasts", "list:tags"}


def test_the_pdf_keeps_its_browser_lifetime_and_gets_a_year_in_shared_caches(anonymous, paper):
    response = anonymous.get("/papers/harbours/v1/paper.pdf")
    assert response.status_code == 200
    assert {"public", "max-age=86400", f"s-maxage={YEAR}"} <= directives(response)
    assert keys(response) == {"all", "paper:harbours"}


def test_a_paper_not_out_yet_answers_404_tagged_with_its_address_for_a_minute(anonymous, draft):
    response = anonymous.get(f"/papers/{draft.slug}/")
    assert response.status_code == 404
    assert {"public", "s-maxage=60"} <= directives(response)
    assert keys(response) == {"all", f"paper:{draft.slug}"}
    assert b"Draft on deterrence" not in response.content


@pytest.mark.parametrize("url", ["/claims/a%0Ab/", "/claims/a%20b,c/", "/api/v1/claims/a%0Ab/"])
def test_an_odd_id_is_a_plain_404_whose_tags_name_nothing_it_holds(anonymous, url):
    response = anonymous.get(url)
    assert response.status_code == 404
    assert keys(response) == {"all"}


def test_an_address_that_is_no_readers_page_gets_no_tags(anonymous, paper):
    for url in ["/robots.txt", "/no/such/page/", "/accounts/login/"]:
        response = anonymous.get(url)
        assert "xkey" not in response
        assert "s-maxage" not in response.get("Cache-Control", "")


def test_a_signed_in_reader_gets_private_pages_without_tags(editor_client, paper, claim_id):
    for url, _ in PAGES:
        response = editor_client.get(url.format(claim=claim_id))
        assert response.status_code == 200, url
        assert "private" in directives(response), url
        assert "public" not in directives(response), url
        assert "s-maxage" not in response["Cache-Control"], url
        assert "xkey" not in response, url


def test_a_visitor_with_a_message_waiting_gets_a_private_page(paper):
    visitor = Client()
    visitor.cookies[CookieStorage.cookie_name] = "anything"
    response = visitor.get("/papers/harbours/")
    assert "private" in directives(response)
    assert "xkey" not in response


def test_previews_and_review_pages_stay_private_and_unstored(editor_client, draft):
    response = editor_client.get(f"/papers/{draft.slug}/preview/")
    assert {"private", "no-store"} <= directives(response)
    assert "xkey" not in response


def test_a_cloudflare_backend_gets_cache_tag_too(settings, anonymous, paper):
    settings.STANDPOINT_PURGE = {
        **settings.STANDPOINT_PURGE,
        "BACKEND": "cloudflare",
        "CLOUDFLARE_ZONE_ID": "zone",
        "CLOUDFLARE_API_TOKEN": "token",
    }
    response = anonymous.get("/papers/harbours/")
    assert set(response["Cache-Tag"].split(",")) == {"all", "paper:harbours"}
    assert keys(response) == {"all", "paper:harbours"}


def test_lifetimes_come_from_settings(settings, anonymous, paper):
    settings.STANDPOINT_BROWSER_MAX_AGE = 5
    settings.STANDPOINT_SHARED_MAX_AGE = 600
    settings.STANDPOINT_STALE_WHILE_REVALIDATE = 30
    response = anonymous.get("/claims/")
    assert directives(response) == {
        "public",
        "max-age=5",
        "s-maxage=600",
        "stale-while-revalidate=30",
    }

"""What pages tell machines: head metadata, JSON-LD on paper pages, sitemap.xml and robots.txt."""

import json
import xml.etree.ElementTree as ET

import html5lib
import pytest
from django.template import Context, Template
from django.test import Client

from papers import verdicts, workflow
from papers.models import Assessment, Paper, Review, Version, VersionClaim
from papers.templatetags.metadata import json_ld
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    TagFactory,
    approved,
)

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


@pytest.fixture
def client():
    return Client()


def head_of(response):
    """The page's <head> as {key: content}: title, description, canonical and og:/twitter: tags."""
    assert response.status_code in (200, 404)
    root = html5lib.parse(response.content, namespaceHTMLElements=False)
    head = root.find("head")
    found = {"title": "".join(head.find("title").itertext())}
    for meta in head.iter("meta"):
        key = meta.get("property") or meta.get("name")
        if key:
            found[key] = meta.get("content")
    for link in head.iter("link"):
        if link.get("rel") == "canonical":
            found["canonical"] = link.get("href")
    return found


def graph_of(response):
    """The JSON-LD objects on the page, by @type."""
    root = html5lib.parse(response.content, namespaceHTMLElements=False)
    scripts = [s for s in root.iter("script") if s.get("type") == "application/ld+json"]
    # Besides the JSON-LD, only the site's own scripts, by address (reading.js on a paper).
    others = [s for s in root.iter("script") if s not in scripts]
    assert len(scripts) == 1 and all(s.get("src", "").startswith("/static/js/") for s in others)
    data = json.loads(scripts[0].text)
    assert data["@context"] == "https://schema.org"
    by_type = {}
    for item in data["@graph"]:
        by_type.setdefault(item["@type"], []).append(item)
    return by_type


def assess(claim, verdict, reviewer):
    review, _ = Review.objects.get_or_create(
        paper=claim.paper,
        round=1,
        reviewer=reviewer,
        defaults={"status": Review.Status.SUBMITTED},
    )
    Assessment.objects.create(
        review=review,
        claim=claim,
        verdict=verdict,
        claim_text=claim.quote,
        claim_hash=claim.text_hash,
    )


class TestHeadMetadata:
    @pytest.mark.parametrize(
        "url",
        [
            "/",
            "/papers/",
            "/papers/?q=deterrence",
            "/papers/draft-on-deterrence/",
            "/papers/draft-on-deterrence/v1/",
            "/tags/nato/",
            "/papers/no-such-paper/",
        ],
    )
    def test_every_page_carries_title_description_canonical_og_and_twitter_tags(
        self, client, published, url
    ):
        published.live_version.tags.add(TagFactory(slug="nato", name="NATO"))
        head = head_of(client.get(url))
        assert head["title"].endswith("Standpoint")
        assert head["description"].strip()
        assert head["canonical"].startswith(f"{SITE}/")
        assert head["og:site_name"] == "Standpoint"
        assert head["og:title"] and head["og:type"] in {"website", "article"}
        assert head["og:description"] == head["description"]
        assert head["og:url"] == head["canonical"]
        assert head["twitter:card"] == "summary"
        assert head["twitter:title"] == head["og:title"]
        assert head["twitter:description"] == head["description"]

    def test_a_paper_page_describes_the_paper(self, client, published):
        head = head_of(client.get("/papers/draft-on-deterrence/"))
        assert head["description"] == "A short lede for the paper."
        assert (head["og:title"], head["og:type"]) == ("Draft on deterrence", "article")
        assert head["og:url"] == f"{SITE}/papers/draft-on-deterrence/"

    def test_an_older_version_is_its_own_canonical_page(self, client, published, editor):
        workflow.publish_correction(published, by=editor, note="Fixed.")
        head = head_of(client.get("/papers/draft-on-deterrence/v1/"))
        assert head["canonical"] == head["og:url"] == f"{SITE}/papers/draft-on-deterrence/v1/"

    def test_hostile_descriptions_stay_inside_their_attributes(self, client, editor):
        paper = PaperFactory(slug="hostile", standfirst='"><script>alert(1)</script>')
        SectionFactory(paper=paper)
        workflow.publish_paper(approved(paper), by=editor)
        head = head_of(client.get("/papers/hostile/"))
        assert head["og:description"] == head["description"] == '"><script>alert(1)</script>'


class TestJsonLd:
    def test_a_paper_is_a_scholarly_article(self, client, published, editor):
        nato = TagFactory(slug="nato", name="NATO")
        published.tags.add(nato)
        workflow.publish_correction(published, by=editor, note="Fixed a date.")
        published.refresh_from_db()
        v1, v2 = published.versions.order_by("number")
        (article,) = graph_of(client.get("/papers/draft-on-deterrence/"))["ScholarlyArticle"]
        assert article["headline"] == "Draft on deterrence"
        assert article["description"] == "A short lede for the paper."
        assert article["author"] == [{"@type": "Person", "name": "Ana Kask"}]
        assert article["datePublished"] == v1.published_at.isoformat(timespec="seconds")
        assert article["dateModified"] == v2.published_at.isoformat(timespec="seconds")
        assert article["version"] == 2
        assert article["keywords"] == ["NATO"]
        assert article["url"] == f"{SITE}/papers/draft-on-deterrence/"
        assert article["identifier"]["value"] == v2.fingerprint
        assert article["isPartOf"] == {"@type": "WebSite", "name": "Standpoint", "url": f"{SITE}/"}
        assert article["correction"]["text"] == "Fixed a date."

    def test_an_older_version_describes_itself(self, client, published, editor):
        workflow.publish_correction(published, by=editor, note="Fixed.")
        v1 = published.versions.get(number=1)
        (article,) = graph_of(client.get("/papers/draft-on-deterrence/v1/"))["ScholarlyArticle"]
        assert (article["version"], article["url"]) == (1, f"{SITE}/papers/draft-on-deterrence/v1/")
        assert article["identifier"]["value"] == v1.fingerprint
        assert article["datePublished"] == article["dateModified"]
        assert "correction" not in article

    @pytest.mark.parametrize(
        ("byline", "authors"),
        [
            ("Ana Kask", [{"@type": "Person", "name": "Ana Kask"}]),
            (
                "Ana Kask, Jonas Petraitis and Mari Tamm",
                [
                    {"@type": "Person", "name": "Ana Kask"},
                    {"@type": "Person", "name": "Jonas Petraitis"},
                    {"@type": "Person", "name": "Mari Tamm"},
                ],
            ),
            ("Standpoint demo desk", [{"@type": "Organization", "name": "Standpoint demo desk"}]),
            ("", [{"@type": "Organization", "name": "Standpoint", "url": SITE}]),
        ],
    )
    def test_the_byline_becomes_people_or_an_organisation(self, client, editor, byline, authors):
        paper = PaperFactory(slug="bylined", byline=byline)
        SectionFactory(paper=paper)
        workflow.publish_paper(approved(paper), by=editor)
        (article,) = graph_of(client.get("/papers/bylined/"))["ScholarlyArticle"]
        assert article["author"] == authors

    def test_each_assessed_claim_gets_a_claim_review(self, client, editor):
        paper = PaperFactory(slug="reviewed", byline="Ana Kask")
        section = SectionFactory(paper=paper, body="One. Two. Three. Four.")
        one, two, three, four = (
            ClaimFactory(section=section, quote=quote)
            for quote in ("One.", "Two.", "Three.", "Four.")
        )
        first, second = ReviewerFactory(username="r1"), ReviewerFactory(username="r2")
        assess(one, Assessment.Verdict.SUPPORTED, first)
        assess(two, Assessment.Verdict.DISPUTED, first)
        assess(three, Assessment.Verdict.NEEDS_SOURCE, first)
        assess(three, Assessment.Verdict.SUPPORTED, second)  # reviewers disagree: mixed
        workflow.publish_paper(approved(paper), by=editor, override_reason="Tested.")
        reviews = graph_of(client.get("/papers/reviewed/"))["ClaimReview"]
        by_quote = {review["claimReviewed"]: review for review in reviews}
        assert set(by_quote) == {"One.", "Two.", "Three."}  # Four. is unchecked
        ratings = {quote: review["reviewRating"] for quote, review in by_quote.items()}
        assert {quote: rating["ratingValue"] for quote, rating in ratings.items()} == {
            "One.": verdicts.STATUSES["supported"]["rating"],
            "Two.": verdicts.STATUSES["disputed"]["rating"],
            "Three.": verdicts.STATUSES["mixed"]["rating"],
        }
        assert ratings["Two."]["alternateName"] == "Disputed by a reviewer"
        assert all(r["bestRating"] == 5 and r["worstRating"] == 1 for r in ratings.values())
        review = by_quote["One."]
        assert review["url"] == f"{SITE}/claims/{one.public_id}/"
        assert review["author"]["@type"] == "Organization"
        assert review["author"]["name"] == "Standpoint"
        assert review["itemReviewed"]["@type"] == "Claim"
        assert review["itemReviewed"]["appearance"]["url"] == (
            f"{SITE}/papers/reviewed/#claim-{one.public_id}"
        )
        assert f'id="claim-{one.public_id}"' in client.get("/papers/reviewed/").content.decode()
        assert four.public_id not in json.dumps(reviews)

    def test_a_title_cannot_break_out_of_the_script(self, client, editor):
        title = "</script><script>alert(1)</script><!--"
        paper = PaperFactory(slug="breakout", title=title, byline=title, standfirst=title)
        SectionFactory(paper=paper, body=f"{title} Claim.")
        ClaimFactory(section=paper.sections.get(), quote=f"{title} Claim.")
        workflow.publish_paper(approved(paper), by=editor)
        response = client.get("/papers/breakout/")
        (article,) = graph_of(response)["ScholarlyArticle"]  # one script, and it parses
        assert article["headline"] == title
        assert "</script><script>" not in response.content.decode().split("</h1>")[0]

    def test_json_ld_escapes_every_string(self):
        markup = json_ld({"a": "</script>\"'\\&\u2028\n", "b": [1, True, None], "c": {}})
        assert markup.startswith('<script type="application/ld+json">')
        body = markup.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
        assert not set("<>&'") & set(body)
        assert json.loads(body) == {"a": "</script>\"'\\&\u2028\n", "b": [1, True, None], "c": {}}

    @pytest.mark.parametrize(
        ("editions", "shown", "queries"),
        [
            (1, None, 0),  # /papers/<slug>/ of a first edition
            (1, 1, 0),  # /papers/<slug>/v1/, the latest
            (2, None, 1),  # the first edition's date
            (2, 1, 1),  # an older version's snapshot, which version_detail defers
        ],
    )
    def test_json_ld_queries_are_few_and_constant(
        self, published, editor, django_assert_num_queries, editions, shown, queries
    ):
        for _ in range(editions - 1):
            workflow.publish_correction(published, by=editor, note="Fixed.")
        if shown is None:  # fetched as paper_detail and version_detail fetch them
            paper = Paper.objects.select_related("live_version").get(pk=published.pk)
            version = paper.live_version
        else:
            versions = Version.objects.defer("snapshot").select_related("paper__live_version")
            version = versions.get(paper=published, number=shown)
            paper = version.paper
        template = Template("{% load metadata %}{% paper_json_ld paper version latest %}")
        context = {"site_name": "Standpoint", "site_url": SITE, "paper": paper, "version": version}
        with django_assert_num_queries(queries):
            template.render(Context({**context, "latest": version.pk == paper.live_version_id}))


class TestSitemap:
    def locations(self, client):
        response = client.get("/sitemap.xml")
        assert response.status_code == 200
        root = ET.fromstring(response.content)
        ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
        return {
            url.findtext("s:loc", namespaces=ns): url.findtext("s:lastmod", namespaces=ns)
            for url in root.findall("s:url", ns)
        }

    def test_it_lists_pages_papers_claims_and_tags_with_their_last_publication(
        self, client, published, editor
    ):
        nato = TagFactory(slug="nato", name="NATO")
        published.tags.add(nato)
        workflow.publish_correction(published, by=editor, note="Fixed.")
        published.refresh_from_db()
        day = published.live_version.published_at.date().isoformat()
        claims = VersionClaim.objects.filter(version=published.live_version)
        expected = {
            f"{SITE}/",
            f"{SITE}/papers/",
            f"{SITE}/claims/",
            f"{SITE}/tags/",
            f"{SITE}/corrections/",
            f"{SITE}/forecasts/",
            f"{SITE}/papers/draft-on-deterrence/",
            f"{SITE}/tags/nato/",
            *(f"{SITE}/claims/{claim.public_id}/" for claim in claims),
        }
        locations = self.locations(client)
        assert set(locations) == expected
        assert set(locations.values()) == {day}

    def test_drafts_withdrawn_papers_and_their_claims_and_tags_never_appear(
        self, client, draft, editor
    ):
        secret = TagFactory(slug="secret", name="Secret")
        draft.tags.add(secret)
        gone = PaperFactory(slug="gone")
        ClaimFactory(section=SectionFactory(paper=gone))
        gone.tags.add(TagFactory(slug="gone-tag"))
        workflow.publish_paper(approved(gone), by=editor)
        workflow.withdraw_paper(gone, by=editor, reason="Retracted.")
        locations = set(self.locations(client))
        lists = {"/", "/papers/", "/claims/", "/tags/", "/corrections/", "/forecasts/"}
        assert locations == {f"{SITE}{path}" for path in lists}
        for claim in [*draft.claims.all(), *gone.claims.all()]:
            assert f"{SITE}/claims/{claim.public_id}/" not in locations

    def test_its_queries_do_not_grow(self, client, published, editor, django_assert_num_queries):
        published.live_version.tags.add(TagFactory())
        with django_assert_num_queries(8):  # revision; latest date; count, page of 3 sitemaps
            client.get("/sitemap.xml")
        for n in range(4):
            paper = PaperFactory(slug=f"more-{n}")
            ClaimFactory(section=SectionFactory(paper=paper))
            paper.tags.add(TagFactory())
            workflow.publish_paper(approved(paper), by=editor)
        with django_assert_num_queries(8):
            client.get("/sitemap.xml")


def test_robots_txt_allows_all_but_admin_and_review_and_points_to_the_sitemap(client, settings):
    settings.SITE_URL = "https://standpoint.example"
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().splitlines() == [
        "User-agent: *",
        "Allow: /",
        "Disallow: /admin/",
        "Disallow: /review/",
        "Sitemap: https://standpoint.example/sitemap.xml",
    ]

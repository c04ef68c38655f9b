"""Forecasts on readers' pages (/forecasts/, the versions, the claim's page, JSON-LD, exports),
the resolve page, and the editors' desk."""

import datetime
import hashlib
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from papers import workflow
from papers.models import Claim, Resolution, Tag, VersionClaim
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    approved,
)

PAST = datetime.date(2020, 6, 30)
Outcome = Resolution.Outcome
pytestmark = pytest.mark.django_db


def publish(paper, by, note=""):
    if paper.live_version_id:
        return workflow.publish_correction(paper, by=by, note=note or "Corrected.")
    return workflow.publish_paper(approved(paper), by=by)


def forecast_paper(slug, *, due=PAST, tags=(), forecasts=1, factual=True):
    paper = PaperFactory(title=f"Paper {slug}", slug=slug)
    section = SectionFactory(
        paper=paper,
        body=" ".join(f"Event {n} will happen." for n in range(forecasts))
        + " NATO forces are present in Estonia.",
    )
    for n in range(forecasts):
        claim = ClaimFactory(
            section=section,
            quote=f"Event {n} will happen.",
            kind=Claim.Kind.PREDICTIVE,
            due=due,
            resolves_when=f"Event {n} is reported.",
        )
        claim.tags.set(tags)
    if factual:
        ClaimFactory(section=section, quote="NATO forces are present in Estonia.")
    return paper


def live_forecasts(paper):
    paper.refresh_from_db()
    return list(
        VersionClaim.objects.filter(version=paper.live_version, kind="predictive").order_by(
            "number"
        )
    )


def resolve(forecast, by, outcome=Outcome.CAME_TRUE, note="It happened.", sources=()):
    return workflow.resolve_forecast(forecast, by=by, outcome=outcome, note=note, sources=sources)


@pytest.fixture
def catalogue(editor):
    """Two published papers: one forecast due and one resolved in "alpha", one open in "beta";
    and a draft whose forecast is nobody's business."""
    nato = Tag.objects.create(name="NATO", slug="nato")
    alpha = forecast_paper("alpha", forecasts=2, tags=[nato])
    beta = forecast_paper("beta", due=datetime.date(2999, 1, 1))
    forecast_paper("secret-draft")
    publish(alpha, editor)
    publish(beta, editor)
    due, resolved = live_forecasts(alpha)
    resolve(
        resolved, editor, Outcome.DID_NOT, "It did not happen.", ["Report https://example.org/r"]
    )
    return {"alpha": alpha, "beta": beta, "due": due, "resolved": resolved}


class TestTheForecastsPage:
    def test_it_lists_published_forecasts_in_their_states(self, client, catalogue):
        page = client.get("/forecasts/").content.decode()
        assert "3 forecasts" in page
        assert "Event 0 will happen." in page and "Event 1 will happen." in page
        assert "Due, not yet resolved" in page and "Did not come true" in page
        assert "Paper secret-draft" not in page

    @pytest.mark.parametrize(
        ("query", "count"),
        [
            ("paper=alpha", 2),
            ("paper=beta", 1),
            ("tag=nato", 2),
            ("outcome=due", 1),
            ("outcome=open", 1),
            ("outcome=did_not", 1),
            ("outcome=came_true", 0),
            ("paper=alpha&outcome=did_not", 1),
        ],
    )
    def test_it_filters_by_paper_tag_and_outcome(self, client, catalogue, query, count):
        page = client.get(f"/forecasts/?{query}").content.decode()
        assert page.count('class="forecast forecast--') == count

    @pytest.mark.parametrize("query", ["paper=secret-draft", "tag=nope", "outcome=maybe"])
    def test_an_unknown_filter_says_so_and_lists_nothing(self, client, catalogue, query):
        answer = client.get(f"/forecasts/?{query}")
        assert answer.status_code == 200
        page = answer.content.decode()
        assert 'role="status"' in page and 'class="forecast forecast--' not in page
        assert "Event 0 will happen." not in page.split("forecast-table")[0]

    def test_the_track_record_is_a_chart_with_the_same_figures_in_a_table(self, client, catalogue):
        page = client.get("/forecasts/").content.decode()
        svg = page[page.index("<svg") : page.index("</svg>")]
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
        assert "Open: 1; Due, not yet resolved: 1; Came true: 0; Did not come true: 1" in svg
        table = page[page.index("</svg>") :]
        assert re.search(r"Did not come true</a></th><td>1</td>", table)
        assert re.search(r"Open</a></th><td>0</td>", page) is None  # the catalogue has one open

    def test_each_papers_record_is_listed_and_one_paper_can_be_charted(self, client, catalogue):
        page = client.get("/forecasts/").content.decode()
        assert "Track record by paper" in page
        one = client.get("/forecasts/?paper=alpha").content.decode()
        assert "Track record: Paper alpha" in one
        assert "Open: 0; Due, not yet resolved: 1; Came true: 0; Did not come true: 1" in one

    def test_it_is_paginated(self, client, editor):
        publish(forecast_paper("many", forecasts=35, factual=False), editor)
        first = client.get("/forecasts/").content.decode()
        assert first.count('class="forecast forecast--') == 30 and "page 1 of 2" in first
        second = client.get("/forecasts/?page=2").content.decode()
        assert second.count('class="forecast forecast--') == 5

    def test_its_query_count_does_not_grow_with_the_forecasts(
        self, client, editor, django_assert_num_queries
    ):
        publish(forecast_paper("few", forecasts=1), editor)
        client.get("/forecasts/")
        with django_assert_num_queries(6) as few:
            client.get("/forecasts/")
        paper = forecast_paper("more", forecasts=12, tags=[Tag.objects.create(name="T", slug="t")])
        publish(paper, editor)
        for forecast in live_forecasts(paper)[:4]:
            resolve(forecast, editor)
        with django_assert_num_queries(len(few.captured_queries)):
            client.get("/forecasts/")


class TestTheResolvePage:
    def url(self, forecast):
        return f"/forecasts/{forecast.public_id}/resolve/"

    def test_anonymous_readers_are_sent_to_sign_in(self, client, catalogue):
        answer = client.get(self.url(catalogue["due"]))
        assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]

    def test_a_reviewer_not_asked_gets_403_and_writes_nothing(self, client, catalogue):
        client.force_login(ReviewerFactory())
        assert client.get(self.url(catalogue["due"])).status_code == 403
        form = {"outcome": "came_true", "note": "Yes."}
        assert client.post(self.url(catalogue["due"]), form).status_code == 403
        assert Resolution.objects.count() == 1

    def test_an_assigned_reviewer_records_one(self, client, catalogue, editor):
        reviewer = ReviewerFactory()
        workflow.assign_reviewer(catalogue["alpha"], reviewer, by=editor)
        client.force_login(reviewer)
        form = {"outcome": "partly", "note": "Half.", "sources": "https://example.org/a"}
        answer = client.post(self.url(catalogue["due"]), form)
        assert answer.status_code == 302
        assert answer["Location"] == f"/claims/{catalogue['due'].public_id}/"
        resolution = Resolution.objects.get(public_id=catalogue["due"].public_id)
        assert (resolution.resolved_by, resolution.outcome) == (reviewer, "partly")

    def test_an_editor_supersedes_a_resolution(self, editor_client, catalogue):
        form = {"outcome": "came_true", "note": "It happened after all.", "sources": ""}
        editor_client.post(self.url(catalogue["resolved"]), form)
        assert Resolution.objects.filter(public_id=catalogue["resolved"].public_id).count() == 2
        page = editor_client.get(self.url(catalogue["resolved"])).content.decode()
        assert "Superseded." in page and "It did not happen." in page

    @pytest.mark.parametrize(
        "form",
        [
            {"outcome": "maybe", "note": "Yes."},
            {"outcome": "came_true", "note": ""},
            {"outcome": "came_true", "note": "Yes.", "sources": "Evil javascript://alert(1)"},
        ],
    )
    def test_bad_input_re_renders_with_a_message_and_writes_nothing(
        self, editor_client, catalogue, form
    ):
        answer = editor_client.post(self.url(catalogue["due"]), form)
        assert answer.status_code == 200
        assert "errorlist" in answer.content.decode()
        assert Resolution.objects.count() == 1

    def test_a_draft_claim_or_a_claim_that_is_not_a_forecast_is_404(self, editor_client, catalogue):
        draft_claim = Claim.objects.get(paper__slug="secret-draft", kind="predictive")
        assert editor_client.get(self.url(draft_claim)).status_code == 404
        factual = VersionClaim.objects.filter(kind="factual").first()
        assert editor_client.get(self.url(factual)).status_code == 404

    def test_it_needs_a_csrf_token(self, catalogue, editor):
        client = Client(enforce_csrf_checks=True)
        client.force_login(editor)
        form = {"outcome": "came_true", "note": "Yes."}
        assert client.post(self.url(catalogue["due"]), form).status_code == 403


class TestWhereReadersSeeIt:
    def test_every_versions_page_shows_the_outcome_under_the_claim(self, client, catalogue, editor):
        alpha, resolved = catalogue["alpha"], catalogue["resolved"]
        publish(alpha, editor, "A second edition.")
        for url in ("/papers/alpha/", "/papers/alpha/v1/", "/papers/alpha/v2/"):
            page = client.get(url).content.decode()
            start = page.index(f'id="claim-note-{resolved.public_id}"')
            note = page[start : page.index("</li>", start)]
            assert "Forecast resolved: did not come true" in note, url
            other = page.index(f'id="claim-note-{catalogue["due"].public_id}"')
            assert "Forecast resolved" not in page[other : page.index("</li>", other)]

    def test_a_resolution_changes_the_pages_etag(self, client, catalogue, editor):
        before = client.get("/papers/alpha/")["ETag"]
        resolve(catalogue["due"], editor)
        assert client.get("/papers/alpha/")["ETag"] != before
        assert client.get("/papers/alpha/", HTTP_IF_NONE_MATCH=before).status_code == 200

    def test_the_claims_page_shows_the_date_criteria_and_every_resolution(
        self, client, catalogue, editor
    ):
        resolved = catalogue["resolved"]
        resolve(resolved, editor, Outcome.CAME_TRUE, "Late, but it did.")
        page = client.get(f"/claims/{resolved.public_id}/").content.decode()
        assert "2020-06-30" in page and "Event 1 is reported." in page
        assert page.index("Late, but it did.") < page.index("It did not happen.")
        assert "superseded" in page
        assert 'href="https://example.org/r"' in page

    def test_the_json_ld_carries_the_forecast_and_its_outcome(self, client, catalogue):
        page = client.get("/papers/alpha/").content.decode()
        raw = page.split('<script type="application/ld+json">')[1].split("</script>")[0]
        graph = json.loads(raw)["@graph"]
        claims = {node["text"]: node for node in graph if node["@type"] == "Claim"}
        resolved = claims["Event 1 will happen."]
        assert resolved["review"]["reviewRating"]["alternateName"] == "Did not come true"
        assert resolved["review"]["citation"] == [
            {"@type": "CreativeWork", "name": "Report", "url": "https://example.org/r"}
        ]
        due = claims["Event 0 will happen."]
        assert "review" not in due
        assert {"@type": "PropertyValue", "propertyID": "due", "value": "2020-06-30"} in due[
            "additionalProperty"
        ]

    def test_the_markdown_export_carries_the_resolution_and_the_json_keeps_its_hash(
        self, client, catalogue
    ):
        markdown = client.get("/papers/alpha/export.md").content.decode()
        assert "resolutions:" in markdown and "outcome: did_not" in markdown
        exported = client.get("/papers/alpha/export.json")
        fingerprint = catalogue["alpha"].live_version.fingerprint
        assert hashlib.sha256(exported.content).hexdigest() == fingerprint


class TestTheDesk:
    def test_the_desk_lists_forecasts_that_came_due(self, editor_client, catalogue):
        page = editor_client.get("/admin/").content.decode()
        block = page[page.index('id="desk-forecasts"') :]
        block = block[: block.index("</section>")]
        assert f"/forecasts/{catalogue['due'].public_id}/resolve/" in block
        assert "Event 1 will happen." not in block  # resolved
        resolve(catalogue["due"], Resolution.objects.first().resolved_by)
        page = editor_client.get("/admin/").content.decode()
        assert "No published forecast is waiting for its resolution." in page

    def test_a_forecast_not_yet_due_is_not_on_the_desk(self, editor_client, editor):
        publish(
            forecast_paper("later", due=timezone.localdate() + datetime.timedelta(days=1)), editor
        )
        page = editor_client.get("/admin/").content.decode()
        assert "No published forecast is waiting for its resolution." in page

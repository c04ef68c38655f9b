"""Drafts, reviews, comments and the event log never leak to readers (R1, R2).

A published paper then gets a marker in everything that is not published: its draft title, a
section, a claim's quote, a comment, an assessment's note, a review's summary and an event's
note, all written through the workflow functions; a second paper, never published, carries the
marker in its title, text and claim. No public page, feed, sitemap or export shows the marker,
in its body or its headers.
"""

import pytest
from django.test import Client

from papers import anchoring, typesetting, workflow
from papers.models import Claim, Comment, Event, Paper, Review, VersionClaim
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, TagFactory, approved

pytestmark = pytest.mark.django_db

MARKER = "LEAK-MARKER-7f3"
MARKER_BYTES = MARKER.lower().encode()


@pytest.fixture
def leaky(editor, reviewer):
    """Returns (published paper, never-published paper), the marker everywhere unpublished."""
    nato = TagFactory(slug="nato", name="NATO")
    paper = PaperFactory(slug="forward-defence", title="Forward defence")
    paper.tags.set([nato])
    first = SectionFactory(paper=paper, position=0, heading="Presence")
    second = SectionFactory(
        paper=paper, position=1, heading="Outlook", body="Deterrence will hold for a decade."
    )
    ClaimFactory(section=first).tags.set([nato])
    forecast = ClaimFactory(
        section=first, quote="Russia has not attacked a NATO member.", kind="predictive"
    )
    forecast.tags.set([nato])
    moving = ClaimFactory(section=second, quote="Deterrence will hold for a decade.")
    workflow.publish_paper(approved(paper), by=None, note="First edition.")
    first.body += " Sweden joined NATO in 2024."
    first.save()
    workflow.publish_correction(paper, by=editor, note="Added Sweden.")  # v2: a diff exists

    # A review round on the working copy.
    workflow.assign_reviewer(paper, reviewer, by=editor)
    workflow.submit_paper(paper, by=editor)
    paper.refresh_from_db()
    paper.title = f"Forward defence {MARKER}"
    paper.save()
    first.body += f" A sentence with {MARKER} in the draft."
    first.save()
    anchoring.reanchor_section(first)
    second.body = f"Deterrence will hold for a decade, says {MARKER}."
    second.save()
    moving.quote = f"says {MARKER}"
    Claim.objects.filter(pk=forecast.pk).update(due="2020-01-01", resolves_when=f"If {MARKER}")
    moving.save()
    anchoring.reanchor_section(second)
    moving.refresh_from_db()
    assert MARKER in moving.quote and not moving.is_orphaned

    review = Review.objects.get(paper=paper, reviewer=reviewer)
    workflow.assess_claim(review, moving, by=reviewer, verdict="disputed", note=f"Note {MARKER}")
    workflow.add_comment(moving, by=reviewer, body=f"Comment {MARKER}")
    workflow.submit_review(review, by=reviewer, recommendation="revise", summary=f"Sum {MARKER}")
    workflow.request_changes(paper, by=editor, reason=f"Reason {MARKER}")

    hidden = PaperFactory(slug="hidden-paper", title=f"Hidden {MARKER}", standfirst=MARKER)
    hidden.tags.set([nato])
    section = SectionFactory(paper=hidden, heading=MARKER, body=f"Text {MARKER} here.")
    hidden_forecast = ClaimFactory(
        section=section, quote=f"Text {MARKER} here.", kind="predictive", due="2020-01-01"
    )
    hidden_forecast.tags.set([nato])

    # The marker is really stored everywhere the test says it is.
    assert Comment.objects.filter(body__contains=MARKER).count() == 2  # + the concern's thread
    assert review.assessments.get().note == f"Note {MARKER}"
    assert Review.objects.get(pk=review.pk).summary == f"Sum {MARKER}"
    assert Event.objects.filter(paper=paper, note__contains=MARKER).exists()
    paper.refresh_from_db()
    assert paper.live_version.number == 2
    return paper, hidden


def public_urls(paper, hidden):
    slug = paper.slug
    urls = {
        "/": 200,
        "/papers/": 200,
        "/papers/?q=marker": 200,
        "/papers/?q=Forward": 200,
        "/papers/?tag=nato": 200,
        f"/papers/{slug}/": 200,
        f"/papers/{slug}/v1/": 200,
        f"/papers/{slug}/v2/": 200,
        f"/papers/{slug}/v3/": 404,
        # Its text is compressed in the file: tests/test_pdf.py reads what a PDF shows.
        f"/papers/{slug}/v2/paper.pdf": 200 if typesetting.available() else 503,
        f"/papers/{slug}/v3/paper.pdf": 404,
        f"/papers/{slug}/versions/": 200,
        f"/papers/{slug}/diff/1/2/": 200,
        f"/papers/{slug}/export.md": 200,
        f"/papers/{slug}/export.json": 200,
        f"/papers/{slug}/cite/": 200,
        f"/papers/{slug}/v1/cite/": 200,
        **{f"/papers/{slug}/cite.{fmt}": 200 for fmt in ("bib", "ris", "json")},
        "/claims/": 200,
        "/claims/?tag=nato": 200,
        "/claims/?status=disputed": 200,
        "/tags/nato/": 200,
        "/tags/": 200,
        "/claims/?q=marker": 200,
        "/feed/": 200,
        "/corrections/": 200,
        f"/corrections/?paper={slug}": 200,
        "/corrections/?tag=nato": 200,
        "/corrections/feed/": 200,
        "/forecasts/": 200,
        f"/forecasts/?paper={slug}": 200,
        "/forecasts/?tag=nato&outcome=open": 200,
        "/forecasts/?outcome=due": 200,
        f"/forecasts/?paper={hidden.slug}": 200,
        f"/corrections/?paper={hidden.slug}": 404,
        "/sitemap.xml": 200,
        "/robots.txt": 200,
        f"/papers/{hidden.slug}/": 404,
        f"/papers/{hidden.slug}/v1/": 404,
        f"/papers/{hidden.slug}/v1/paper.pdf": 404,
        f"/papers/{hidden.slug}/versions/": 404,
        f"/papers/{hidden.slug}/export.md": 404,
        f"/papers/{hidden.slug}/export.json": 404,
        f"/papers/{hidden.slug}/cite/": 404,
        f"/papers/{hidden.slug}/cite.bib": 404,
        # The claims API: every operation, with filters, and the draft's addresses.
        "/api/v1/": 200,
        "/api/v1/schema/": 200,
        "/api/v1/docs/": 200,
        "/api/v1/papers/": 200,
        "/api/v1/papers/?tag=nato": 200,
        f"/api/v1/papers/{slug}/": 200,
        f"/api/v1/papers/{slug}/versions/1/": 200,
        f"/api/v1/papers/{slug}/versions/2/": 200,
        f"/api/v1/papers/{slug}/versions/3/": 404,
        "/api/v1/claims/": 200,
        "/api/v1/claims/?tag=nato&status=disputed": 200,
        f"/api/v1/claims/?paper={slug}&kind=factual": 200,
        "/api/v1/corrections/": 200,
        f"/api/v1/corrections/?paper={slug}": 200,
        f"/api/v1/papers/{hidden.slug}/": 404,
        f"/api/v1/papers/{hidden.slug}/versions/1/": 404,
        f"/api/v1/claims/?paper={hidden.slug}": 200,
        f"/api/v1/corrections/?paper={hidden.slug}": 404,
    }
    for public_id in VersionClaim.objects.values_list("public_id", flat=True).distinct():
        urls[f"/claims/{public_id}/"] = 200
        urls[f"/claims/{public_id}/cite/"] = 200
        urls[f"/claims/{public_id}/cite.bib"] = 200
        urls[f"/api/v1/claims/{public_id}/"] = 200
    for public_id in Claim.objects.filter(paper=hidden).values_list("public_id", flat=True):
        urls[f"/claims/{public_id}/"] = 404
        urls[f"/claims/{public_id}/cite/"] = 404
        urls[f"/api/v1/claims/{public_id}/"] = 404
    return urls


def test_the_marker_appears_on_no_public_page(leaky, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # where the PDFs are stored
    paper, hidden = leaky
    client = Client()
    leaks = []
    for url, status in public_urls(paper, hidden).items():
        response = client.get(url)
        assert response.status_code == status, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        headers = "\n".join(f"{k}: {v}" for k, v in response.items()).casefold()
        if MARKER_BYTES in body.lower() or MARKER.casefold() in headers:
            leaks.append(url)
    assert leaks == []


def test_a_search_for_the_marker_finds_nothing_and_only_echoes_the_query(leaky):
    """The search page repeats the query: apart from that, it is the page for a word found
    nowhere (same length, so nothing shifts)."""
    client = Client()
    nowhere = "ZZZ-NOWHERE-000"
    assert len(nowhere) == len(MARKER)
    found = client.get("/papers/", {"q": MARKER})
    control = client.get("/papers/", {"q": nowhere})
    assert found.status_code == control.status_code == 200
    assert found.content.decode().replace(MARKER, nowhere) == control.content.decode()
    assert MARKER.casefold() not in "\n".join(f"{k}: {v}" for k, v in found.items()).casefold()


def test_the_published_text_is_what_readers_get(leaky):
    """The marker-free pages are not empty ones: readers see the published v2."""
    paper, _ = leaky
    content = Client().get(f"/papers/{paper.slug}/").content.decode()
    assert "Forward defence" in content
    assert "Sweden joined NATO in 2024." in content
    assert "Deterrence will hold for a decade." in content
    assert Paper.objects.get(pk=paper.pk).stage == Paper.Stage.CHANGES_REQUESTED
    forecasts = Client().get("/forecasts/?tag=nato").content.decode()
    assert "Russia has not attacked a NATO member." in forecasts and "1 forecast" in forecasts

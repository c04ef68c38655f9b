"""load_demo: the demo paper with its claims, accounts, and a second run that changes nothing."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import Client

from papers import permissions
from papers.models import (
    Assessment,
    Claim,
    ClaimSource,
    Comment,
    Event,
    Paper,
    Resolution,
    Review,
    Version,
)

pytestmark = pytest.mark.django_db


def load_demo(**options):
    out = StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


def test_it_is_refused_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published passwords"):
        load_demo()
    assert not get_user_model().objects.exists()
    assert "Demo account editor" in load_demo(force=True)


def test_it_loads_a_published_paper_with_claims_of_every_kind(settings):
    settings.DEBUG = True
    out = load_demo()
    paper = Paper.objects.get(slug="baltic-states-nato")
    assert paper.versions.get(number=1).claim_count >= 12
    claims = Claim.objects.filter(paper=paper)
    assert claims.count() >= 12
    assert set(claims.values_list("kind", flat=True)) == set(Claim.Kind.values)
    assert all(claim.tags.exists() for claim in claims)
    assert claims.filter(sources__isnull=False).exists()
    assert "standpoint-editor" in out and "/papers/baltic-states-nato/" in out


def test_the_demo_accounts_have_their_roles(settings):
    settings.DEBUG = True
    load_demo()
    editor = get_user_model().objects.get(username="editor")
    reviewer = get_user_model().objects.get(username="reviewer")
    assert permissions.is_editor(editor)
    assert not permissions.is_editor(reviewer)
    assert reviewer.groups.filter(name=permissions.REVIEWERS).exists()
    # Addresses of their own, so that notifications and the password reset reach them.
    assert (editor.email, reviewer.email) == ("editor@example.org", "reviewer@example.org")
    # django-axes checks every sign-in against its lockouts, which needs the request.
    assert Client().login(request=HttpRequest(), username="editor", password="standpoint-editor")


def test_the_review_caught_the_papers_flaws_and_version_2_corrects_them(settings):
    settings.DEBUG = True
    load_demo()
    paper = Paper.objects.get(slug="baltic-states-nato")
    first, second = paper.versions.order_by("number")
    assert not first.is_correction and second.is_correction
    assert "Chechnya is no longer listed" in second.note
    disputed = Assessment.objects.filter(review__round=1, verdict="disputed")
    assert {a.claim_text[:30] for a in disputed} == {
        "the actions against non-NATO m",
        "Estonia, for instance, would n",
        "Estonia understands the import",
        "the Baltic states are unlikely",
    }
    assert "close relationship" in first.body_html and "close relationship" not in second.body_html
    assert "tense relationship" in second.body_html
    assert not Comment.objects.filter(parent=None, resolved_at__isnull=True).exists()
    reviews = Review.objects.filter(paper=paper)
    assert list(reviews.values_list("round", "status", "recommendation")) == [
        (2, "submitted", "approve"),
        (1, "submitted", "revise"),
    ]
    assert "Checked by 1 reviewer: supported" in second.body_html
    assert "A reviewer asked for a source" in second.body_html


def test_a_second_run_changes_nothing(settings):
    settings.DEBUG = True
    load_demo()
    models = (Paper, Claim, Version, Event, Review, Assessment, Comment)
    counts = [model.objects.count() for model in models]
    out = load_demo()
    assert "nothing changed" in out
    assert [model.objects.count() for model in models] == counts
    assert get_user_model().objects.count() == 2


def test_the_demo_paper_page_shows_every_claim_marked(settings):
    settings.DEBUG = True
    load_demo()
    html = Client().get("/papers/baltic-states-nato/").content.decode()
    assert (
        html.count('<a class="claim-ref"')
        == Claim.objects.filter(paper__slug="baltic-states-nato").count()
    )


def test_the_demo_shows_a_forecast_that_came_due_and_one_resolved(settings):
    settings.DEBUG = True
    load_demo()
    page = Client().get("/forecasts/?paper=baltic-states-nato").content.decode()
    assert "Came true: 1" in page and "Due, not yet resolved: 1" in page
    assert "The threat of Russian invasion is real and acute." in page
    (resolved,) = Resolution.objects.all()
    assert resolved.outcome == "came_true"
    claim_page = Client().get(f"/claims/{resolved.public_id}/").content.decode()
    assert "Forecast resolved: came true" in claim_page


def test_the_second_paper_is_in_review_and_its_similar_claim_is_flagged(settings):
    settings.DEBUG = True
    out = load_demo()
    paper = Paper.objects.get(slug="nordic-enlargement-baltic-security")
    assert f"/review/{paper.slug}/" in out
    assert paper.stage == Paper.Stage.IN_REVIEW
    uses = set(ClaimSource.objects.filter(claim__paper=paper).values_list("use", flat=True))
    assert uses == set(ClaimSource.Use.values)
    client = Client()
    client.force_login(get_user_model().objects.get(username="reviewer"))
    html = client.get(f"/review/{paper.slug}/").content.decode()
    # Its forecast resembles the first paper's, as version 1 put it before the correction.
    assert "Resembles a claim elsewhere: reworded by a correction in v2" in html
    assert "If Russia were to confront NATO forces directly, the outcome would be" in html
    assert 'href="/papers/baltic-states-nato/v2/"' in html

"""The editors' desk at /admin/ in a real browser: an editor signs in, every block has rows, and
axe-core finds no WCAG 2.2 AA violation in either colour scheme (`pytest -m browser`)."""

import datetime

import pytest
from django.utils import timezone

from papers import workflow
from papers.models import Assessment, Paper, Review
from tests.browser.test_accessibility import COLOUR_SCHEMES, describe_violations, run_axe
from tests.factories import (
    ClaimFactory,
    EditorFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
)

PASSWORD = "a long enough test passphrase"


@pytest.fixture
def busy_desk(transactional_db, django_db_serialized_rollback):
    """An editor, and a desk with no empty block: a paper in review with a submitted and an
    overdue review and an orphaned claim, a scheduled publication, and a published paper."""
    EditorFactory(username="eda", password=PASSWORD)
    paper = PaperFactory(title="Sanctions and Their Limits", stage=Paper.Stage.IN_REVIEW, round=1)
    claim = ClaimFactory(section=SectionFactory(paper=paper))
    ClaimFactory(section=None, paper=paper, quote="Words no longer in the paper.")
    done = Review.objects.create(
        paper=paper,
        round=1,
        reviewer=ReviewerFactory(username="prompt", first_name="Pia"),
        status=Review.Status.SUBMITTED,
        recommendation=Review.Recommendation.REVISE,
        submitted_at=timezone.now(),
    )
    Assessment.objects.create(
        review=done,
        claim=claim,
        verdict=Assessment.Verdict.DISPUTED,
        claim_text=claim.quote,
        claim_hash=claim.text_hash,
    )
    Review.objects.create(
        paper=paper,
        round=1,
        reviewer=ReviewerFactory(username="tardy", first_name="Tom"),
        due_date=timezone.localdate() - datetime.timedelta(days=4),
    )
    PaperFactory(
        title="Energy Security After 2030",
        stage=Paper.Stage.APPROVED,
        publish_at=timezone.now() + datetime.timedelta(days=2),
    )
    published = PaperFactory(title="The Baltic States and NATO")
    SectionFactory(paper=published)
    workflow.publish_paper(published, by=None, note="First edition.")


@pytest.mark.browser
def test_the_desk_is_axe_clean_for_a_signed_in_editor(
    busy_desk, live_server, page, expect, axe_source
):
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("eda")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="Editors’ desk")).to_be_visible()
    for block in ["Reviews awaiting a decision", "Overdue reviews", "Orphaned claims"]:
        expect(page.get_by_role("heading", level=2, name=block)).to_be_visible()
    expect(page.get_by_role("link", name="Sanctions and Their Limits", exact=True)).to_have_count(3)
    expect(page.get_by_role("link", name="Energy Security After 2030")).to_be_visible()
    expect(page.get_by_role("link", name="The Baltic States and NATO, v1")).to_be_visible()

    report = []
    for scheme in COLOUR_SCHEMES:
        # Loaded again in each scheme: the admin's links fade between colours when the scheme
        # changes under them, and axe would measure a colour half-way.
        page.emulate_media(color_scheme=scheme)
        page.reload()
        expect(page.get_by_role("heading", level=1, name="Editors’ desk")).to_be_visible()
        violations = run_axe(page, axe_source)
        if violations:
            report.append(f"--- {scheme} colour scheme\n{describe_violations(violations)}")
    assert not report, "axe-core on /admin/:\n" + "\n".join(report)

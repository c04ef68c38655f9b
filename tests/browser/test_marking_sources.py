"""How a claim uses each of its sources, chosen in the marking form in a real browser
(`pytest -m browser`): the select beside each source is saved with the claim, shown again when
the claim is reopened, and read out in the claim's note once the paper is published."""

import pytest

from papers import workflow
from papers.models import Claim, ClaimSource
from tests.browser.test_marking import BODY, HEADING
from tests.factories import (
    ClaimFactory,
    EditorFactory,
    PaperFactory,
    SectionFactory,
    SourceFactory,
    approved,
)

QUOTE = "This includes not only military presence"


@pytest.fixture
def section(transactional_db, django_db_serialized_rollback):
    """A section with one claim that a source qualifies, and the section's editor."""
    EditorFactory(username="editor")
    paper = PaperFactory(title="Is There a Chance of the Baltic States Leaving NATO?")
    section = SectionFactory(paper=paper, position=0, heading=HEADING, body=BODY)
    claim = ClaimFactory(section=section, quote=QUOTE)
    claim.sources.add(
        SourceFactory(title="ICDS brief", publisher="ICDS"), through_defaults={"use": "qualifies"}
    )
    return section


@pytest.fixture
def claim_form(section, live_server, page, expect):
    """The claim's marking form, opened from its highlight by the signed-in editor."""
    page.csp_errors = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.csp_errors.append(message.text)
        ),
    )
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a long enough test passphrase")
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + f"/admin/papers/section/{section.pk}/change/")
    claim = section.claims.get()
    page.locator(f"#claim-{claim.public_id}").click()
    form = page.get_by_role("dialog", name="Claim 1")
    expect(form).to_be_visible()
    return form


def uses_of(claim):
    return dict(claim.claimsource_set.values_list("source__title", "use"))


@pytest.mark.browser
def test_the_editor_chooses_how_each_source_is_used_and_readers_see_it(
    section, claim_form, page, live_server, expect
):
    form = claim_form
    kept = form.get_by_label("How the claim uses ICDS brief")
    expect(kept).to_have_value("qualifies")
    kept.select_option("disputes")
    form.get_by_label("Find a source by title or URL").fill("RAND")
    form.get_by_role("option", name="Add a new source “RAND”…").click()
    form.get_by_label("Source URL").fill("rand.org/baltics")
    form.get_by_role("button", name="Add this source").click()
    added = form.get_by_label("How the claim uses RAND")
    expect(added).to_have_value("supports")  # what a source is taken to do unless told
    added.select_option("background")
    form.get_by_role("button", name="Save claim").click()
    expect(form).to_be_hidden()

    claim = Claim.objects.get(section=section)
    assert uses_of(claim) == {"ICDS brief": "disputes", "RAND": "background"}

    # Reopened, the form shows the uses saved; a change of one alone is saved.
    page.locator(f"#claim-{claim.public_id}").click()
    form = page.get_by_role("dialog", name="Claim 1")
    expect(form.get_by_label("How the claim uses ICDS brief")).to_have_value("disputes")
    expect(form.get_by_label("How the claim uses RAND")).to_have_value("background")
    form.get_by_label("How the claim uses RAND").select_option("supports")
    form.get_by_role("button", name="Save claim").click()
    expect(form).to_be_hidden()
    assert uses_of(claim) == {"ICDS brief": "disputes", "RAND": "supports"}
    assert not page.csp_errors

    # Published, the claim's note says how each source is used; its own page sums them up.
    workflow.publish_paper(approved(section.paper), by=None, note="First edition.")
    page.goto(live_server.url + section.paper.get_absolute_url())
    note = page.locator(f"#claim-note-{claim.public_id}")
    expect(note).to_contain_text("Disputes: ICDS brief, ICDS. Supports: RAND.")
    expect(note.get_by_role("link", name="RAND")).to_have_attribute(
        "href", "https://rand.org/baltics"
    )
    page.goto(live_server.url + f"/claims/{claim.public_id}/")
    expect(page.get_by_role("main")).to_contain_text("1 source supports it, 1 disputes it.")


@pytest.mark.browser
def test_an_unknown_use_sent_by_a_tampered_form_is_refused(section, claim_form, page, expect):
    form = claim_form
    select = form.get_by_label("How the claim uses ICDS brief")
    tamper = "(select) => { select.options[0].value = 'refutes'; select.value = 'refutes'; }"
    select.evaluate(tamper)
    form.get_by_role("button", name="Save claim").click()
    expect(form.locator("[data-errors='sources']")).to_contain_text(
        "Choose how the claim uses “ICDS brief (ICDS)”"
    )
    expect(form).to_be_visible()
    claim = Claim.objects.get(section=section)
    assert list(claim.claimsource_set.values_list("use", flat=True)) == [ClaimSource.Use.QUALIFIES]

"""A reader's path through the demo paper in a real browser (`pytest -m browser`).

Playwright's expectations wait by themselves; nothing here sleeps.
"""

import io
import re

import pytest
from django.core.management import call_command

from tests.factories import ClaimFactory, PaperFactory, SectionFactory

DEMO_SLUG = "baltic-states-nato"
DEMO_URL = f"/papers/{DEMO_SLUG}/"
KIND_LABEL = re.compile(r"^(Factual|Historical|Causal|Predictive|Normative) claim \d+$")


@pytest.fixture
def demo(transactional_db, django_db_serialized_rollback):
    """The demo paper, published; force because tests run with DEBUG off.

    Serialized rollback puts back what migrations made (the Editors and Reviewers groups that
    load_demo needs), which the flush after every transactional test empties.
    """
    call_command("load_demo", force=True, stdout=io.StringIO())


@pytest.mark.browser
def test_reader_follows_the_demo_paper_its_contents_and_a_claim(demo, live_server, page, expect):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=re.compile("Baltic States Leaving NATO")).click()
    expect(page).to_have_url(live_server.url + DEMO_URL)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Baltic States Leaving NATO")

    # The claim marks are in the text, many distinct claims.
    marks = page.locator("mark.claim")
    expect(marks.first).to_be_visible()
    for mark in marks.all():
        expect(mark).to_be_visible()
    claim_ids = set(marks.evaluate_all("els => els.map(el => el.id || el.dataset.claim)"))
    assert len(claim_ids) >= 12, claim_ids

    # The table of contents jumps to a section.
    toc_link = page.locator("nav.toc a").last
    anchor = toc_link.get_attribute("href")
    assert anchor and anchor.startswith("#"), anchor
    toc_link.click()
    expect(page).to_have_url(live_server.url + DEMO_URL + anchor)
    heading = page.locator(":target")
    expect(heading).to_have_id(anchor[1:])
    expect(heading).to_be_in_viewport()

    # A claim's numbered reference, activated from the keyboard, lands on its note.
    reference = page.locator("a.claim-ref").first
    note_anchor = reference.get_attribute("href")
    assert note_anchor and note_anchor.startswith("#claim-note-"), note_anchor
    claim_id = note_anchor.removeprefix("#claim-note-")
    reference.focus()
    expect(reference).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + DEMO_URL + note_anchor)
    note = page.locator(":target")
    expect(note).to_have_id(note_anchor[1:])
    expect(note).to_be_in_viewport()
    own_page = note.get_by_role("link", name=KIND_LABEL)  # "Factual claim 1" and so on
    expect(own_page).to_be_visible()
    expect(own_page).to_have_attribute("href", f"/claims/{claim_id}/")

    # The note's back link returns to the mark in the text.
    note.get_by_role("link", name="Back to the text").click()
    expect(page).to_have_url(live_server.url + DEMO_URL + f"#claim-{claim_id}")
    mark = page.locator(":target")
    expect(mark).to_have_id(f"claim-{claim_id}")
    expect(mark).to_be_in_viewport()


@pytest.mark.browser
def test_the_paper_page_has_no_console_errors_or_failed_requests(demo, live_server, page, expect):
    problems = []

    def on_console(message):
        if message.type == "error":
            problems.append(f"console error: {message.text} at {message.location}")

    def on_response(response):
        if response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    page.on("response", on_response)

    response = page.goto(live_server.url + DEMO_URL, wait_until="load")
    assert response is not None and response.status == 200
    expect(page.locator("mark.claim").first).to_be_visible()
    # Every stylesheet, script and image the page asked for has arrived by now.
    page.wait_for_load_state("networkidle")
    assert problems == []


@pytest.mark.browser
def test_a_draft_paper_is_not_found(
    transactional_db, django_db_serialized_rollback, live_server, page, expect
):
    draft = PaperFactory(title="Unpublished thoughts", slug="unpublished-thoughts")
    section = SectionFactory(paper=draft, heading="Background", position=0)
    ClaimFactory(paper=draft, section=section, quote="NATO forces are present in Estonia.")

    response = page.goto(live_server.url + f"/papers/{draft.slug}/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_text("Unpublished thoughts")).to_have_count(0)

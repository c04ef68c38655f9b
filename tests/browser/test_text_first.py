"""The demo paper's text on the first screen, at a laptop's size and a phone's, and a claim's
highlight leading to its note and on to the claim's page (`pytest -m browser`)."""

import re

import pytest

from tests.browser.conftest import DEMO_SLUG

SIZES = {"laptop": (1280, 800), "phone": (375, 812)}
# Where the first paragraph's top may be, from the top of the page: on the laptop, within the
# first screen with two lines to spare; on the phone, within 900 px.
LIMITS = {"laptop": 800 - 60, "phone": 900}


def first_paragraph_top(page):
    return page.evaluate(
        "() => document.querySelector('.paper__body .prose > p').getBoundingClientRect().top"
        " + window.scrollY"
    )


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("path", ["/", "/v1/"], ids=["latest-a-correction", "older-version"])
def test_the_first_paragraph_is_on_the_first_screen(demo_site, live_server, page, size, path):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    page.goto(live_server.url + f"/papers/{DEMO_SLUG}" + path)
    assert first_paragraph_top(page) <= LIMITS[size]


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_the_correction_is_said_once_and_opens_in_place(demo_site, live_server, page, size, expect):
    from papers.models import Paper

    note = Paper.objects.get(slug=DEMO_SLUG).live_version.note
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    page.goto(live_server.url + f"/papers/{DEMO_SLUG}/")
    notice = page.locator("#correction")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Correction")
    first_words = " ".join(note.split()[:6])
    assert page.get_by_text(first_words).count() == 1
    notice.get_by_text("to version 1").click()
    expect(notice.get_by_text(first_words)).to_be_visible()
    # The record after the text points to it rather than saying it again.
    page.get_by_role("link", name="its note is above the text").click()
    expect(page).to_have_url(re.compile("#correction$"))


@pytest.mark.browser
def test_the_contents_are_open_beside_the_header_and_folded_on_a_phone(
    demo_site, live_server, page, expect
):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + f"/papers/{DEMO_SLUG}/")
    contents = page.get_by_role("navigation", name="Contents")
    expect(contents.get_by_role("link").first).to_be_visible()
    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    expect(contents.get_by_role("link").first).to_be_hidden()
    contents.get_by_text("Contents").click()
    expect(contents.get_by_role("link").first).to_be_visible()


@pytest.mark.browser
def test_a_highlight_leads_to_its_note_and_on_to_the_claims_page(
    demo_site, live_server, page, expect
):
    csp_errors = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and csp_errors.append(message),
    )
    page.goto(live_server.url + f"/papers/{DEMO_SLUG}/")
    mark = page.locator(".paper__body mark.claim[id]").nth(2)
    claim_id = mark.get_attribute("id").removeprefix("claim-")
    mark.click()
    expect(page).to_have_url(re.compile(f"#claim-note-{claim_id}$"))
    note = page.locator(":target")
    expect(note).to_be_in_viewport()
    note.get_by_role("link", name=re.compile(r"^\w+ claim \d+$")).click()
    expect(page).to_have_url(live_server.url + f"/claims/{claim_id}/")
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs).to_contain_text("Baltic States Leaving NATO")
    expect(crumbs).to_contain_text(re.compile(r"claim \d+\s*$"))
    expect(crumbs).not_to_contain_text(claim_id)
    crumbs.get_by_role("link", name=re.compile("Baltic States")).click()
    expect(page).to_have_url(live_server.url + f"/papers/{DEMO_SLUG}/")
    assert not csp_errors

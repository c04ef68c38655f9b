"""A reader's journey through the demo in Chromium (`pytest -m browser`): search, filter the
claims by tag, open a claim, follow it into the paper, and see what changed between versions."""

import re

import pytest

DEMO_SLUG = "baltic-states-nato"


def shoot(page, request, step):
    artifacts = request.config.rootpath / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=artifacts / f"reader-journey-{step}.png", full_page=True)


@pytest.mark.browser
def test_a_reader_searches_filters_claims_opens_one_and_sees_what_changed(
    demo_site, live_server, page, expect, request
):
    page.goto(live_server.url + "/")

    # Search from the box on every page.
    page.get_by_role("search").get_by_label("Search papers").fill("Estonia deterrence")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/papers/\?q=Estonia"))
    result = page.get_by_role("link", name=re.compile("Baltic States Leaving NATO")).first
    expect(result).to_be_visible()
    shoot(page, request, "1-search")

    # The claims index, filtered by a tag.
    page.goto(live_server.url + "/claims/")
    page.get_by_label("Tag", exact=True).select_option("estonia")
    page.get_by_role("button", name="Show claims").click()
    expect(page).to_have_url(re.compile(r"/claims/\?.*tag=estonia"))
    quotes = page.locator(".claim-index__quote a")
    expect(quotes.first).to_be_visible()
    count = quotes.count()
    assert 0 < count < 14, count  # fewer than all of the demo's claims
    shoot(page, request, "2-claims")

    # One claim's page: its review status, and its history across versions.
    page.get_by_role("link", name=re.compile("Estonia, for instance, is very unlikely")).click()
    expect(page).to_have_url(re.compile(r"/claims/[a-z2-9]+/$"))
    expect(page.locator("main")).to_contain_text("Judged plausible by 1 reviewer")  # a forecast
    expect(page.locator("main")).to_contain_text("Version 2")
    shoot(page, request, "3-claim")

    # Into the paper, at the claim.
    page.get_by_role("link", name="Read it in the paper").click()
    expect(page).to_have_url(re.compile(rf"/papers/{DEMO_SLUG}/#claim-[a-z2-9]+$"))
    target = page.locator(":target")
    expect(target).to_have_class(re.compile(r"\bclaim\b"))
    expect(target).to_be_in_viewport()

    # What changed since version 1.
    page.get_by_role("link", name=re.compile("What changed since v1")).click()
    expect(page).to_have_url(re.compile(rf"/papers/{DEMO_SLUG}/diff/1/2/$"))
    main = page.locator("main")
    expect(main.locator("del").filter(has_text="close").first).to_be_visible()
    expect(main.locator("ins").filter(has_text="tense").first).to_be_visible()
    shoot(page, request, "4-diff")

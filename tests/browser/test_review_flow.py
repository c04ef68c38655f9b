"""A paper's whole review cycle in a real browser (`pytest -m browser`): an editor assigns a
reviewer and submits the paper in the admin; the reviewer comments, disputes one claim and
supports another at /review/ and recommends a revision; the editor sends the paper back, fixes
the disputed words in the admin, resolves the thread in the review workspace and submits again;
in round 2 the reviewer finds their verdict on the unchanged claim carried from round 1 and the
reworded claim flagged with what changed, re-checks it, confirms the carried verdict and
recommends approval; the editor approves and publishes; a reader sees the new version with each
claim's review status. With JavaScript on, verdicts, comments and replies save in place.

Only the starting data is arranged in Python; everything after is clicks, typing and form
submits. Playwright's expectations wait by themselves; nothing here sleeps.
"""

import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from papers import permissions, workflow
from papers.models import Claim
from tests.factories import (
    ClaimFactory,
    EditorFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
)

PASSWORD = "a long enough test passphrase"  # the factories' password
TITLE = "Estonia in the Alliance"
SLUG = "estonia-in-the-alliance"
WRONG = "Estonia joined NATO in 2005."
FIXED = "Estonia joined NATO in 2004."
PRESENT = "NATO forces are present in Estonia."
TAPA = "The alliance will keep a battlegroup in Tapa."
DISPUTE_NOTE = "Estonia joined on 29 March 2004, with the other Baltic states."
COMMENT = "Which deployment does this mean: the battlegroup or air policing?"
CHANGES_REASON = "Claim 1 gives the wrong year of accession; please correct it."

# Every installed app, as the test's available_apps: Django then runs post_migrate (content
# types, permissions) before the test instead of after its flush, so the test works whatever
# ran before it and leaves an empty database, as the serialized-rollback tests expect. (After a
# plain transactional test, post_migrate's fresh content types clash with the next test's
# serialized rollback: UNIQUE constraint failed: django_content_type.)
EVERY_APP = [config.name for config in apps.get_app_configs()]


@pytest.fixture
def paper(transactional_db):
    """A back-catalogue paper (version 1 published before review) with three claims, an editor
    (eda) and a reviewer (rein). The flush after a transactional test empties the Editors and
    Reviewers groups that the migrations made: ensure_roles makes them again."""
    permissions.ensure_roles(Group, Permission)
    EditorFactory(username="eda", first_name="Eda", last_name="Editor")
    ReviewerFactory(username="rein", first_name="Rein", last_name="Reviewer")
    paper = PaperFactory(title=TITLE, slug=SLUG, byline="Ana Kask")
    background = SectionFactory(
        paper=paper, position=0, heading="Background", body=f"{WRONG} {PRESENT}"
    )
    outlook = SectionFactory(
        paper=paper,
        position=1,
        heading="Outlook",
        body=f"Russia has not attacked a NATO member. {TAPA}",
    )
    ClaimFactory(paper=paper, section=background, quote=WRONG, kind=Claim.Kind.HISTORICAL)
    ClaimFactory(paper=paper, section=background, quote=PRESENT, kind=Claim.Kind.FACTUAL)
    ClaimFactory(paper=paper, section=outlook, quote=TAPA, kind=Claim.Kind.PREDICTIVE)
    workflow.publish_paper(paper, by=None, note="First publication.")
    return paper


# --- People signing in and out ----------------------------------------------------------------


def sign_in_to_admin(page, live_server, expect, username):
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Papers, claims and sources")).to_be_visible()


def sign_out_of_admin(page, live_server, expect):
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(live_server.url + "/")  # LOGOUT_REDIRECT_URL: the home page
    expect(page.get_by_role("heading", name="Position papers, claim by claim")).to_be_visible()


def sign_in_as_reviewer(page, live_server, expect):
    page.goto(live_server.url + "/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("rein")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/review/")  # where reviewers start
    expect(page.get_by_role("heading", name="Reviews", level=1)).to_be_visible()
    expect(page.get_by_text("Signed in as Rein Reviewer.")).to_be_visible()


def sign_out_of_the_site(page):
    # The public site and /review/ offer no way to sign out (LogoutView takes only a POST, and
    # no page has its form): the next person starts with no cookies, as on a fresh browser.
    page.context.clear_cookies()


# --- Places and things on the pages -----------------------------------------------------------


def open_paper_in_admin(page, expect):
    page.get_by_role("rowheader", name="Papers").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Select paper to change")).to_be_visible()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE, level=2)).to_be_visible()
    return page.locator("#workflow")  # the workflow panel: a plain div, no landmark role


def claim_panel(page, number, kind):
    """A claim's panel in the review workspace, opened if review.js folded it."""
    panel = page.get_by_role("article", name=f"Claim {number} {kind}")
    toggle = panel.get_by_role("button", name=f"Claim {number} {kind}")
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    return panel


def message(page, text):
    return page.get_by_role("status").get_by_text(text)


def artifact(page, request, step):
    folder = request.config.rootpath / "test-artifacts"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=folder / f"review-flow-{step}.png", full_page=True)


# --- The flow ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, available_apps=EVERY_APP)
def test_a_paper_goes_through_review_revision_and_publication(
    paper, live_server, page, expect, request
):
    # (0) The editor assigns the reviewer and submits the paper, with the admin's buttons.
    sign_in_to_admin(page, live_server, expect, "eda")
    panel = open_paper_in_admin(page, expect)
    expect(panel).to_contain_text("Stage: Draft")
    expect(panel).to_contain_text("Readers see version 1.")
    expect(panel).to_contain_text("No reviewer is assigned.")
    panel.get_by_role("link", name="Assign a reviewer…").click()
    page.get_by_label("Reviewer").select_option(label="Rein Reviewer (rein)")
    page.get_by_role("button", name="Assign a reviewer").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Assigned rein to review “{TITLE}”.")
    panel.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Submitted “{TITLE}” for review: round 1 is open."
    )
    expect(panel).to_contain_text("Stage: In review, review round 1.")
    expect(panel.get_by_role("row", name=re.compile("Rein Reviewer"))).to_contain_text(
        "In progress"
    )
    sign_out_of_admin(page, live_server, expect)

    # (1) The reviewer finds the assignment, comments, assesses two claims and recommends a
    # revision.
    sign_in_as_reviewer(page, live_server, expect)
    row = page.get_by_role("row", name=re.compile(TITLE))
    expect(row).to_contain_text("0 of 3 claims assessed")
    row.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(live_server.url + f"/review/{SLUG}/")
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    own = page.get_by_role("region", name="Your review of round 1")
    expect(own).to_contain_text("In progress: 0 of 3 claims assessed.")

    claim_3 = claim_panel(page, 3, "Predictive")
    expect(claim_3.get_by_text("No comments yet.")).to_be_visible()
    claim_3.get_by_label("New comment on claim 3").fill(COMMENT)
    claim_3.get_by_role("button", name="Start a thread").click()
    expect(message(page, "Your comment was added.")).to_be_visible()
    expect(claim_3.get_by_text(COMMENT)).to_be_visible()
    expect(claim_3).to_contain_text("Not assessed by you yet · 1 thread, 1 open")

    claim_1 = claim_panel(page, 1, "Historical")
    expect(claim_1.get_by_role("blockquote")).to_contain_text(WRONG)
    claim_1.get_by_role("radio", name="Disputed").check()
    claim_1.get_by_role("textbox", name=re.compile("^Note")).fill(DISPUTE_NOTE)
    claim_1.get_by_role("button", name="Save your verdict").click()
    expect(message(page, "Your assessment was saved.")).to_be_visible()
    expect(claim_1).to_contain_text("Your verdict: Disputed")
    expect(claim_1).to_contain_text("You found it disputed · 1 thread, 1 open")
    expect(claim_1.get_by_text(f"Disputed: {DISPUTE_NOTE}")).to_be_visible()  # its thread

    claim_2 = claim_panel(page, 2, "Factual")
    claim_2.get_by_role("radio", name="Supported").check()
    claim_2.get_by_role("button", name="Save your verdict").click()
    expect(message(page, "Your assessment was saved.")).to_be_visible()
    expect(claim_2).to_contain_text("Your verdict: Supported")
    expect(own).to_contain_text("In progress: 2 of 3 claims assessed.")
    page.get_by_role("button", name="Open all claims").click()
    artifact(page, request, "1-reviewer-workspace")

    own.get_by_role("link", name="submit your review").click()
    expect(page.get_by_role("heading", name="Submit your review")).to_be_visible()
    expect(page.get_by_text("You have assessed 2 of 3 claims in this round.")).to_be_visible()
    page.get_by_label("I submit my review with 1 claim not assessed in this round.").check()
    page.get_by_role("radio", name="Revise").check()
    page.get_by_label("Summary for the editors").fill("One wrong date; the rest holds.")
    page.get_by_role("button", name="Submit your review").click()
    expect(page).to_have_url(live_server.url + f"/review/{SLUG}/")
    expect(
        message(page, "Your review was submitted. The editors are emailed about it.")
    ).to_be_visible()
    expect(own).to_contain_text("with the recommendation Revise")
    # Once the review is in, the workspace shows the claims' status from submitted reviews.
    expect(claim_panel(page, 1, "Historical")).to_contain_text(
        "Status from submitted reviews: Disputed by a reviewer"
    )
    sign_out_of_the_site(page)

    # (2) The editor requests changes, corrects the claim, resolves its thread and submits the
    # paper again.
    sign_in_to_admin(page, live_server, expect, "eda")
    panel = open_paper_in_admin(page, expect)
    expect(panel.get_by_role("row", name=re.compile("Rein Reviewer"))).to_contain_text(
        "Submitted: Revise"
    )
    panel.get_by_role("link", name="Request changes…").click()
    page.get_by_label("What needs to change").fill(CHANGES_REASON)
    page.get_by_role("button", name="Request changes").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Sent “{TITLE}” back for changes")
    expect(panel).to_contain_text("Stage: Changes requested, review round 1.")

    # The section on its own page; the claim follows its edited words.
    page.locator("#outline").get_by_role("link", name="Background").click()
    page.locator("textarea.markdownx-editor").fill(f"{FIXED} {PRESENT}")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"A claim's words were edited: it now quotes them as they read, “{FIXED}”."
    )

    page.goto(live_server.url + f"/review/{SLUG}/")
    desk = page.get_by_role("region", name="Editor’s desk")
    expect(desk).to_contain_text("1 claim with an open concern")
    claim_1 = claim_panel(page, 1, "Historical")
    expect(claim_1.get_by_role("blockquote").first).to_contain_text(FIXED)
    expect(claim_1).to_contain_text("Re-check needed: this verdict was given on the earlier")
    expect(claim_1.get_by_text("Written about the earlier wording")).to_be_visible()
    claim_1.get_by_label("Reply to Rein Reviewer").fill("Corrected to 2004, thank you.")
    claim_1.get_by_role("button", name="Reply").click()
    expect(message(page, "Your reply was added.")).to_be_visible()
    claim_1 = claim_panel(page, 1, "Historical")
    claim_1.get_by_role("button", name="Resolve thread started by Rein Reviewer").click()
    expect(message(page, "Thread resolved.")).to_be_visible()
    claim_1 = claim_panel(page, 1, "Historical")
    expect(claim_1.get_by_text("Resolved by Eda Editor")).to_be_visible()
    expect(desk).to_contain_text("No open concerns in this round.")

    page.goto(live_server.url + "/admin/")
    panel = open_paper_in_admin(page, expect)
    panel.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Submitted “{TITLE}” for review: round 2 is open."
    )
    sign_out_of_admin(page, live_server, expect)

    # (3) Round 2: the verdict on the unchanged claim 2 is carried from round 1 and the reworded
    # claim 1 is flagged with what changed. The reviewer goes to the first claim that needs
    # attention, re-checks it, assesses claim 3 (saved in place, without reloading the page),
    # confirms the carried verdict and recommends approval.
    sign_in_as_reviewer(page, live_server, expect)
    row = page.get_by_role("region", name="To do").get_by_role("row", name=re.compile(TITLE))
    expect(row).to_contain_text("0 of 3 claims assessed")
    row.get_by_role("link", name=TITLE).click()
    own = page.get_by_role("region", name="Your review of round 2")
    expect(own).to_contain_text("In progress: 0 of 3 claims assessed.")
    expect(own).to_contain_text("1 verdict is carried from your earlier rounds")
    expect(claim_panel(page, 2, "Factual")).to_contain_text(
        "Your verdict: Supported, carried from round 1"
    )
    own.get_by_role("link", name="Go to claim 1, the first of them").click()
    claim_1 = page.get_by_role("article", name="Claim 1 Historical")
    expect(claim_1.get_by_role("button", name="Claim 1 Historical")).to_have_attribute(
        "aria-expanded", "true"
    )
    expect(claim_1).to_contain_text("Reworded since your review of round 1")
    expect(claim_1.locator("del")).to_contain_text("2005.")
    expect(claim_1.locator("ins")).to_contain_text("2004.")
    expect(claim_1).to_contain_text(
        "Your verdict: not assessed in this round (in round 1 you found it “Disputed”)"
    )
    expect(claim_1.get_by_text("Corrected to 2004, thank you.")).to_be_visible()
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
    claim_1.get_by_role("radio", name="Supported").check()
    claim_1.get_by_role("button", name="Save your verdict").click()
    expect(message(page, "Your assessment was saved.")).to_be_visible()
    expect(claim_1).to_contain_text("Your verdict: Supported")
    claim_3 = claim_panel(page, 3, "Predictive")
    claim_3.get_by_role("radio", name="Supported").check()
    claim_3.get_by_role("button", name="Save your verdict").click()
    expect(claim_3).to_contain_text("Your verdict: Supported")
    expect(own).to_contain_text("In progress: 2 of 3 claims assessed.")
    assert page.evaluate("window.sameDocument") is True
    own.get_by_role("button", name="Confirm all 1 carried verdict").click()
    expect(message(page, "1 carried verdict confirmed.")).to_be_visible()
    expect(own).to_contain_text("In progress: 3 of 3 claims assessed.")
    expect(own).to_contain_text("Every claim has your verdict in this round.")
    claim_2 = claim_panel(page, 2, "Factual")
    expect(claim_2).to_contain_text("Your verdict: Supported, as in round 1")
    page.get_by_role("button", name="Open all claims").click()
    artifact(page, request, "3-reviewer-workspace")
    # On a wide screen the open claim's discussion takes the empty column on the right.
    viewport = page.viewport_size
    page.set_viewport_size({"width": 1600, "height": 1000})
    form = claim_2.locator(".review-form--assess").bounding_box()
    threads = claim_2.locator(".review-threads").bounding_box()
    assert threads["x"] >= form["x"] + form["width"] and threads["y"] < form["y"] + form["height"]
    artifact(page, request, "3-reviewer-workspace-wide")
    page.set_viewport_size(viewport)

    own.get_by_role("link", name="submit your review").click()
    expect(page.get_by_text("You have assessed all 3 claims in this round.")).to_be_visible()
    page.get_by_role("radio", name="Approve").check()
    page.get_by_role("button", name="Submit your review").click()
    expect(
        message(page, "Your review was submitted. The editors are emailed about it.")
    ).to_be_visible()
    expect(own).to_contain_text("with the recommendation Approve")
    sign_out_of_the_site(page)

    # (4) The editor approves and publishes.
    sign_in_to_admin(page, live_server, expect, "eda")
    panel = open_paper_in_admin(page, expect)
    expect(panel.get_by_role("row", name=re.compile("Rein Reviewer"))).to_contain_text(
        "Submitted: Approve"
    )
    panel.get_by_role("link", name="Approve…").click()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(f"Approved “{TITLE}”.")
    expect(panel).to_contain_text("Stage: Approved, review round 2.")
    panel.get_by_role("link", name="Publish…").click()
    page.get_by_label("Change note").fill("Corrected the year Estonia joined NATO.")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(f"Published “{TITLE}” as version 2.")
    expect(panel).to_contain_text("Readers see version 2.")
    sign_out_of_admin(page, live_server, expect)

    # (5) A reader sees version 2, the corrected words and each claim's review status.
    page.goto(live_server.url + f"/papers/{SLUG}/")
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_text("Version 2 · 3 marked claims")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(FIXED)
    expect(page.get_by_role("main")).not_to_contain_text(WRONG)

    def note(number):
        own_page = page.get_by_role("link", name=re.compile(rf"^\w+ claim {number}$"))
        return page.get_by_role("listitem").filter(has=own_page)

    expect(note(1)).to_contain_text("Historical claim 1: Record checked by 1 reviewer.")
    expect(note(2)).to_contain_text("Factual claim 2: Checked by 1 reviewer: supported.")
    expect(note(3)).to_contain_text("Predictive claim 3: Judged plausible by 1 reviewer.")
    artifact(page, request, "5-reader")

"""A draft shared with an outside expert, in a real browser (`pytest -m browser`): an editor
creates a share link on the paper's admin page; the expert opens it in a fresh browser, without
an account, and reads the draft; once the editor revokes it, the link answers 404. The preview
and the admin's comparison of the draft are checked with axe-core (WCAG 2.2 AA).

Only the starting data is arranged in Python; the rest is clicks and typing.
"""

import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from papers import permissions, workflow
from papers.models import Claim
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_accessibility import (
    AXE_TAGS,
    COLOUR_SCHEMES,
    describe_violations,
    run_axe,
)
from tests.factories import ClaimFactory, EditorFactory, PaperFactory, SectionFactory

PASSWORD = "a long enough test passphrase"  # the factories' password
TITLE = "Estonia in the Alliance"
SLUG = "estonia-in-the-alliance"
DRAFT_WORDS = "The battlegroup in Tapa doubled in size in 2024."
EXPERT = "Dr Mari Tamm"
# See tests/browser/test_review_flow.py: post_migrate runs before the test, not after its flush.
EVERY_APP = [config.name for config in apps.get_app_configs()]


@pytest.fixture
def paper(transactional_db):
    """A paper published once, whose draft has a sentence version 1 does not, and an editor."""
    permissions.ensure_roles(Group, Permission)
    EditorFactory(username="eda", first_name="Eda", last_name="Editor")
    paper = PaperFactory(title=TITLE, slug=SLUG, byline="Ana Kask")
    background = SectionFactory(
        paper=paper,
        position=0,
        heading="Background",
        body="Estonia joined NATO in 2004. NATO forces are present in Estonia.",
    )
    ClaimFactory(paper=paper, section=background, quote="Estonia joined NATO in 2004.")
    ClaimFactory(
        paper=paper,
        section=background,
        quote="NATO forces are present in Estonia.",
        kind=Claim.Kind.FACTUAL,
    )
    workflow.publish_paper(paper, by=None, note="First publication.")
    background.body += " " + DRAFT_WORDS
    background.save()
    return paper


@pytest.fixture
def fresh_browser(playwright):
    """Another chromium with nothing in common with the editor's: no cookies, no cache."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    context = browser.new_context(locale="en-GB", timezone_id="UTC")
    yield context.new_page()
    context.close()
    browser.close()


def sign_in_to_admin(page, live_server, expect):
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("eda")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def artifact(page, request, step):
    folder = request.config.rootpath / "test-artifacts"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=folder / f"share-link-{step}.png", full_page=True)


def assert_axe_clean(page, axe_source, within=None):
    """No WCAG 2.2 AA violation in the page (or in its part `within`), light and dark."""
    report = []
    for scheme in COLOUR_SCHEMES:
        page.emulate_media(color_scheme=scheme)
        # The admin's links fade to a new colour (a CSS transition): check the colours they
        # settle on, not a frame of the fade.
        page.evaluate(
            "() => { document.body.getBoundingClientRect();"
            " return Promise.all(document.getAnimations().map(a => a.finished)); }"
        )
        if within is None:
            violations = run_axe(page, axe_source)
        else:
            violations = run_axe_in(page, axe_source, within)
        if violations:
            report.append(f"--- {scheme} colour scheme\n{describe_violations(violations)}")
    page.emulate_media(color_scheme="light")
    assert not report, f"axe-core on {page.url}:\n" + "\n".join(report)


def run_axe_in(page, axe_source, selector):
    """axe's violations in one part of the page (test_accessibility.run_axe checks it all)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    return page.evaluate(
        "([selector, tags]) => axe.run({include: [selector]},"
        " {runOnly: {type: 'tag', values: tags}}).then(results => results.violations)",
        [selector, AXE_TAGS],
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, available_apps=EVERY_APP)
def test_an_outside_expert_reads_a_shared_draft_until_it_is_revoked(
    paper, live_server, page, fresh_browser, expect, axe_source
):
    sign_in_to_admin(page, live_server, expect)
    page.goto(f"{live_server.url}/admin/papers/paper/{paper.pk}/change/")
    drafts = page.locator("#drafts")
    expect(drafts.get_by_text("No share link is open.")).to_be_visible()
    drafts.get_by_label("For:", exact=True).fill(EXPERT)
    expect(drafts.get_by_label("Open for (days)")).to_have_value("7")
    drafts.get_by_role("button", name="Create a share link").click()

    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    assert_axe_clean(page, axe_source)
    address = page.get_by_label("Share link").input_value()
    path = re.fullmatch(r"https?://[^/]+(/preview/[\w-]+/)", address)[1]

    # The expert's browser has never seen the site: no session, no account.
    expert = fresh_browser
    response = expert.goto(live_server.url + path)
    assert response.status == 200
    expect(expert.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(expert.get_by_role("heading", name="Draft, not published")).to_be_visible()
    expect(expert.get_by_text(DRAFT_WORDS)).to_be_visible()
    expect(expert.locator("mark.claim")).to_have_count(2)
    assert not expert.context.cookies()  # nothing was needed, nothing was handed out
    assert_axe_clean(expert, axe_source)

    page.get_by_role("link", name="Back to the paper").click()
    expect(drafts.get_by_role("cell", name=EXPERT, exact=True)).to_be_visible()
    assert_axe_clean(page, axe_source, within="#drafts")
    drafts.get_by_role("button", name=re.compile(f"Revoke the link for {EXPERT}")).click()
    expect(page.get_by_text(f"Revoked the share link for “{EXPERT}”.")).to_be_visible()
    expect(drafts.get_by_text("No share link is open.")).to_be_visible()

    response = expert.reload()
    assert response.status == 404
    expect(expert.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(expert.get_by_text(DRAFT_WORDS)).to_have_count(0)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, available_apps=EVERY_APP)
def test_the_preview_and_the_comparison_pass_axe(
    paper, live_server, page, expect, axe_source, request
):
    sign_in_to_admin(page, live_server, expect)
    page.goto(f"{live_server.url}/papers/{SLUG}/preview/")
    expect(page.get_by_role("heading", name="Draft, not published")).to_be_visible()
    artifact(page, request, "preview")
    assert_axe_clean(page, axe_source)

    page.goto(f"{live_server.url}/admin/papers/paper/{paper.pk}/change/")
    page.locator("#drafts").get_by_role("link", name="Compare the draft").click()
    expect(page.get_by_role("heading", name="Changes since version 1")).to_be_visible()
    expect(page.get_by_text("1 section edited")).to_be_visible()
    artifact(page, request, "compare")
    assert_axe_clean(page, axe_source)

    page.get_by_role("link", name="Revert this section to its text in version 1…").click()
    expect(page.get_by_role("button", name="Revert this section")).to_be_visible()
    assert_axe_clean(page, axe_source)
    page.get_by_role("button", name="Revert this section").click()
    expect(page.get_by_text("The section reads as in the live version again.")).to_be_visible()
    expect(page.get_by_text("The draft reads exactly as version 1")).to_be_visible()

"""Marking claims where the text is, in a real browser (`pytest -m browser`): an editor selects
words in a section's marked text and marks them as a claim with a kind and tags, opens an existing
claim with the keyboard alone, and the page is axe clean with its form open and closed."""

import pytest

from papers import rendering
from papers.models import Claim
from tests.browser.test_accessibility import COLOUR_SCHEMES, describe_violations, run_axe
from tests.factories import ClaimFactory, EditorFactory, PaperFactory, SectionFactory, TagFactory

HEADING = "Strengthening Baltic NATO Presence"

# Selects the nth occurrence (from 0) of words in the marked text, across the text nodes that
# marks split it into, as a mouse drag would, and lets go of the mouse.
SELECT = """([words, nth]) => {
    const root = document.querySelector("[data-marking-text]");
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const nodes = [];
    let text = "";
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.parentElement.closest(".claim-ref")) continue;
        nodes.push([node, text.length]);
        text += node.textContent;
    }
    let at = -1;
    for (let n = 0; n <= nth; n += 1) at = text.indexOf(words, at + 1);
    const point = (offset) => {
        const [node, start] = nodes.filter(([, start]) => start <= offset).pop();
        return [node, offset - start];
    };
    const range = document.createRange();
    range.setStart(...point(at));
    range.setEnd(...point(at + words.length));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    root.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
}"""


BODY = (
    "The Baltic states also recognize the importance of maintaining a robust NATO presence "
    "within their territories. This includes not only military presence but also strategic "
    "cooperation and shared intelligence. By staying in NATO, they are contributing to a "
    "collective defense system that protects all members, including themselves. The deterrence "
    "effect of NATO's collective defense is stronger when all member countries are active "
    "participants."
)


@pytest.fixture
def section(transactional_db, django_db_serialized_rollback):
    """A section of the demo paper's words with one claim, the tags NATO and Russia, and an
    editor (made here: the session's other tests may change what load_demo makes)."""
    EditorFactory(username="editor")
    paper = PaperFactory(title="Is There a Chance of the Baltic States Leaving NATO?")
    section = SectionFactory(paper=paper, position=0, heading=HEADING, body=BODY)
    claim = ClaimFactory(section=section, quote="This includes not only military presence")
    claim.tags.add(TagFactory(name="NATO", slug="nato"))
    TagFactory(name="Russia", slug="russia")
    return section


@pytest.fixture
def section_page(section, live_server, page):
    """The section's admin page, signed in as its editor; CSP reports are collected."""
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
    return page


@pytest.mark.browser
def test_an_editor_marks_repeated_words_as_a_claim_with_a_kind_and_tags(
    section, section_page, expect
):
    page = section_page
    marks_before = page.locator("[data-marking-text] mark[id^=claim-]").count()
    page.evaluate(SELECT, ["collective defense", 1])  # the second of two
    page.locator(".marking__float").click()

    form = page.get_by_role("dialog", name="Mark a claim")
    expect(form).to_be_visible()
    expect(form.get_by_label("Words of the claim")).to_have_value("collective defense")
    form.get_by_label("Kind").select_option("factual")
    tags = form.get_by_label("Find or create a tag")
    tags.fill("nat")
    expect(form.get_by_role("option", name="NATO")).to_be_visible()
    tags.press("ArrowDown")
    tags.press("Enter")
    tags.fill("Collective defence")
    form.get_by_role("option", name="Create tag “Collective defence”").click()
    expect(form.get_by_role("button", name="Remove tag Collective defence")).to_be_visible()
    sources = form.get_by_label("Find a source by title or URL")
    sources.fill("ICDS")
    form.get_by_role("option", name="Add a new source “ICDS”…").click()
    expect(form.get_by_label("Source title")).to_have_value("ICDS")
    form.get_by_label("Source URL").fill("icds.ee/baltic")
    form.get_by_role("button", name="Add this source").click()
    expect(form.get_by_role("button", name="Remove source ICDS")).to_be_visible()
    form.get_by_role("button", name="Save claim").click()

    expect(form).to_be_hidden()
    expect(page.locator("[data-marking-text] mark[id^=claim-]")).to_have_count(marks_before + 1)
    claim = Claim.objects.get(section=section, quote="collective defense")
    assert claim.kind == "factual"
    assert sorted(claim.tags.values_list("slug", flat=True)) == ["collective-defence", "nato"]
    assert list(claim.sources.values_list("url", flat=True)) == ["https://icds.ee/baltic"]
    second = rendering.occurrences(section.body_text, "collective defense")[1]
    assert claim.locate() == (second, second + len("collective defense"))
    mark = page.locator(f"#claim-{claim.public_id}")
    expect(mark).to_have_class("claim claim--factual marking__saved")
    expect(mark).to_be_focused()

    # Choosing the highlight opens the claim's form; saving changes it in place.
    mark.click()
    form = page.get_by_role("dialog", name=f"Claim {claim_number(page, claim)}")
    expect(form.get_by_role("button", name="Remove source ICDS")).to_be_visible()
    form.get_by_label("Kind").select_option("normative")
    form.get_by_label("Note").fill("Spelled as in the source.")
    form.get_by_role("button", name="Save claim").click()
    expect(form).to_be_hidden()
    expect(page.locator(f"#claim-{claim.public_id}")).to_have_class(
        "claim claim--normative marking__saved"
    )
    claim.refresh_from_db()
    assert (claim.kind, claim.note) == ("normative", "Spelled as in the source.")
    assert not page.csp_errors


@pytest.mark.browser
def test_claims_are_opened_and_marked_with_the_keyboard_alone(section, section_page, expect):
    page = section_page
    claim = Claim.objects.filter(section=section).order_by("pk").first()
    mark = page.locator(f"#claim-{claim.public_id}")
    expect(mark).to_have_attribute("role", "button")
    mark.focus()
    page.keyboard.press("Enter")
    form = page.get_by_role("dialog")
    expect(form).to_be_visible()
    expect(form.get_by_role("heading")).to_have_text(f"Claim {claim_number(page, claim)}")
    expect(form.get_by_label("Kind")).to_have_value(claim.kind)
    expect(form.get_by_label("Kind")).to_be_focused()
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    expect(mark).to_be_focused()

    # A new claim without a mouse: "Mark as claim", type its words, choose, save.
    page.get_by_role("button", name="Mark as claim").first.focus()
    page.keyboard.press("Enter")
    expect(form.get_by_label("Words of the claim")).to_be_focused()
    page.keyboard.type("shared intelligence")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Kind")).to_be_focused()
    form.get_by_label("Kind").press("p")  # a select picks the option its first letter names
    expect(form.get_by_label("Kind")).to_have_value("predictive")
    page.keyboard.press("Tab")
    page.keyboard.type("russ")
    expect(form.get_by_role("option", name="Russia")).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(form.get_by_role("button", name="Remove tag Russia")).to_be_visible()
    # Note, the forecast's date (Chromium stops at its month, day, year and calendar button),
    # what settles it, sources, "add a source", then save.
    for _ in range(9):
        page.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Save claim")).to_be_focused()
    page.keyboard.press("Enter")
    expect(form).to_be_hidden()
    created = Claim.objects.get(section=section, quote="shared intelligence")
    assert created.kind == "predictive"
    assert list(created.tags.values_list("slug", flat=True)) == ["russia"]
    expect(page.locator(f"#claim-{created.public_id}")).to_be_focused()
    assert not page.csp_errors


def claim_number(page, claim):
    return page.locator(f"#claim-note-{claim.public_id}").get_attribute("value")


@pytest.mark.browser
def test_the_marking_page_and_its_form_are_axe_clean(section_page, axe_source, expect):
    page = section_page
    report = []
    for scheme in COLOUR_SCHEMES:
        # Loaded again in each scheme: the admin's links fade between colours when the scheme
        # changes under them, and axe would measure a colour half-way.
        page.emulate_media(color_scheme=scheme)
        page.reload()
        for state in ("closed", "open"):
            if state == "open":
                page.evaluate(SELECT, ["shared intelligence", 0])
                page.locator(".marking__float").click()
                form = page.get_by_role("dialog")
                expect(form).to_be_visible()
                form.get_by_label("Find or create a tag").fill("a")
                expect(form.get_by_role("listbox")).to_be_visible()
            violations = run_axe(page, axe_source)
            if violations:
                report.append(f"--- {scheme}, form {state}\n{describe_violations(violations)}")
    assert not report, "axe-core on the section's page:\n" + "\n".join(report)

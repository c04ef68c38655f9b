"""The paper's admin page and a section's page in a real browser (`pytest -m browser`): leaving a
section with unsaved changes asks first, a new section previews its Markdown live, an image
dropped into a section asks for its description, and both pages are axe-clean (WCAG 2.2 AA) in
either colour scheme."""

import base64
import io
import re

import pytest
from PIL import Image

from papers.models import Claim, Section
from tests.browser.test_accessibility import COLOUR_SCHEMES, describe_violations, run_axe
from tests.browser.test_upload import DROP
from tests.factories import ClaimFactory, EditorFactory, PaperFactory, SectionFactory

PASSWORD = "a long enough test passphrase"


@pytest.fixture
def paper(transactional_db, django_db_serialized_rollback):
    """An editor, and a draft of three sections with claims, one of them orphaned by an edit.
    Serialized rollback puts back the roles that migrations made, with their permissions."""
    EditorFactory(username="eda", password=PASSWORD)
    paper = PaperFactory(title="Ports of the Baltic")
    first = SectionFactory(paper=paper, position=0, heading="The port")
    SectionFactory(
        paper=paper,
        position=1,
        heading="Its defence",
        body="Reinforcements would arrive *by sea*. The port is ice-free all year.",
    )
    SectionFactory(paper=paper, position=2, heading="Conclusion", body="Invest in the port.")
    ClaimFactory(section=first)
    gone = ClaimFactory(section=first, quote="Russia has not attacked a NATO member.")
    first.body = "NATO forces are present in Estonia. Russia has never attacked any NATO member."
    first.save()
    Claim.objects.filter(pk=gone.pk).update(orphaned=True)
    return paper


def sign_in(page, live_server, next_url):
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.get_by_label("Username").fill("eda")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
def test_leaving_a_section_with_unsaved_changes_asks_first(paper, live_server, page, expect):
    section = paper.sections.get(heading="Its defence")
    url = f"/admin/papers/section/{section.pk}/change/"
    sign_in(page, live_server, url)
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", answer)
    page.get_by_role("link", name="Back to the paper").click()  # nothing changed: no question
    expect(page).to_have_url(re.compile(rf"/admin/papers/paper/{paper.pk}/change/"))
    assert asked == []

    page.goto(live_server.url + url)
    editor = page.locator("textarea.markdownx-editor")
    editor.focus()
    editor.press("End")
    editor.press_sequentially(" More words.")
    page.get_by_role("link", name="Back to the paper").click()
    expect(page.get_by_role("heading", name="Change section")).to_be_visible()
    assert asked == ["beforeunload"]
    expect(page).to_have_url(re.compile(re.escape(url)))

    page.get_by_role("button", name="Save and continue editing").click()  # saving: no question
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert asked == ["beforeunload"]
    assert Section.objects.get(pk=section.pk).body.endswith("More words.")


@pytest.mark.browser
def test_a_new_section_previews_its_markdown_live(paper, live_server, page, expect):
    sign_in(page, live_server, f"/admin/papers/paper/{paper.pk}/change/")
    page.get_by_role("link", name="Add a section").click()
    expect(page.get_by_label("Position")).to_have_value("4")
    page.get_by_label("Heading").fill("Annex")
    text = "A *new* section with [a bad link](javascript:x)."
    page.locator("textarea.markdownx-editor").fill(text)
    preview = page.locator(".markdownx-preview")
    expect(preview.locator("em")).to_have_text("new")
    expect(preview.locator("a")).to_have_count(0)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#outline")).to_contain_text("Annex")
    assert Section.objects.get(heading="Annex").position == 3


@pytest.mark.browser
def test_a_dropped_image_asks_for_its_description(
    paper, live_server, page, expect, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    section = paper.sections.get(heading="Conclusion")
    sign_in(page, live_server, f"/admin/papers/section/{section.pk}/change/")
    body = page.locator("textarea.markdownx-editor")
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "teal").save(buffer, "PNG")
    body.evaluate(DROP, ["chart.png", "image/png", base64.b64encode(buffer.getvalue()).decode()])
    expect(body).to_have_value(re.compile(r"!\[\]\(/media/uploads/"))
    description = page.get_by_label("Describe the image for readers who cannot see it")
    expect(description).to_be_focused()
    description.fill("Tonnage [2024] by month")
    description.press("Enter")
    expect(body).to_have_value(re.compile(r"!\[Tonnage \\\[2024\\\] by month\]\(/media/uploads/"))
    expect(page.locator(".markdownx-preview img")).to_have_attribute(
        "alt", "Tonnage [2024] by month"
    )
    expect(description).to_have_count(0)


@pytest.mark.browser
def test_the_paper_and_section_pages_are_axe_clean(paper, live_server, page, expect, axe_source):
    section = paper.sections.get(heading="The port")
    pages = {
        "paper": f"/admin/papers/paper/{paper.pk}/change/",
        "section": f"/admin/papers/section/{section.pk}/change/",
        "new section": f"/admin/papers/section/add/?paper={paper.pk}",
    }
    sign_in(page, live_server, pages["paper"])
    expect(page.get_by_role("heading", name="Orphaned claims")).to_be_visible()
    report = []
    for name, url in pages.items():
        for scheme in COLOUR_SCHEMES:
            page.emulate_media(color_scheme=scheme)
            page.goto(live_server.url + url)
            expect(page.locator("#content")).to_be_visible()
            if violations := run_axe(page, axe_source):
                report.append(f"--- {name}, {scheme}\n{describe_violations(violations)}")
    assert not report, "axe-core:\n" + "\n".join(report)


@pytest.mark.browser
def test_a_reworded_claim_is_re_attached_in_one_click(paper, live_server, page, expect):
    """The editor rewords a claimed sentence beyond what re-anchoring follows on its own; the
    paper's page offers the new words, and one click attaches the claim to them."""
    section = paper.sections.get(heading="Its defence")
    claim = ClaimFactory(section=section, quote="The port is ice-free all year.")
    sign_in(page, live_server, f"/admin/papers/section/{section.pk}/change/")
    page.locator("textarea.markdownx-editor").fill(
        "Reinforcements would arrive *by sea*. In most winters the port is ice-free."
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("marked orphaned")
    offer = page.locator("#orphans li").filter(has_text="In most winters the port is ice-free")
    expect(offer).to_contain_text("words changed: attach to")
    offer.get_by_role("button", name=re.compile(r"Re-attach claim \d+")).click()
    expect(page.locator("#orphans")).not_to_contain_text("In most winters")
    claim.refresh_from_db()
    assert not claim.orphaned
    assert claim.quote == "In most winters the port is ice-free."

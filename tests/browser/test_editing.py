"""An editor's aids in the admin, in a real browser: the live Markdown preview and the claim
picker (`pytest -m browser`)."""

import io

import pytest
from django.core.management import call_command

from papers.models import Claim


@pytest.fixture
def demo(transactional_db, django_db_serialized_rollback):
    call_command("load_demo", force=True, stdout=io.StringIO())


def sign_in_as_editor(page, live_server):
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("standpoint-editor")
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
def test_the_section_editor_previews_markdown_through_the_sanitiser(
    demo, live_server, page, expect
):
    sign_in_as_editor(page, live_server)
    page.goto(live_server.url + "/admin/papers/paper/")
    page.get_by_role("link", name="Is There a Chance of the Baltic States Leaving NATO").click()
    page.locator("#outline tbody th a").first.click()  # the first section's own page
    body = page.locator("textarea.markdownx-editor")
    body.fill("A *preview* with [a bad link](javascript:alert(1)) and <b>raw</b> HTML.")
    preview = page.locator(".markdownx-preview")
    expect(preview.locator("em")).to_have_text("preview")
    expect(preview).to_contain_text("<b>raw</b>")  # shown as text, not markup
    expect(preview.locator("a")).to_have_count(0)


@pytest.mark.browser
def test_selecting_section_words_fills_in_the_claim(demo, live_server, page, expect):
    claim = Claim.objects.get(quote__startswith="The threat of Russian invasion")
    sign_in_as_editor(page, live_server)
    page.goto(live_server.url + f"/admin/papers/claim/{claim.pk}/change/")
    text = page.locator(".field-section_text .readonly")
    expect(text).to_contain_text("They have no interest in returning to Russian control.")
    # Select a sentence of the section text with the keyboard-free DOM API, as a mouse would.
    text.evaluate(
        """el => {
            const node = el.firstChild;
            const words = "They have no interest in returning to Russian control.";
            const start = node.textContent.indexOf(words);
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + words.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            el.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
        }"""
    )
    expect(page.locator("#id_quote")).to_have_value(
        "They have no interest in returning to Russian control."
    )
    expect(page.locator("#id_prefix")).to_have_value("")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    claim.refresh_from_db()
    assert claim.quote == "They have no interest in returning to Russian control."

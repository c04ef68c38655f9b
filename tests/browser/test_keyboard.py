"""A keyboard-only reader (`pytest -m browser`): the skip link, every link and form control
reachable with Tab and visibly focused, claims and their notes reached without a mouse, and a
claim's kind and review status carried by text and line style, not by colour alone.
"""

import re

import pytest

KIND_LABELS = {"Factual", "Historical", "Causal", "Predictive", "Normative"}

# Pages whose every interactive element Tab must reach, visibly focused: (path, signed in as the
# demo reviewer, the button to press with the keyboard first).
TAB_PAGES = [
    pytest.param("/", False, None, id="home"),
    pytest.param("/papers/", False, None, id="paper-list"),
    pytest.param("/papers/{paper}/", False, None, id="paper"),
    pytest.param("/papers/{paper}/v1/", False, None, id="older-version"),
    pytest.param("/papers/{paper}/versions/", False, None, id="versions"),
    pytest.param("/papers/{paper}/diff/1/2/", False, None, id="diff"),
    pytest.param("/claims/", False, None, id="claim-list"),
    pytest.param("/claims/{claim}/", False, None, id="claim"),
    pytest.param("/tags/{tag}/", False, None, id="tag"),
    pytest.param("/accounts/login/", False, None, id="sign-in"),
    pytest.param("/review/{paper}/", True, None, id="review-paper-folded"),
    pytest.param("/review/{paper}/", True, "Open all claims", id="review-paper-open"),
]

# Numbers every focusable element (what a keyboard user should reach) and records, from then on,
# each element that takes focus: its number and whether its focus indicator shows. Radio buttons
# of one group are one Tab stop, as browsers make them.
WATCH_FOCUS = """() => {
    const selector = 'a[href], area[href], button, input:not([type=hidden]), select, textarea,'
        + ' summary, iframe, [tabindex], [contenteditable=""], [contenteditable="true"],'
        + ' audio[controls], video[controls]';
    const shown = el => !el.closest('[inert]') && el.getClientRects().length > 0
        && getComputedStyle(el).visibility !== 'hidden';
    const describe = el => el.outerHTML.replace(/>[^]*$/, '>').slice(0, 160);
    const stops = new Map();
    [...document.querySelectorAll(selector)]
        .filter(el => el.tabIndex >= 0 && !el.matches(':disabled') && shown(el))
        .forEach((el, i) => {
            const radio = el.type === 'radio' && el.name;
            const form = [...document.forms].indexOf(el.form);
            el.dataset.tabStop = radio ? `radio ${form} ${el.name}` : `${i}`;
            if (!stops.has(el.dataset.tabStop)) stops.set(el.dataset.tabStop, describe(el));
        });
    window.focusLog = [];
    document.addEventListener('focusin', event => {
        const el = event.target;
        const style = getComputedStyle(el);
        const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
        const rect = el.getBoundingClientRect();
        window.focusLog.push({
            stop: el.dataset.tabStop || null,
            element: describe(el),
            indicator: outline || style.boxShadow !== 'none',
            inViewport: rect.bottom > 0 && rect.right > 0
                && rect.top < innerHeight && rect.left < innerWidth,
        });
    });
    return Object.fromEntries(stops);
}"""


def active(page, expression):
    """Evaluate `expression` on document.activeElement (as `el`)."""
    return page.evaluate(f"() => {{ const el = document.activeElement; return {expression}; }}")


@pytest.mark.browser
def test_the_first_tab_reaches_the_skip_link_which_moves_on_to_main(
    demo_site, live_server, page, expect
):
    url = live_server.url + "/papers/{paper}/".format(**demo_site)
    page.goto(url)
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Skip to content")
    expect(skip).to_be_in_viewport()  # shown once focused, though hidden until then

    page.keyboard.press("Enter")
    expect(page).to_have_url(url + "#main")
    page.keyboard.press("Tab")
    # Focus continues from main, past the header's links.
    assert active(page, "!!el.closest('main')"), active(page, "el.outerHTML.slice(0, 200)")


@pytest.mark.browser
@pytest.mark.parametrize(("path", "signed_in", "button"), TAB_PAGES)
def test_tab_reaches_every_interactive_element_with_a_visible_focus_indicator(
    path, signed_in, button, demo_site, live_server, page, sign_in_demo_reviewer
):
    if signed_in:
        sign_in_demo_reviewer()
    response = page.goto(live_server.url + path.format(**demo_site))
    assert response.status == 200
    if button:
        page.get_by_role("button", name=button).focus()
        page.keyboard.press("Enter")
        page.evaluate("() => document.activeElement.blur()")  # Tab from the top again
    stops = page.evaluate(WATCH_FOCUS)
    assert stops, "The page has nothing to focus"

    # Bounded: one press per stop and a few more for the browser's own stops past the end.
    for _ in range(len(stops) + 5):
        page.keyboard.press("Tab")
    log = page.evaluate("() => window.focusLog")

    visited = {entry["stop"] for entry in log}
    missed = [element for stop, element in stops.items() if stop not in visited]
    assert not missed, "Tab never reached:\n" + "\n".join(missed)
    unseen = {entry["element"] for entry in log if not entry["indicator"]}
    assert not unseen, "Focused with no outline or box-shadow:\n" + "\n".join(sorted(unseen))
    hidden = {entry["element"] for entry in log if not entry["inViewport"]}
    assert not hidden, "Focused out of sight:\n" + "\n".join(sorted(hidden))


@pytest.mark.browser
def test_tab_reaches_a_claim_reference_and_enter_opens_its_note(
    demo_site, live_server, page, expect
):
    url = live_server.url + "/papers/{paper}/".format(**demo_site)
    page.goto(url)
    stops = page.evaluate(WATCH_FOCUS)
    for _ in range(len(stops)):
        page.keyboard.press("Tab")
        if active(page, "el.matches('a.claim-ref')"):
            break
    else:
        pytest.fail("Tab never reached a claim's numbered reference")

    href = active(page, "el.getAttribute('href')")
    number = active(page, "el.getAttribute('aria-label') || el.textContent")
    assert re.fullmatch(r"\d+", number), number  # its number, as a footnote's

    page.keyboard.press("Enter")
    expect(page).to_have_url(url + href)
    note = page.locator(":target")
    expect(note).to_have_id(href[1:])
    expect(note).to_be_in_viewport()
    # The note starts with the claim's kind and number, a link to its own page, and its review.
    expect(note).to_contain_text(re.compile(rf"^\w+ claim {number}: \S"))

    # The next Tab goes on inside the note, to that link; the last link goes back to the text.
    page.keyboard.press("Tab")
    expect(note.locator("a").first).to_be_focused()
    note.get_by_role("link", name="Back to the text").focus()
    page.keyboard.press("Enter")
    expect(page.locator(":target")).to_have_class(re.compile(r"\bclaim\b"))
    expect(page.locator(":target")).to_be_in_viewport()


@pytest.mark.browser
def test_claim_kinds_and_review_statuses_are_written_not_only_coloured(
    demo_site, live_server, page, expect
):
    page.goto(live_server.url + "/papers/{paper}/".format(**demo_site))
    notes = page.locator(".claim-notes li[id^=claim-note-]")
    expect(notes.first).to_be_visible()
    # Each note says its kind and its review status in words a sighted reader sees (not
    # visually hidden text).
    for note in notes.all():
        kind = note.locator("a").first
        assert kind.text_content().split(" claim ")[0] in KIND_LABELS, kind.text_content()
        box = kind.bounding_box()
        assert box and box["width"] > 4 and box["height"] > 4, note.get_attribute("id")
        expect(note).to_contain_text(re.compile(r"^\w+ claim \d+: \w+"))

    # In the text, each kind has its own line style under the words, the one the key shows
    # beside the kind's name.
    marks = page.locator("mark.claim").evaluate_all(
        """marks => marks.map(m => [
            [...m.classList].find(c => c.startsWith("claim--")).slice(7),
            getComputedStyle(m).textDecorationStyle])"""
    )
    by_kind = dict(marks)
    assert len(by_kind) >= 2, by_kind
    assert all(by_kind[kind] == style for kind, style in marks), marks  # one style per kind
    assert len(set(by_kind.values())) == len(by_kind), by_kind  # a different one for each
    key = page.locator(".claim-key__kind").evaluate_all(
        """spans => spans.map(s => [
            s.textContent.trim(), s.className, getComputedStyle(s).textDecorationStyle])"""
    )
    assert {label for label, _, _ in key} == KIND_LABELS, key
    for kind, style in by_kind.items():
        shown = [k for k in key if f"claim-key__kind--{kind}" in k[1].split()]
        assert shown and shown[0][2] == style, (kind, style, key)

"""The XSS corpus of tests/xss.py in a real browser (`pytest -m browser`), made live.

Each payload's `alert(…)` becomes code that, if it ever ran, would open a dialog, request a
marker URL, mark the document with `data-xss` and set `window.__xss`, all carrying a token that
names the payload and the field it was stored in. One paper holds every payload across every
user-written field (with its reviews, comments, sources, tags, people and a withdrawn sibling),
and every page type is visited in Chromium: public pages, the review workspace as editor and as
reviewers, the admin, sign-in and 404, with the site's scripts exercised (claim notes, review.js,
the markdownx preview, the claim picker). It runs twice: with the site's CSP, and with CSP
bypassed so that the sanitiser and escaping alone are tested. A positive control shows each
detector trips on an unsanitised payload, so the test cannot pass vacuously.
"""

import re
from collections import defaultdict
from urllib.parse import quote, unquote

import pytest
from django.conf import settings
from django.test import Client

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, EXPECT_TIMEOUT_MS
from tests.browser.hostile_site import (
    ARMED,
    EVERY_APP,
    EXTRA,
    EXTRA_START,
    FIELDS,
    IDS,
    PASSWORD,
    PAYLOADS,
    TOKEN,
    arm,
    build_site,
    decode,
    field_of,
    joined,
    live,
    token,
)

SETTLE = """async () => {
  const frame = () => new Promise(done => { requestAnimationFrame(done); setTimeout(done, 50); });
  await frame();
  for (let i = 0; i < 100 && [...document.images].some(img => !img.complete); i++) await frame();
  await frame();
  await new Promise(done => setTimeout(done, 20));
}"""
# Run in every frame once a page has settled: what live code leaves behind, and what would run
# on a click, a hover or a focus (handlers, script URLs, active elements) with no dialog yet.
SCAN = r"""async () => {
  await (SETTLE)();
  const found = [];
  const safe = new Set(["http", "https", "mailto"]);
  const urls = new Set(["href", "src", "action", "formaction", "data", "background", "poster",
    "cite", "xlink:href", "ping", "lowsrc", "dynsrc", "longdesc", "codebase"]);
  const active = new Set(["iframe", "frame", "frameset", "object", "embed", "applet", "base",
    "portal", "fencedframe"]);
  if (window.__xss !== undefined) found.push("window.__xss = " + window.__xss);
  for (const el of document.querySelectorAll("*")) {
    const tag = el.localName;
    if (active.has(tag)) found.push("element <" + tag + ">");
    if (tag === "meta" && el.hasAttribute("http-equiv")) found.push("<meta http-equiv>");
    // The admin draws its theme icons with <svg>; nothing else on any page is SVG or MathML.
    if ((tag === "svg" || tag === "math") && !el.closest(".base-svgs, .theme-toggle")) {
      found.push("element <" + tag + ">");
    }
    if (tag === "script" && !el.src && !/json/.test(el.type)) {
      found.push("inline <script>" + el.textContent.slice(0, 120));
    }
    for (const {name, value} of el.attributes) {
      const scheme = value.replace(/[\u0000-\u0020\u007f]+/g, "").toLowerCase()
        .match(/^([a-z][a-z0-9+.-]*):/);
      if (name === "data-xss") {
        found.push("<" + tag + " data-xss=" + value + ">");
      } else if (name.startsWith("on") || name === "srcdoc" ||
                 (urls.has(name) && scheme && !safe.has(scheme[1]))) {
        found.push("<" + tag + " " + name + "=" + value.slice(0, 120) + ">");
      }
    }
  }
  const tokens = document.documentElement.outerHTML.match(/77\d{5}/g) || [];
  return {found, tokens: [...new Set(tokens)]};
}""".replace("SETTLE", SETTLE)
# A request that live code makes: the marker and a token, as a path (the payload's own text in
# an address has ".source+" between them).
MARKER = re.compile(r"xss-marker/?(77\d{5})")


class Watch:
    """What live code would do in the contexts it watches, with the page it happened on:
    dialogs, requests for the marker, popups, marks in the DOM; and the site's script errors."""

    def __init__(self):
        self.where = "(start)"
        self.found = []
        self.errors = []
        self.seen = defaultdict(set)  # page label -> fields whose tokens reached the page
        self.tokens = set()  # every token that reached a page

    def watch(self, context):
        context.on("dialog", self._dialog)
        context.on("request", self._request)
        context.on("page", self._page)
        return context

    def new_page(self, context):
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{self.where}: {error}"))
        return page

    def _dialog(self, dialog):
        self.found.append(f"{self.where}: {dialog.type} dialog {dialog.message!r}")
        dialog.dismiss()

    def _request(self, request):
        if MARKER.search(unquote(request.url)):
            self.found.append(f"{self.where}: request for the marker {unquote(request.url)}")

    def _page(self, page):
        if page.opener() is not None:
            self.found.append(f"{self.where}: a popup opened at {page.url}")

    def check(self, page, label):
        """Let the page settle, then search every frame for marks of live code."""
        for frame in page.frames:
            result = frame.evaluate(SCAN)
            self.found += [f"{label}: {what}" for what in result["found"]]
            tokens = {int(n) for n in result["tokens"]} & ARMED
            self.seen[label] |= {field_of(n) for n in tokens}
            self.tokens |= tokens

    def report(self):
        def explain(match):
            n = int(match.group())
            return f"{n} [{decode(n)}]" if n in ARMED else str(n)

        return "\n".join(TOKEN.sub(explain, line) for line in self.found)


# --- The tour ---------------------------------------------------------------------------------


def q(text):
    return quote(text, safe="")


def named(name, field):
    return q(live(IDS.index(name), field))


def open_claim_notes(page, expect):
    """A reader opens claim notes by click and by Enter, and goes back to the text."""
    refs = page.locator("a.claim-ref")
    refs.nth(0).click()
    expect(page.locator(":target")).to_have_id(re.compile(r"^claim-note-"))
    refs.nth(1).focus()
    page.keyboard.press("Enter")
    page.locator(":target").get_by_role("link", name="Back to the text").click()
    expect(page.locator(":target")).to_have_class(re.compile(r"\bclaim\b"))


def follow_notes_and_claims(page, expect):
    """A reader follows a footnote from its reference and back (hostile labels and notes among
    them), then opens claim notes."""
    ref = page.locator("a[role=doc-noteref]").first
    ref.click()
    expect(page.locator(":target")).to_have_attribute("id", re.compile(r"--fn-\d+$"))
    page.locator(":target a[role=doc-backlink]").first.click()
    expect(page.locator(":target")).to_have_attribute("role", "doc-noteref")
    open_claim_notes(page, expect)


def use_review_js(page, expect):
    """review.js moves every claim panel into the prose; open them one way and another."""
    toggle = page.locator(".review-claim__toggle").first
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.locator("a.claim-ref").nth(1).focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Close all claims").click()
    page.get_by_role("button", name="Open all claims").click()
    expect(page.locator("[data-claim-details]").last).to_be_visible()


def preview_every_payload(page, expect):
    """markdownx posts a section's text on input and writes the answer into the page."""
    text = joined(range(len(PAYLOADS)), "preview") + "\n\nPreview done."
    editor = page.locator("textarea.markdownx-editor")  # a section's page has one
    saved = editor.input_value()
    editor.fill(text)
    expect(page.locator(".markdownx-preview")).to_contain_text("Preview done.")
    editor.fill(saved)  # nothing left unsaved: leaving the page asks nothing


def pick_claim_words(page, expect):
    """The claim picker copies the selected words of the section into the quote field."""
    page.locator(".field-section_text .readonly").evaluate(
        """el => {
            const range = document.createRange();
            range.setStart(el.firstChild, 0);
            range.setEnd(el.firstChild, Math.min(60, el.firstChild.length));
            getSelection().removeAllRanges();
            getSelection().addRange(range);
            el.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
        }"""
    )
    expect(page.locator("#id_quote")).not_to_have_value("")


def sign_in_to_a_script(page, expect):
    """Signing in with a javascript: `next` lands on a reviewer's default page, their reviews,
    running nothing."""
    page.get_by_label("Username").fill("rob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Reviews", exact=True)).to_be_visible()


LISTING = {"title", "byline", "standfirst", "tag_name"}
TEXT = {"heading", "body", "note", "source_title", "source_quote", "source_url", "tag_name"}
REVIEW = TEXT | {"title", "standfirst", "comment", "reply", "assessment_note", "first_name"}
NAMES = {"title", "first_name", "last_name"}
# The fields whose payloads each page must show: proof that the payloads reached it. (A claim's
# quote is its section's text, so quotes carry the tokens of "body".)
SHOWS = {
    "home": LISTING,
    "papers": LISTING,
    "search snippets": LISTING,
    "search for a payload": {"search"},
    "papers of a tag": LISTING,
    "papers of a hostile tag (404)": set(),
    "paper": TEXT | LISTING | {"correction_note"},
    "version 1": TEXT - {"body"} | {"title_v1", "body_v1", "version_note"},
    "versions": NAMES | {"title_v1", "version_note", "correction_note"},
    "diff": {"title", "title_v1", "heading", "body", "body_v1", "correction_note"},
    "claims": {"title", "heading", "body", "tag_name"},
    "claims of a tag": {"body", "tag_name"},
    "claims, hostile filters": {"filter"},
    "claim": {"title", "body", "body_v1", "note", "source_quote", "source_url", "tag_name"},
    "tag": LISTING | {"heading", "body", "tag_description"},
    "withdrawn paper": {"title", "withdrawal_reason"},
    "404": {"path"},
    "sign-in, hostile next": {"next"},
    "sign-in, script next": set(),
    "dashboard": NAMES,
    "workspace (editor)": REVIEW | {"last_name", "review_summary"},
    "workspace": REVIEW,
    "submit a review": {"title", "body", "assessment_note"},
    "admin papers": {"title", "tag_name"},
    "admin paper search": {"admin_search"},
    "admin paper": {"heading", "body", "tag_name", "comment"} | LISTING,
    "admin section": {"heading", "body", "preview", "note", "source_title", "tag_name"},
    "admin claims": {"title", "body", "heading"},
    "admin claim": {"body", "heading", "note", "source_title", "tag_name"},
    "admin index": {"first_name"},
}


def tour(site):
    """(who, label, address, action) for every page type but the admin's other lists; the
    label's first words name what it must show in SHOWS."""
    tag, kind = named("attr-breakout-svg", "filter"), named("xmp", "filter")
    next_, script = (
        named("svg-onload", "next"),
        q(arm(EXTRA["script-url"], token("next", EXTRA_START + 100))),
    )
    search, claims = named("textarea-close", "admin_search"), enumerate(site["claims"])
    first, second = site["tags"][:2]  # the first two payloads short enough for a tag's name
    paper = f"/admin/papers/paper/{site['paper_pk']}/"
    claim = f"/admin/papers/claim/{site['claim_pk']}/"
    section = f"/admin/papers/section/{site['section_pk']}/"
    return [
        ("reader", "home", "/", None),
        ("reader", "papers", "/papers/", None),
        ("reader", "search snippets", "/papers/?q=Zanzibar", None),
        ("reader", "search for a payload", "/papers/?q=" + named("script", "search"), None),
        ("reader", "papers of a tag", f"/papers/?tag={first}", None),
        ("reader", "papers of a hostile tag (404)", f"/papers/?tag={tag}", None),
        ("reader", "paper", "/papers/hostile/", follow_notes_and_claims),
        ("reader", "version 1", "/papers/hostile/v1/", None),
        ("reader", "versions", "/papers/hostile/versions/", None),
        ("reader", "diff", "/papers/hostile/diff/1/2/", None),
        ("reader", "claims", "/claims/", None),
        ("reader", "claims of a tag", f"/claims/?tag={second}", None),
        ("reader", "claims, hostile filters", f"/claims/?tag={tag}&kind={kind}", None),
        *(("reader", f"claim {k}", f"/claims/{c}/", None) for k, c in claims if k % 3 == 0),
        ("reader", "tag", f"/tags/{first}/", None),
        ("reader", "withdrawn paper", "/papers/withdrawn/", None),
        ("reader", "404 at the root", "/" + named("attr-breakout-svg", "path"), None),
        ("reader", "404 of a paper", "/papers/" + named("img-onerror", "path") + "/", None),
        ("reader", "404 of a claim", "/claims/" + named("script", "path") + "/", None),
        ("reader", "sign-in, hostile next", f"/accounts/login/?next={next_}", None),
        ("reader", "sign-in, script next", f"/accounts/login/?next={script}", sign_in_to_a_script),
        ("editor", "dashboard (editor)", "/review/", None),
        ("editor", "workspace (editor)", "/review/hostile/", use_review_js),
        ("ria", "dashboard (reviewer)", "/review/", None),
        ("ria", "workspace (reviewer, submitted)", "/review/hostile/", None),
        ("rob", "workspace (reviewer, open)", "/review/hostile/", use_review_js),
        ("rob", "submit a review", "/review/hostile/submit/", None),
        ("editor", "admin papers", "/admin/papers/paper/", None),
        ("editor", "admin paper search", f"/admin/papers/paper/?q={search}", None),
        ("editor", "admin paper", paper + "change/", None),
        ("editor", "admin section", section + "change/", preview_every_payload),
        ("editor", "admin claims", "/admin/papers/claim/", None),
        ("editor", "admin claim", claim + "change/", pick_claim_words),
    ]  # fmt: skip


def shows(label):
    """The fields the page must show: SHOWS under its label, or under its first words."""
    for key in sorted(SHOWS, key=len, reverse=True):
        if label == key or label.startswith(key + " "):
            return SHOWS[key]
    return None


def admin_tour(visit):
    """Every other changelist linked from the admin index, and the first change form of each."""
    page = visit("editor", "admin index", "/admin/", None)
    lists = page.eval_on_selector_all(
        "#content-main a[href^='/admin/']", "links => links.map(a => a.getAttribute('href'))"
    )
    for url in sorted({u for u in lists if re.fullmatch(r"/admin/\w+/\w+/", u)}):
        if url in {"/admin/papers/paper/", "/admin/papers/claim/"}:
            continue  # in the tour, with their change forms
        page = visit("editor", f"admin list {url}", url, None)
        row = page.locator("#result_list tbody tr th a").first
        visit("editor", f"admin form {url}", row.get_attribute("href"), None)


# --- The tests --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(playwright, live_server):
    """A Chromium of our own, for contexts with and without bypass_csp (conftest's persistent
    context cannot change that). It depends on live_server so that it closes first."""
    # Every other host name fails at once: payloads' images at ok.example wait for no DNS.
    resolve_only_localhost = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost"
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, resolve_only_localhost]
    )
    yield browser
    browser.close()


def session_cookie(user, live_server):
    """A signed-in session for `user`, made without the sign-in form (and its throttling)."""
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
        "httpOnly": True,
        "secure": settings.SESSION_COOKIE_SECURE,
        "sameSite": "Lax",
    }


def open_page(browser, watch, live_server, *, bypass_csp, user=None):
    """A page in a context of its own, signed in as `user` if given."""
    context = browser.new_context(base_url=live_server.url, bypass_csp=bypass_csp)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    if user is not None:
        context.add_cookies([session_cookie(user, live_server)])
    return watch.new_page(watch.watch(context))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, available_apps=EVERY_APP)
@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "csp-bypassed"])
def test_no_stored_or_reflected_payload_runs_on_any_page(bypass_csp, browser, live_server):
    """The corpus, live, in every field and on every page: no dialog, no marker request, no
    mark in the DOM, nothing armed for a click; with CSP off, the sanitiser alone holds."""
    from playwright.sync_api import expect

    site = build_site()
    watch = Watch()
    pages = {"reader": open_page(browser, watch, live_server, bypass_csp=bypass_csp)}
    for who, user in site["users"].items():
        pages[who] = open_page(browser, watch, live_server, bypass_csp=bypass_csp, user=user)
    missing = {}

    def visit(who, label, url, action):
        watch.where = label
        page = pages[who]
        response = page.goto(url)
        assert response.status == (404 if "404" in label else 200), label
        if action is not None:
            action(page, expect)
        watch.check(page, label)
        fields = shows(label)
        if absent := (fields or set()) - watch.seen[label]:
            missing[label] = sorted(absent)
        if fields is None and not watch.seen[label]:  # the admin's other lists and forms
            missing[label] = "no payload at all"
        return page

    try:
        for step in tour(site):
            visit(*step)
        admin_tour(visit)
    finally:
        for page in pages.values():
            page.context.close()
    assert not watch.found, watch.report()
    assert not watch.errors, watch.errors
    assert not missing, f"payloads that did not reach their page: {missing}"
    assert set().union(*watch.seen.values()) == set(FIELDS)
    shown = {n % 1000 for n in watch.tokens if n % 1000 < len(PAYLOADS)}
    assert len(shown) >= 60, f"only {len(shown)} of the corpus's payloads reached a page"


# Payloads that run with no click: in an image's error handler, in a framed document, in a
# handler that fires by itself.
CONTROL = ["img-onerror", "iframe-srcdoc", "details-ontoggle", "input-onfocus"]
LIVE = r"self\.__xss\?0:alert\(77\d{5}\)"  # the start of live code, as the scan quotes it


def found(watch, pattern):
    return [line for line in watch.found if re.search(pattern, line)]


@pytest.mark.browser
@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "csp-bypassed"])
def test_each_detector_catches_an_unsanitised_payload(bypass_csp, browser, live_server):
    """The positive control: the same live payloads and checks trip every detector, naming the
    payload and its field, on a page of our own that holds them unsanitised. (A page alerts
    once, so the focus handler cannot loop on its own dialog.)"""
    watch = Watch()
    page = open_page(browser, watch, live_server, bypass_csp=bypass_csp)
    # An address on the live server, so that relative marker requests go there, answered by
    # Playwright: no CSP header, no database.
    page.route("**/control/", lambda route: route.fulfill(body="<!doctype html><title>c</title>"))
    watch.where = "control"
    page.goto("/control/")
    payloads = "\n".join(live(IDS.index(name), "body") for name in CONTROL)
    page.set_content(f"<!doctype html><p>{payloads}</p><a href='javascript:void 0'>click</a>")
    watch.check(page, "control")
    page.context.close()

    tokens = {name: token("body", IDS.index(name)) for name in CONTROL}
    for name, n in tokens.items():
        assert found(watch, f"^control: request for the marker .*/control/xss-marker{n}$")
        assert f"{n} [body × {name}]" in watch.report()
    dialogs = found(watch, r"^control: alert dialog '77\d{5}'$")
    assert len(dialogs) == 2, watch.found  # the page's first, and the framed document's
    assert found(watch, f"^control: alert dialog '{tokens['iframe-srcdoc']}'$")
    assert found(watch, r"^control: window.__xss = 77\d{5}$")
    assert found(watch, r"^control: <html data-xss=77\d{5}>$")
    assert found(watch, f"^control: <img onerror={LIVE}")
    assert found(watch, f"^control: <details ontoggle={LIVE}")
    assert found(watch, f"^control: <input onfocus={LIVE}")
    assert found(watch, r"^control: element <iframe>$")
    assert found(watch, f"^control: inline <script>{LIVE}")  # in the framed document
    assert found(watch, r"^control: <a href=javascript:void 0>$")
    assert watch.seen["control"] == {"body"}


@pytest.mark.browser
@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "csp-bypassed"])
def test_only_csp_stops_a_payload_that_escaped_into_a_site_page(bypass_csp, browser, live_server):
    """On one of the site's pages a payload put into the DOM unsanitised is stopped by the CSP
    header alone, and runs once CSP is bypassed: the second pass tests the sanitiser alone."""
    watch = Watch()
    page = open_page(browser, watch, live_server, bypass_csp=bypass_csp)
    watch.where = "site page"
    response = page.goto("/control/")  # the site's 404 page, with the site's headers
    assert "script-src 'self'" in response.headers["content-security-policy"]
    payload = live(IDS.index("img-onerror"), "body")
    page.locator("main").evaluate(
        "(main, html) => main.insertAdjacentHTML('beforeend', html)", payload
    )
    watch.check(page, "site page")
    page.context.close()

    ran = found(watch, "^site page: (alert dialog|request for the marker|window.__xss|<html data)")
    assert bool(ran) == bypass_csp, watch.found
    assert found(watch, f"^site page: <img onerror={LIVE}")  # armed, whether it ran or not

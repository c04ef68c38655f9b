#!/usr/bin/env python
"""Two app servers, one PostgreSQL, one Redis: what one server publishes, the other serves.

`.venv/bin/python bench/two_servers.py` (run by `.ci/run`; needs PostgreSQL 15 and
`redis-server`). It starts a throwaway PostgreSQL and a Redis (no persistence) on free
127.0.0.1 ports, and two gunicorn servers, A and B, with production settings and REDIS_URL, so
that readers' rendered pages are shared through Redis. Then, over HTTP only:

1. both servers serve version 1 of a paper to anonymous readers, with one ETag (warming any
   page cache), and B answers A's ETag with 304;
2. an editor signs in on A (CSRF token from the form, as a browser does) and presses Publish in
   the review workspace; B serves version 2 (its new text) within the revision window (each
   process trusts the public revision it read for STANDPOINT_PAGE_REVISION_MS, a second), with
   the same ETag as A, a new ETag, and 200 to the old one; the JSON export has the same
   fingerprint on both;
3. the editor's session, made on A, works on B; the editor withdraws the paper there, and A
   shows the withdrawal notice within the window, with B's ETag, and lists and finds the paper
   no more.

Exits 1 with the failed check's message; everything started is stopped at the end.
"""

import re
import sys
import time

from client import Browser
from stack import Stack, exit_on_signals

SLUG = "shared-servers"
MARKER = "This sentence exists only in version two."
FIVE_XX = re.compile(r'HTTP/[\d.]+" 5\d\d ')  # a 5xx in gunicorn's access log
WINDOW = 1.0  # STANDPOINT_PAGE_REVISION_MS's default, in seconds


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")
    print(f"  ok: {message}", flush=True)


def page(browser, path, **headers):
    response = browser.get(path, **headers)
    if response.status >= 500:
        raise SystemExit(f"FAILED: {path} on {browser.port} answered {response.status}")
    return response


def served_within_the_window(browser, path, shows, what):
    """The page once it `shows` the change, which must take no longer than the revision window
    (plus a little for the requests themselves). Then the window is waited out, so that every
    worker of both servers has read the new revision before the checks that compare them."""
    started = time.monotonic()
    while True:
        response = page(browser, path)
        waited = time.monotonic() - started
        if shows(response):
            check(True, f"{what} after {waited:.2f} s (the window is {WINDOW:.0f} s)")
            time.sleep(WINDOW)
            return response
        if waited > WINDOW + 0.5:
            check(False, f"{what}: still the old page after {waited:.2f} s")
        time.sleep(0.05)


def main():
    exit_on_signals()
    started = time.monotonic()
    with Stack(redis=True) as stack:
        import scenario

        from papers import anchoring

        editor = scenario.person("shared-editor", editor=True)
        reviewer = scenario.person("shared-reviewer", reviewer=True)
        paper = scenario.published(scenario.paper(SLUG, word="shared"), editor, reviewer)
        section = paper.sections.get(anchor="part-1")
        section.body += " " + MARKER
        section.save()
        anchoring.reanchor_paper(paper)
        scenario.approved(paper, editor, reviewer)
        stack.close_db()

        a = stack.gunicorn("A", workers=2)
        b = stack.gunicorn("B", workers=2)
        reader_a, reader_b = Browser(a.base), Browser(b.base)
        path = f"/papers/{SLUG}/"

        print("1. Both servers serve version 1 with one ETag", flush=True)
        first_a, first_b = page(reader_a, path), page(reader_b, path)
        check(first_a.status == first_b.status == 200, "the paper page answers 200 on A and B")
        check("Version 1" in first_b.text and MARKER not in first_b.text, "B shows version 1")
        v1_etag = first_a.header("ETag")
        check(v1_etag and v1_etag == first_b.header("ETag"), f"A and B send one ETag {v1_etag}")
        for _ in range(2):  # warm whatever each server caches
            page(reader_a, path)
            page(reader_b, path)
        check(
            page(reader_b, path, **{"If-None-Match": v1_etag}).status == 304,
            "B answers A's ETag with 304 Not Modified",
        )

        print("2. An editor publishes version 2 through A; B serves it", flush=True)
        editor_a = Browser(a.base)
        editor_a.login("shared-editor", scenario.PASSWORD, then=f"/review/{SLUG}/")
        done = editor_a.post(
            f"/review/{SLUG}/workflow/publish/",
            {"note": "Second edition, published through A.", "override_reason": ""},
            follow=True,
        )
        check(
            done.status == 200 and done.said(" as version 2."),
            f"A acknowledges: {done.said('Published') or done.messages}",
        )
        second_b = served_within_the_window(
            reader_b,
            path,
            lambda r: r.status == 200 and MARKER in r.text and "Version 2" in r.text,
            "B serves version 2's text",
        )
        v2_etag = second_b.header("ETag")
        check(v2_etag != v1_etag, "B's ETag changed")
        check(page(reader_a, path).header("ETag") == v2_etag, "A sends the same ETag as B")
        check(
            page(reader_b, path, **{"If-None-Match": v1_etag}).status == 200,
            "B answers the old ETag with the new page (200)",
        )
        check(
            page(reader_a, path, **{"If-None-Match": v2_etag}).status == 304,
            "A answers B's ETag with 304",
        )
        exports = [
            page(r, f"/papers/{SLUG}/export.json").header("ETag") for r in (reader_a, reader_b)
        ]
        check(exports[0] == exports[1], f"export.json has one fingerprint on both: {exports[0]}")
        history = page(reader_b, f"/papers/{SLUG}/versions/").text
        check(f"/papers/{SLUG}/v2/" in history, "B's version history links version 2")

        print("3. The session made on A works on B; a withdrawal through B reaches A", flush=True)
        editor_b = Browser(b.base)
        editor_b.cookies = dict(editor_a.cookies)
        workspace = editor_b.get(f"/review/{SLUG}/")
        check(workspace.status == 200, "B accepts the session made on A (one database)")
        reason = "Withdrawn through server B by the two-servers test."
        done = editor_b.post(f"/review/{SLUG}/workflow/withdraw/", {"reason": reason}, follow=True)
        check(done.said("Withdrew"), f"B acknowledges: {done.said('Withdrew') or done.messages}")
        withdrawn_a = served_within_the_window(
            reader_a,
            path,
            lambda r: r.status == 200 and reason in r.text,
            "A shows the withdrawal notice with its reason at the same address",
        )
        check(
            withdrawn_a.header("ETag") == page(reader_b, path).header("ETag") != v2_etag,
            "A and B send one new ETag",
        )
        check(
            page(reader_a, path, **{"If-None-Match": v2_etag}).status == 200,
            "A no longer answers version 2's ETag with 304",
        )
        check(f'href="{path}"' not in page(reader_a, "/papers/").text, "A's list drops the paper")
        check(SLUG not in page(reader_a, "/papers/?q=shared").text, "A's search drops the paper")

        import redis

        keys = redis.Redis.from_url(stack.redis.url).dbsize()
        check(keys > 0, f"the shared Redis holds {keys} keys (readers' pages)")
        for server in (a, b):
            errors = [line for line in server.log().splitlines() if FIVE_XX.search(line)]
            check(not errors, f"gunicorn {server.name} logged no 5xx response")
    print(f"Two servers: all checks passed in {time.monotonic() - started:.0f} s.")


if __name__ == "__main__":
    sys.exit(main())

"""What editors wait for, for bench/run.py: the large paper's admin page, and saving a section
of about 1 MB that carries 50 claims through its admin page.

The section save goes through Django's test client in the benchmark's process, against the
benchmark's database: the whole request (form, conflict check, one render, re-anchoring of the
claims, the audit event), without the network. The admin page is measured with wrk against
gunicorn like the readers' pages, at one connection (an editor waits for their own page).
"""

import re
import time

SAVES = 3
SECTION_CLAIMS = 50
ADMIN_PAGE = "paper's admin page (editor, 1 connection)"


def megabyte_section(sentence):
    """A paper with one section of about 1 MB whose 50 claims are spread through it."""
    # Imported here: bench/run.py imports this module before it sets Django up.
    from papers import importing

    paragraphs = [" ".join(sentence(16) for _ in range(6)) for _ in range(1_400)]
    body = "\n\n".join(paragraphs)
    step = len(paragraphs) // SECTION_CLAIMS
    claims = [
        {"section": "the-long-one", "quote": paragraphs[n * step].split(". ")[1] + ".", "kind": k}
        for n, k in zip(range(SECTION_CLAIMS), ["factual", "causal"] * SECTION_CLAIMS, strict=False)
    ]
    document = {
        "title": "One long section",
        "slug": "bench-long-section",
        "sections": [{"heading": "The long one", "anchor": "the-long-one", "body": body}],
        "claims": claims,
    }
    paper = importing.save_document(document)
    return paper.sections.get()


def time_section_saves(editor, section):
    """Save the section through its admin page SAVES times, each with a new sentence at its
    end; returns the seconds of each save and the section's size."""
    from django.test import Client
    from django.test.utils import override_settings

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(editor)
    url = f"/admin/papers/section/{section.pk}/change/"
    seconds = []
    # The benchmark's section is longer than the default limit, which an editor's save obeys.
    with override_settings(STANDPOINT_MAX_SECTION_CHARS=len(section.body) * 2):
        for n in range(SAVES):
            page = client.get(url).content.decode()
            opened = re.search(r'name="opened_version" value="([^"]*)"', page).group(1)
            section.refresh_from_db()
            body = section.body + f"\n\nA sentence added by save {n + 1}."
            data = {
                "heading": section.heading,
                "body": body,
                "place": "1",
                "initial-place": "1",
                "opened_version": opened,
            }
            started = time.perf_counter()
            response = client.post(url, data)
            seconds.append(time.perf_counter() - started)
            if response.status_code != 302:
                raise SystemExit(f"Saving the long section answered {response.status_code}")
    orphans = section.claims.filter(orphaned=True).count()
    if orphans:
        raise SystemExit(f"Saving the long section orphaned {orphans} of its claims")
    return {"seconds": seconds, "chars": len(section.body), "claims": section.claims.count()}


def admin_page(editor, paper):
    """The paper's admin page in the benchmark's process: its size and its queries."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(editor)
    url = f"/admin/papers/paper/{paper.pk}/change/"
    client.get(url)  # a first request warms the templates and the session
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return {"url": url, "bytes": len(response.content), "queries": len(queries), "seconds": seconds}


def targets(row, timings, fmt_ms):
    """The editors' targets as (target, measured, met) rows for the report."""
    _, _, result, _, _ = row
    page, saves = timings["admin_page"], timings["section_save"]
    return [
        (
            "paper's admin page (large paper) p50 < 250 ms",
            f"{fmt_ms(result['p50'])} at 1 connection",
            result["p50"] < 250,
        ),
        (
            "paper's admin page (large paper): ≤ 40 queries, < 1 MB",
            f"{page['queries']} queries, {page['bytes'] / 1e3:.0f} KB",
            page["queries"] <= 40 and page["bytes"] < 1_000_000,
        ),
        (
            f"saving a 1 MB section with {SECTION_CLAIMS} claims < 3 s",
            f"{saves['chars'] / 1e6:.2f} MB, slowest of {SAVES}: "
            + ", ".join(f"{x:.2f} s" for x in saves["seconds"]),
            max(saves["seconds"]) < 3,
        ),
    ]

"""The review workspace in round 2, a measurement of its own for `bench/run.py`.

After the other measurements, the large paper goes through a second round as a reviewer meets
it: their round-1 review has a verdict on every claim (bulk-created as the same rows
`workflow.assess_claim` writes) and is submitted; the editor requests changes, rewords one claim
in each of the first REWORDED sections and submits the paper again, so that
`workflow.carry_forward` carries the verdicts on every other claim into round 2. Then the
reviewer's workspace (its first part: the reworded claims flagged with word differences, their
sections with what changed since round 1, and 30 claims with carried verdicts and their threads)
is driven by wrk at one connection.

`BENCH_ONLY=workspace-round-2 .venv/bin/python bench/run.py` builds the data, runs only this
measurement and prints it (bench/RESULTS.md is left as it is).
"""

NAME = "review workspace, round 2 (reviewer, carried verdicts, 1 connection)"
TARGET_MS = 150
REWORDED = 3  # sections, one claim each


def prepare(paper, editor):
    """Round 1 reviewed in full and closed, a few claims reworded, round 2 open. Returns the
    reviewer and how many verdicts were carried."""
    # Imported here: bench/run.py imports this module before it sets Django up.
    from django.contrib.auth import get_user_model

    from papers import anchoring, workflow
    from papers.models import Assessment, Review

    reviewer = get_user_model().objects.get(username="bench-reviewer")
    review = Review.objects.get(paper=paper, round=paper.round, reviewer=reviewer)
    claims = list(paper.claims.order_by("pk"))
    Assessment.objects.bulk_create(
        Assessment(
            review=review,
            claim=claim,
            verdict=Assessment.Verdict.NEEDS_SOURCE if n % 7 == 0 else Assessment.Verdict.SUPPORTED,
            note="Which source says so?" if n % 7 == 0 else "",
            claim_text=claim.quote,
            claim_hash=claim.text_hash,
        )
        for n, claim in enumerate(claims)
    )
    workflow.submit_review(review, by=reviewer, recommendation="revise")
    workflow.request_changes(paper, by=editor, reason="Hedge a few claims.")
    for section in paper.sections.order_by("position")[:REWORDED]:
        claim = section.claims.order_by("pk").first()
        hedged = claim.quote[:-1] + ", it seems."
        section.body = section.body.replace(claim.quote, hedged)
        section.save()
        claim.quote = hedged
        claim.save()
    anchoring.reanchor_paper(paper)
    paper.refresh_from_db()
    workflow.submit_paper(paper, by=editor)
    paper.refresh_from_db()
    carried = Assessment.objects.filter(review__paper=paper, review__round=paper.round)
    return reviewer, carried.exclude(carried_from=None).count()


def measure(paper, editor, *, base, get, wrk, login_cookie):
    """The workspace in round 2 at one connection: a row of bench/run.py's table."""
    reviewer, carried = prepare(paper, editor)
    cookie_name, session_key = login_cookie(reviewer)
    cookie = f"{cookie_name}={session_key}"
    path = f"/review/{paper.slug}/"
    status, body = get(base + path, cookie)
    page = body.decode()
    if status != 200 or "carried from round 1</strong>" not in page:
        raise SystemExit(f"{path} in round 2 answered {status} without carried verdicts")
    print(
        f"  {NAME}: {path} ({len(body)} bytes; {carried} verdicts carried, "
        f"{page.count('carried from round 1</strong>')} on this part)",
        flush=True,
    )
    print("wrk review workspace, round 2, one connection ...", flush=True)
    result, raw = wrk(base + path, headers=[f"Cookie: {cookie}"], connections=1)
    return NAME, path, result, raw, None


def target(row, fmt_ms):
    """The line of the targets table: p50 under TARGET_MS at one connection."""
    p50 = row[2]["p50"]
    return (
        f"{NAME.split(' (')[0]} (large paper) p50 < {TARGET_MS} ms",
        fmt_ms(p50),
        (p50 < TARGET_MS),
    )

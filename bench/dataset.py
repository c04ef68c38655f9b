"""The data bench/run.py measures: the demo paper, a bench editor and reviewer, a generated
~1 MB Markdown paper imported, and the large paper published in 3 versions and in review with
COMMENTS comments, with the time each step took.
"""

import secrets
import time

from generated import large_document, megabyte_markdown, rng, sentence

COMMENTS = 3000


def build(tmp, database_url):
    """Returns the large paper, the editor, its first claim and the timings."""
    # Imported here: bench/run.py imports this module before it sets Django up.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection

    from papers import anchoring, importing, permissions, workflow
    from papers.models import Comment

    timings = {}
    print(f"Database: {connection.vendor} ({database_url.split('@')[-1]})", flush=True)
    call_command("migrate", verbosity=0)
    call_command("load_demo", "--force", verbosity=0)  # the demo paper, measured on the wire
    User = get_user_model()
    editor = User.objects.create_user(
        "bench-editor", password=secrets.token_urlsafe(16), is_staff=True
    )
    editor.groups.add(Group.objects.get(name=permissions.EDITORS))
    reviewer = User.objects.create_user("bench-reviewer", password=secrets.token_urlsafe(16))
    reviewer.groups.add(Group.objects.get(name=permissions.REVIEWERS))

    md = tmp / "one-megabyte.md"
    size = megabyte_markdown(md)
    t = time.perf_counter()
    importing.import_file(md)
    timings["import_md"] = (time.perf_counter() - t, size)
    print(
        f"Imported {size / 1e6:.2f} MB of Markdown in {timings['import_md'][0]:.2f} s", flush=True
    )

    document = large_document()
    t = time.perf_counter()
    paper = importing.save_document(document)
    timings["import_large"] = time.perf_counter() - t
    words = sum(len(s["body"].split()) for s in document["sections"])
    print(
        f"Large paper: {len(document['sections'])} sections, {words} words, "
        f"{paper.claims.count()} claims (saved in {timings['import_large']:.2f} s)",
        flush=True,
    )

    publishes = []
    for n in range(3):
        if n:  # a small edit between versions, then re-anchoring, as an editor's save does
            for section in paper.sections.order_by("position")[n * 7 : n * 7 + 3]:
                section.body = section.body + "\n\n" + sentence(15)
                section.save()
            anchoring.reanchor_paper(paper)
        paper.refresh_from_db()
        t = time.perf_counter()
        workflow.publish_paper(paper, by=None)
        publishes.append(time.perf_counter() - t)
    timings["publish"] = publishes
    print("Published 3 versions in " + ", ".join(f"{x:.2f} s" for x in publishes), flush=True)

    paper.refresh_from_db()
    workflow.assign_reviewer(paper, reviewer, by=editor)
    workflow.submit_paper(paper, by=editor)
    paper.refresh_from_db()
    claims = list(paper.claims.order_by("pk"))
    # 50 comments through workflow.add_comment; the rest bulk-created as the same rows.
    via_workflow = 50
    for i in range(via_workflow):
        workflow.add_comment(claims[i], by=reviewer, body=sentence(20))
    roots, rows = [], []
    for i in range(via_workflow, COMMENTS):
        claim = claims[i % len(claims)]
        author = reviewer if i % 2 else editor
        rows.append(
            Comment(
                claim=claim,
                author=author,
                author_name=author.get_username(),
                body=sentence(rng.randint(10, 40)),
                claim_text=claim.quote,
                round=paper.round,
            )
        )
    Comment.objects.bulk_create(rows[: len(rows) * 2 // 3], batch_size=500)
    roots = list(Comment.objects.filter(claim__paper=paper, parent=None).order_by("pk"))
    replies = rows[len(rows) * 2 // 3 :]
    for j, reply in enumerate(replies):
        parent = roots[j % len(roots)]
        reply.claim, reply.parent, reply.claim_text = parent.claim, parent, parent.claim_text
    Comment.objects.bulk_create(replies, batch_size=500)
    total = Comment.objects.filter(claim__paper=paper).count()
    print(
        f"Review round {paper.round}: {total} comments "
        f"({via_workflow} via workflow.add_comment, {total - via_workflow} bulk-created)",
        flush=True,
    )
    timings["comments"] = total
    timings["words"] = words
    timings["claims"] = len(claims)
    timings["sections"] = len(document["sections"])
    timings["versions"] = paper.versions.count()
    return paper, editor, claims[0], timings

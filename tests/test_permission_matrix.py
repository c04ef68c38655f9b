"""Every URL of the project × every role × the methods it accepts (R1, R3, R6, R7, R9).

404 where an answer would reveal something unpublished or someone else's review; 403 where the
page is known to the user but the action is not theirs; 302 to sign in for anonymous visitors
of signed-in pages; 405 for a method the URL does not take.
"""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tasks_db.models import DBTaskResult, get_date_max
from PIL import Image

from papers import typesetting, workflow
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    TagFactory,
    approved,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "outsider", "unassigned", "assigned", "editor", "superuser"]


def expect(anonymous, outsider, unassigned, assigned, editor, superuser):
    return dict(
        zip(PERSONAS, (anonymous, outsider, unassigned, assigned, editor, superuser), strict=True)
    )


EVERYONE = expect(200, 200, 200, 200, 200, 200)
NOBODY = expect(404, 404, 404, 404, 404, 404)
REVIEW_PAGE = expect(302, 404, 404, 200, 200, 200)
REVIEW_ACTION = expect(302, 404, 404, 302, 302, 302)
EDITOR_ACTION = expect(302, 404, 404, 403, 302, 302)
ADMIN_PAGE = expect(302, 302, 302, 302, 200, 200)


def png_upload():
    """A fresh upload for each request (a file is read once); `data` may be such a callable."""
    buffer = BytesIO()
    Image.new("RGB", (4, 3), "teal").save(buffer, "PNG")
    return {"image": SimpleUploadedFile("figure.png", buffer.getvalue(), "image/png")}


# (method, url, data, expected status per persona)
MATRIX = [
    ("get", "/", None, EVERYONE),
    ("get", "/papers/", None, EVERYONE),
    ("get", "/papers/?tag=nato", None, EVERYONE),
    ("get", "/papers/{live}/", None, EVERYONE),
    ("get", "/papers/{live}/v1/", None, EVERYONE),
    # A version's PDF; a server without WeasyPrint's system libraries answers 503 instead.
    (
        "get",
        "/papers/{live}/v1/paper.pdf",
        None,
        EVERYONE if typesetting.available() else expect(*[503] * 6),
    ),
    ("get", "/papers/{live}/v2/", None, NOBODY),
    ("get", "/papers/{live}/export.md", None, EVERYONE),
    ("get", "/papers/{live}/export.json", None, EVERYONE),
    ("get", "/papers/{live}/cite/", None, EVERYONE),
    ("get", "/papers/{live}/v1/cite.bib", None, EVERYONE),
    ("get", "/claims/{foreign_claim}/cite/", None, EVERYONE),
    ("get", "/claims/{foreign_claim}/cite.ris", None, EVERYONE),
    ("get", "/claims/{claim}/cite.json", None, NOBODY),  # only ever in a draft
    ("get", "/tags/nato/", None, EVERYONE),
    ("get", "/tags/", None, EVERYONE),
    ("get", "/claims/?q=paper", None, EVERYONE),
    ("get", "/papers/{live}/versions/", None, EVERYONE),
    ("get", "/papers/{live}/diff/1/1/", None, EVERYONE),
    ("get", "/papers/{live}/diff/1/2/", None, NOBODY),
    ("get", "/claims/", None, EVERYONE),
    ("get", "/claims/?tag=nato&kind=factual&status=unchecked", None, EVERYONE),
    ("get", "/claims/{foreign_claim}/", None, EVERYONE),
    ("get", "/claims/{claim}/", None, NOBODY),  # only ever in a draft
    ("get", "/papers/?q=paper", None, EVERYONE),
    ("get", "/feed/", None, EVERYONE),
    ("get", "/corrections/", None, EVERYONE),
    ("get", "/corrections/?paper={live}&tag=nato", None, EVERYONE),
    ("get", "/corrections/?paper={draft}", None, NOBODY),
    ("get", "/corrections/feed/", None, EVERYONE),
    ("post", "/corrections/", {}, expect(405, 405, 405, 405, 405, 405)),
    ("get", "/forecasts/", None, EVERYONE),
    ("get", "/forecasts/?paper={live}&tag=nato&outcome=due", None, EVERYONE),
    ("get", "/forecasts/?paper={draft}", None, EVERYONE),  # says "no such paper", as for any
    ("post", "/forecasts/", {}, expect(405, 405, 405, 405, 405, 405)),
    # Resolving a published forecast: editors, and reviewers assigned to its paper (the live
    # paper's reviewer is not among the personas: "assigned" reviews the paper in review).
    ("get", "/forecasts/{forecast}/resolve/", None, expect(302, 403, 403, 403, 200, 200)),
    ("post", "/forecasts/{forecast}/resolve/", {}, expect(302, 403, 403, 403, 200, 200)),
    ("get", "/forecasts/{claim}/resolve/", None, expect(302, 404, 404, 404, 404, 404)),
    ("get", "/sitemap.xml", None, EVERYONE),
    ("get", "/robots.txt", None, EVERYONE),
    ("get", "/favicon.ico", None, expect(302, 302, 302, 302, 302, 302)),
    ("post", "/favicon.ico", {}, expect(405, 405, 405, 405, 405, 405)),
    ("get", "/healthz", None, EVERYONE),
    ("post", "/healthz", {}, expect(405, 405, 405, 405, 405, 405)),
    # Operators' metrics: only to their token or allow-listed addresses, a 404 to every role.
    ("get", "/metrics", None, NOBODY),
    ("post", "/metrics", {}, NOBODY),
    ("get", "/papers/{draft}/versions/", None, NOBODY),
    ("post", "/papers/{live}/", {}, expect(405, 405, 405, 405, 405, 405)),
    # The paper under review has never been published: nothing public shows it, to anyone.
    ("get", "/papers/{draft}/", None, NOBODY),
    ("get", "/papers/{draft}/v1/", None, NOBODY),
    ("get", "/papers/{draft}/v1/paper.pdf", None, NOBODY),
    ("get", "/papers/{draft}/export.json", None, NOBODY),
    ("get", "/papers/{draft}/cite/", None, NOBODY),
    ("get", "/papers/{draft}/v1/cite.ris", None, NOBODY),
    ("get", "/accounts/login/", None, EVERYONE),
    ("get", "/accounts/logout/", None, expect(405, 405, 405, 405, 405, 405)),
    ("post", "/accounts/logout/", {}, expect(302, 302, 302, 302, 302, 302)),
    ("get", "/review/", None, expect(302, 200, 200, 200, 200, 200)),
    ("get", "/review/{draft}/", None, REVIEW_PAGE),
    ("get", "/review/{live}/", None, expect(302, 404, 404, 404, 200, 200)),
    ("get", "/review/{draft}/submit/", None, REVIEW_PAGE),
    ("get", "/review/{draft}/claims/{claim}/comment/", None, expect(302, 405, 405, 405, 405, 405)),
    ("post", "/review/{draft}/claims/{claim}/comment/", {"body": "Why?"}, REVIEW_ACTION),
    ("post", "/review/{draft}/claims/{claim}/assess/", {"verdict": "supported"}, REVIEW_ACTION),
    ("post", "/review/{draft}/comments/{comment}/resolve/", {}, REVIEW_ACTION),
    (
        "post",
        "/review/{draft}/submit/",
        {"recommendation": "approve", "unassessed": "on"},  # with claims left unassessed
        REVIEW_ACTION,
    ),
    # Ids of another paper through this paper's URLs: 404 for everyone who gets that far.
    (
        "post",
        "/review/{draft}/claims/{foreign_claim}/comment/",
        {"body": "x"},
        REVIEW_PAGE | {"assigned": 404, "editor": 404, "superuser": 404},
    ),
    (
        "post",
        "/review/{draft}/comments/{foreign_comment}/resolve/",
        {},
        REVIEW_PAGE | {"assigned": 404, "editor": 404, "superuser": 404},
    ),
    ("post", "/review/{draft}/workflow/request-changes/", {"reason": "Fix it."}, EDITOR_ACTION),
    ("post", "/review/{draft}/workflow/approve/", {}, EDITOR_ACTION),
    ("post", "/review/{draft}/workflow/assign/", {}, EDITOR_ACTION),
    (
        "post",
        "/review/{live}/workflow/withdraw/",
        {"reason": "x"},
        expect(302, 404, 404, 404, 302, 302),
    ),
    ("get", "/review/{draft}/workflow/approve/", None, expect(302, 405, 405, 405, 405, 405)),
    ("get", "/admin/", None, ADMIN_PAGE),
    ("get", "/admin/papers/paper/{draft_pk}/change/", None, ADMIN_PAGE),
    ("get", "/admin/papers/paper/{draft_pk}/workflow/request-changes/", None, ADMIN_PAGE),
    (
        "post",
        "/admin/papers/paper/{draft_pk}/workflow/request-changes/",
        {"reason": "x"},
        expect(302, 302, 302, 302, 302, 302),
    ),
    ("post", "/admin/markdown-preview/", {"content": "*x*"}, ADMIN_PAGE),
    ("post", "/admin/markdown-upload/", png_upload, ADMIN_PAGE),
    ("get", "/admin/markdown-upload/", None, expect(302, 302, 302, 302, 405, 405)),
    # Drafts: their preview for the paper's editors and reviewers, share links for anyone who
    # holds a live one, and the admin's share, compare and revert pages.
    ("get", "/papers/{draft}/preview/", None, expect(404, 404, 404, 200, 200, 200)),
    ("get", "/papers/{live}/preview/", None, expect(404, 404, 404, 404, 200, 200)),
    ("get", "/papers/no-such-paper/preview/", None, NOBODY),
    ("post", "/papers/{draft}/preview/", {}, expect(405, 405, 405, 405, 405, 405)),
    ("get", "/preview/{token}/", None, EVERYONE),
    ("get", "/preview/{revoked_token}/", None, NOBODY),
    ("get", "/preview/not-a-token/", None, NOBODY),
    ("post", "/preview/{token}/", {}, expect(405, 405, 405, 405, 405, 405)),
    ("get", "/admin/papers/paper/{draft_pk}/share/", None, ADMIN_PAGE),
    ("post", "/admin/papers/paper/{draft_pk}/share/", {"days": "7"}, ADMIN_PAGE),
    (
        "post",
        "/admin/papers/paper/{draft_pk}/share/{link}/revoke/",
        {},
        expect(302, 302, 302, 302, 302, 302),
    ),
    (
        "get",
        "/admin/papers/paper/{draft_pk}/share/{link}/revoke/",
        None,
        expect(302, 302, 302, 302, 405, 405),
    ),
    ("get", "/admin/papers/paper/{live_pk}/compare/", None, ADMIN_PAGE),
    ("get", "/admin/papers/paper/{draft_pk}/compare/?since=1", None, ADMIN_PAGE),
    ("get", "/admin/papers/paper/{live_pk}/compare/revert/{live_anchor}/", None, ADMIN_PAGE),
    (
        "post",
        "/admin/papers/paper/{live_pk}/compare/revert/{live_anchor}/",
        {},
        expect(302, 302, 302, 302, 302, 302),
    ),
    # Background tasks: editors read each result and its error (papers/admin/tasks.py).
    ("get", "/admin/django_tasks_database/dbtaskresult/", None, ADMIN_PAGE),
    ("get", "/admin/django_tasks_database/dbtaskresult/{task}/change/", None, ADMIN_PAGE),
    # The claims API: published content for everyone, the same answer whoever asks; read-only.
    ("get", "/api/v1/", None, EVERYONE),
    ("get", "/api/v1/schema/", None, EVERYONE),
    ("get", "/api/v1/docs/", None, EVERYONE),
    ("get", "/api/v1/papers/?tag=nato", None, EVERYONE),
    ("get", "/api/v1/papers/{live}/", None, EVERYONE),
    ("get", "/api/v1/papers/{live}/versions/1/", None, EVERYONE),
    ("get", "/api/v1/papers/{live}/versions/2/", None, NOBODY),
    ("get", "/api/v1/papers/{draft}/", None, NOBODY),
    ("get", "/api/v1/papers/{draft}/versions/1/", None, NOBODY),
    ("get", "/api/v1/claims/?tag=nato&kind=factual&status=unchecked", None, EVERYONE),
    ("get", "/api/v1/claims/{foreign_claim}/", None, EVERYONE),
    ("get", "/api/v1/claims/{claim}/", None, NOBODY),  # only ever in a draft
    ("get", "/api/v1/corrections/?paper={live}", None, EVERYONE),
    ("get", "/api/v1/corrections/?paper={draft}", None, NOBODY),
    ("post", "/api/v1/claims/", {}, expect(405, 405, 405, 405, 405, 405)),
    ("put", "/api/v1/papers/{live}/", {}, expect(405, 405, 405, 405, 405, 405)),
    ("delete", "/api/v1/claims/{foreign_claim}/", {}, expect(405, 405, 405, 405, 405, 405)),
    # Uploaded images are public, like the pages that show them; their names are random.
    ("get", "/media/figure.png", None, EVERYONE),
    ("get", "/media/missing.png", None, NOBODY),
    ("get", "/media/../secret.txt", None, NOBODY),
    ("post", "/media/figure.png", {}, expect(405, 405, 405, 405, 405, 405)),
]


@pytest.fixture
def world(editor, reviewer, settings, tmp_path):
    """A published paper with an edited draft, and a never-published paper in review with its
    reviewer assigned, a thread on one of its claims, a live and a revoked share link, and a
    thread on the published paper's claim; an uploaded
    image in a MEDIA_ROOT of its own, with a file beside it that must not be reachable."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    (settings.MEDIA_ROOT / "figure.png").write_bytes(png_upload()["image"].read())
    (tmp_path / "secret.txt").write_text("not media")
    nato = TagFactory(slug="nato", name="NATO")
    live = PaperFactory(slug="live-paper")
    live.tags.add(nato)
    live_claim = ClaimFactory(section=SectionFactory(paper=live))
    forecast = ClaimFactory(
        section=live_claim.section,
        quote="Russia has not attacked a NATO member.",
        kind="predictive",
        due="2020-01-01",
    )
    workflow.publish_paper(approved(live), by=editor)
    live.refresh_from_db()
    workflow.assign_reviewer(live, ReviewerFactory(username="live_reviewer"), by=editor)
    live_section = live.sections.get()
    live_section.body += " Edited since it was published."
    live_section.save()

    draft = PaperFactory(slug="paper-in-review")
    claim = ClaimFactory(section=SectionFactory(paper=draft))
    workflow.assign_reviewer(draft, reviewer, by=editor)
    workflow.submit_paper(draft, by=editor)
    comment = workflow.add_comment(claim, by=reviewer, body="Source?")
    foreign_comment = workflow.add_comment(live_claim, by=editor, body="Elsewhere.")
    link, token = workflow.create_share_link(draft, by=editor)
    revoked, revoked_token = workflow.create_share_link(draft, by=editor)
    workflow.revoke_share_link(revoked, by=editor)
    task = DBTaskResult.objects.create(
        task_path="papers.notifications.send_email",
        args_kwargs={"args": ["Subject", "Body", "editor@example.org"], "kwargs": {}},
        backend_name="default",
        run_after=get_date_max(),
        status="FAILED",
        exception_class_path="builtins.ConnectionRefusedError",
        traceback="ConnectionRefusedError: [Errno 111] Connection refused",
    )
    return {
        "live": live.slug,
        "draft": draft.slug,
        "draft_pk": draft.pk,
        "claim": claim.public_id,
        "comment": comment.pk,
        "foreign_claim": live_claim.public_id,
        "forecast": forecast.public_id,
        "foreign_comment": foreign_comment.pk,
        "live_pk": live.pk,
        "live_anchor": live_section.anchor,
        "token": token,
        "revoked_token": revoked_token,
        "link": link.pk,
        "task": task.pk,
    }


@pytest.fixture
def people(reviewer, outsider, editor, superuser):
    return {
        "anonymous": None,
        "outsider": outsider,
        "unassigned": ReviewerFactory(username="unassigned"),
        "assigned": reviewer,
        "editor": editor,
        "superuser": superuser,
    }


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("method", "url", "data", "expected"),
    MATRIX,
    ids=[f"{method.upper()} {url}" for method, url, _, _ in MATRIX],
)
def test_every_role_gets_the_right_answer_from_every_url(
    world, people, persona, method, url, data, expected
):
    client = Client()
    if people[persona] is not None:
        client.force_login(people[persona])
    data = data() if callable(data) else data
    response = getattr(client, method)(url.format(**world), data)
    assert response.status_code == expected[persona]
    if response.status_code == 302 and persona == "anonymous":
        # To sign in, home, or (from /favicon.ico) the icon itself.
        to = {"/accounts/login/", "/admin/login/", "/", "/static/favicon.svg"}
        assert response["Location"].split("?")[0] in to

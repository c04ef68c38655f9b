"""The workflow in the admin: the buttons on a paper's page (R6, R9), the paper list's workflow
columns, read-only records (R29) and the edit lock between two editors (R28)."""

from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from papers import workflow
from papers.admin.content import PaperAdmin
from papers.models import Assignment, Claim, Comment, Event, Paper, Review, Version
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    UserFactory,
    approved,
)
from tests.test_admin import paper_form

pytestmark = pytest.mark.django_db


def login(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def action_url(paper, action):
    return f"/admin/papers/paper/{paper.pk}/workflow/{action}/"


def change_url(paper):
    return f"/admin/papers/paper/{paper.pk}/change/"


def messages_after(client, response):
    """The messages the redirect target shows."""
    page = client.get(response["Location"])
    return [str(m) for m in page.context["messages"]]


@contextmanager
def writes_one_event(action):
    before = list(Event.objects.exclude(paper=None).values_list("pk", flat=True))
    yield
    new = Event.objects.exclude(paper=None).exclude(pk__in=before)
    assert list(new.values_list("action", flat=True)) == [action]


@pytest.fixture
def staff_outsider(db):
    """Staff, but not in the Editors group."""
    return UserFactory(username="staff_outsider", is_staff=True)


@pytest.fixture
def assigned(draft, editor, reviewer):
    workflow.assign_reviewer(draft, reviewer, by=editor)
    return draft


@pytest.fixture
def in_review(assigned, editor):
    return workflow.submit_paper(assigned, by=editor)


def recommend_approval(paper, reviewer):
    """`reviewer` submits their review of the current round, recommending approval, with a
    verdict on every claim (what approval rests on)."""
    review = Review.objects.get(paper=paper, reviewer=reviewer, round=paper.round)
    for claim in paper.claims.exclude(assessments__review=review):
        workflow.assess_claim(review, claim, by=reviewer, verdict="supported")
    return workflow.submit_review(review, by=reviewer, recommendation="approve")


@pytest.fixture
def reviewed(in_review, reviewer):
    """In review with the reviewer's review submitted: the paper may be approved."""
    recommend_approval(in_review, reviewer)
    return in_review


class TestButtons:
    @pytest.mark.parametrize(
        ("paper", "action", "data", "event", "expected_stage"),
        [
            ("assigned", "submit", {}, "submit", "in_review"),
            (
                "in_review",
                "request-changes",
                {"reason": "Sources."},
                "request_changes",
                "changes_requested",
            ),
            ("reviewed", "approve", {"publish_at": ""}, "approve", "approved"),
            ("approved_paper", "publish", {"note": "First."}, "publish", "draft"),
            ("published", "correct", {"note": "Fixed a date."}, "correct", "draft"),
            ("published", "withdraw", {"reason": "Plagiarised."}, "withdraw", "draft"),
            ("draft", "assign", {"reviewer": "REVIEWER"}, "assign", "draft"),
            ("assigned", "unassign", {"reviewer": "REVIEWER"}, "unassign", "draft"),
        ],
    )
    def test_each_button_works_for_an_editor_and_writes_one_event(
        self, request, editor_client, reviewer, paper, action, data, event, expected_stage
    ):
        paper = request.getfixturevalue(paper)
        data = {k: reviewer.pk if v == "REVIEWER" else v for k, v in data.items()}
        with writes_one_event(event):
            response = editor_client.post(action_url(paper, action), data)
        assert response.status_code == 302
        assert response["Location"] == change_url(paper)
        paper.refresh_from_db()
        assert paper.stage == expected_stage
        assert not any("error" in m.lower() for m in messages_after(editor_client, response))

    def test_submitting_opens_a_round_with_a_review_for_each_reviewer(
        self, editor_client, assigned, reviewer
    ):
        editor_client.post(action_url(assigned, "submit"))
        assert Review.objects.get(paper=assigned).reviewer == reviewer

    def test_approving_for_a_later_time_schedules_it(self, editor_client, reviewed):
        editor_client.post(action_url(reviewed, "approve"), {"publish_at": "2999-01-02T09:30"})
        reviewed.refresh_from_db()
        assert reviewed.publish_at.year == 2999

    def test_a_publication_time_in_the_past_is_refused_by_the_form(self, editor_client, reviewed):
        response = editor_client.post(
            action_url(reviewed, "approve"), {"publish_at": "2001-01-01T09:30"}
        )
        assert response.status_code == 200
        assert "Choose a time in the future." in response.content.decode()
        reviewed.refresh_from_db()
        assert reviewed.stage == "in_review"

    def test_publishing_creates_a_version_and_corrections_flag_it(
        self, editor_client, approved_paper
    ):
        editor_client.post(action_url(approved_paper, "publish"), {"note": "First."})
        editor_client.post(action_url(approved_paper, "correct"), {"note": "Fixed a date."})
        versions = Version.objects.filter(paper=approved_paper).order_by("number")
        assert [(v.number, v.is_correction, v.note) for v in versions] == [
            (1, False, "First."),
            (2, True, "Fixed a date."),
        ]

    def test_only_active_unassigned_reviewers_can_be_chosen(self, editor_client, assigned):
        free = ReviewerFactory(username="free_reviewer")
        ReviewerFactory(username="gone_reviewer", is_active=False)
        UserFactory(username="not_a_reviewer")
        form = editor_client.get(action_url(assigned, "assign")).context["form"]
        assert list(form.fields["reviewer"].queryset) == [free]

    def test_a_reason_is_required_before_the_workflow_is_called(self, editor_client, in_review):
        response = editor_client.post(action_url(in_review, "request-changes"), {"reason": ""})
        assert response.status_code == 200
        assert "This field is required." in response.content.decode()
        in_review.refresh_from_db()
        assert in_review.stage == "in_review"

    @pytest.mark.parametrize(
        "action",
        [
            "submit",
            "request-changes",
            "approve",
            "publish",
            "correct",
            "withdraw",
            "assign",
            "unassign",
        ],
    )
    def test_a_get_only_shows_the_form_and_changes_nothing(self, editor_client, in_review, action):
        """R9."""
        response = editor_client.get(action_url(in_review, action))
        assert response.status_code == 200
        assert 'method="post"' in response.content.decode()
        assert Paper.objects.get().stage == "in_review"
        assert Event.objects.exclude(paper=None).count() == 2  # assign and submit, from the fixture
        assert Assignment.objects.count() == 1

    def test_an_unknown_action_is_404(self, editor_client, draft):
        assert editor_client.post(action_url(draft, "delete-everything")).status_code == 404


@pytest.fixture
def approved_paper(draft):
    return approved(draft)


class TestRefusals:
    def test_a_workflow_refusal_is_a_message_on_the_paper_page(self, editor_client, draft):
        response = editor_client.post(action_url(draft, "submit"))
        assert response.status_code == 302
        assert response["Location"] == change_url(draft)
        page = editor_client.get(response["Location"]).content.decode()
        assert "Assign at least one active reviewer before submitting the paper." in page
        draft.refresh_from_db()
        assert draft.stage == "draft"
        assert not Event.objects.exclude(paper=None).exists()

    def test_a_wrong_stage_is_refused_by_the_workflow_not_the_page(self, editor_client, draft):
        response = editor_client.post(action_url(draft, "approve"), {"publish_at": ""})
        assert response.status_code == 302
        assert any("cannot be approved" in m for m in messages_after(editor_client, response))
        assert Paper.objects.get().stage == "draft"

    def test_an_author_may_not_approve_their_own_paper(self, editor_client, editor, reviewed):
        reviewed.authors.add(editor)
        response = editor_client.post(action_url(reviewed, "approve"), {"publish_at": ""})
        assert any("You are an author" in m for m in messages_after(editor_client, response))
        assert Paper.objects.get().stage == "in_review"

    def test_a_superusers_four_eyes_override_is_logged(self, superuser, reviewed):
        reviewed.authors.add(superuser)
        root = login(superuser)
        root.post(
            action_url(reviewed, "approve"),
            {"publish_at": "", "override_reason": "The second editor is on leave."},
        )
        assert Paper.objects.get().stage == "approved"
        actions = Event.objects.exclude(paper=None).values_list("action", flat=True)
        assert list(actions[:2]) == ["approve", "override"]

    def test_a_post_without_a_csrf_token_is_refused(self, editor, assigned):
        client = Client(enforce_csrf_checks=True)
        client.force_login(editor)
        assert client.post(action_url(assigned, "submit")).status_code == 403
        assert Paper.objects.get().stage == "draft"

    @pytest.mark.parametrize(
        ("action", "data"),
        [
            ("submit", {}),
            ("request-changes", {"reason": "x"}),
            ("approve", {}),
            ("publish", {"note": "x"}),
            ("correct", {"note": "x"}),
            ("withdraw", {"reason": "x"}),
            ("assign", {"reviewer": "REVIEWER"}),
            ("unassign", {"reviewer": "REVIEWER"}),
        ],
    )
    @pytest.mark.parametrize("persona", ["anonymous", "outsider", "reviewer", "staff_outsider"])
    def test_people_outside_editors_are_sent_to_login_and_change_nothing(
        self, request, in_review, reviewer, persona, action, data
    ):
        """R6."""
        user = None if persona == "anonymous" else request.getfixturevalue(persona)
        data = {k: reviewer.pk if v == "REVIEWER" else v for k, v in data.items()}
        client = login(user)
        for response in [
            client.get(action_url(in_review, action)),
            client.post(action_url(in_review, action), data),
        ]:
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/")
        paper = Paper.objects.get()
        assert (paper.stage, paper.live_version_id, paper.withdrawn_at) == ("in_review", None, None)
        assert Event.objects.exclude(paper=None).count() == 2
        assert Assignment.objects.count() == 1

    @pytest.mark.parametrize(
        ("paper", "action", "data"),
        [
            ("approved_paper", "publish", {"note": "Sneaky."}),
            ("published", "correct", {"note": "Sneaky."}),
            ("published", "withdraw", {"reason": "Sneaky."}),
        ],
    )
    def test_an_editor_without_the_publish_permission_cannot_publish(
        self, request, editor_client, editor, paper, action, data
    ):
        """R6: the button is gone, and posting anyway changes nothing."""
        paper = request.getfixturevalue(paper)
        editor.groups.get().permissions.remove(Permission.objects.get(codename="publish_paper"))
        page = editor_client.get(change_url(paper)).content.decode()
        assert action_url(paper, action) not in page
        versions = Version.objects.count()
        assert editor_client.post(action_url(paper, action), data).status_code == 403
        assert Version.objects.count() == versions
        assert Paper.objects.get().withdrawn_at is None

    def test_an_editor_without_the_change_permission_is_forbidden(
        self, editor_client, editor, assigned
    ):
        editor.groups.get().permissions.remove(Permission.objects.get(codename="change_paper"))
        assert editor_client.post(action_url(assigned, "submit")).status_code == 403
        assert Paper.objects.get().stage == "draft"


class TestThePaperPage:
    def test_it_offers_the_actions_that_fit_the_stage(self, editor_client, assigned, in_review):
        page = editor_client.get(change_url(in_review)).content.decode()
        for offered in ["approve", "request-changes", "assign", "unassign"]:
            assert action_url(in_review, offered) in page
        for not_offered in ["submit", "publish", "correct", "withdraw"]:
            assert action_url(in_review, not_offered) not in page

    def test_a_published_paper_offers_a_correction_and_a_withdrawal(self, editor_client, published):
        page = editor_client.get(change_url(published)).content.decode()
        assert action_url(published, "correct") in page
        assert action_url(published, "withdraw") in page
        assert action_url(published, "publish") not in page

    def test_it_lists_the_events_newest_first_with_override_reasons(
        self, editor_client, editor, reviewer, in_review
    ):
        claim = in_review.claims.first()
        review = Review.objects.get(paper=in_review)
        workflow.assess_claim(review, claim, by=reviewer, verdict="disputed", note="Not so.")
        recommend_approval(in_review, reviewer)
        workflow.approve_paper(in_review, by=editor)
        refused = editor_client.post(action_url(in_review, "publish"), {"note": "v1"})
        assert any("unresolved thread" in m for m in messages_after(editor_client, refused))
        editor_client.post(
            action_url(in_review, "publish"),
            {"note": "v1", "override_reason": "The dispute is about wording only."},
        )
        html = editor_client.get(change_url(in_review)).content.decode()
        history = html[html.index('id="event-history"') :]
        assert "Publish gate: The dispute is about wording only." in history
        order = [history.index(label) for label in ["Published", "Approved", "Submitted"]]
        assert order == sorted(order)

    def test_an_orphaned_claim_shows_its_old_text(self, editor_client, draft):
        claim = draft.claims.first()
        Claim.objects.filter(pk=claim.pk).update(orphaned=True)
        html = editor_client.get(change_url(draft)).content.decode()
        assert "<strong>Orphaned</strong>" in html
        assert f"It quoted “<del>{claim.quote}</del>”" in html  # above, with its offer


def busy_paper(editor, reviewer):
    """A published paper in its second review round, with an open thread and an orphaned claim."""
    paper = PaperFactory()
    section = SectionFactory(paper=paper)
    claim = ClaimFactory(section=section)
    ClaimFactory(section=section, quote="Russia has not attacked a NATO member.")
    workflow.publish_paper(approved(paper), by=editor)
    workflow.assign_reviewer(paper, reviewer, by=editor)
    workflow.submit_paper(paper, by=editor)
    review = Review.objects.get(paper=paper)
    workflow.assess_claim(review, claim, by=reviewer, verdict="needs-source")
    Claim.objects.filter(pk=claim.pk).update(orphaned=True)
    return paper


class TestThePaperList:
    def test_it_shows_stage_round_version_reviews_threads_and_orphans(
        self, editor_client, editor, reviewer
    ):
        paper = busy_paper(editor, reviewer)
        response = editor_client.get("/admin/papers/paper/")
        row = response.context["cl"].result_list[0]
        assert row == paper
        assert (row.stage, row.round, row.live_version.number) == ("in_review", 1, 1)
        assert (row.submitted_count, row.open_review_count) == (0, 1)
        assert (row.open_thread_count, row.orphan_count, row.claim_count) == (1, 1, 2)
        html = response.content.decode()
        assert "0 submitted, 1 open" in html

    def test_it_filters_by_stage(self, editor_client, draft, in_review):
        other = PaperFactory()
        response = editor_client.get("/admin/papers/paper/?stage__exact=in_review")
        assert list(response.context["cl"].result_list) == [in_review]
        assert other not in response.context["cl"].result_list

    def test_its_query_count_does_not_grow_with_papers(
        self, editor_client, editor, reviewer, django_assert_num_queries
    ):
        """Session, user, editor checks and permissions (8), the tag filter, two counts, the
        papers with their workflow columns as subqueries: 13, for 2 papers as for 10."""
        for count in [2, 10]:
            while Paper.objects.count() < count:
                busy_paper(editor, reviewer)
            with django_assert_num_queries(13):
                response = editor_client.get("/admin/papers/paper/")
            assert len(response.context["cl"].result_list) == count


class TestClaimList:
    def test_orphaned_claims_are_marked_and_filtered(self, editor_client, draft):
        orphan, kept = draft.claims.all()
        Claim.objects.filter(pk=orphan.pk).update(orphaned=True)
        response = editor_client.get("/admin/papers/claim/?orphaned=yes")
        assert list(response.context["cl"].result_list) == [orphan]
        response = editor_client.get("/admin/papers/claim/?orphaned=no")
        assert list(response.context["cl"].result_list) == [kept]
        page = editor_client.get(f"/admin/papers/claim/{orphan.pk}/change/").content.decode()
        assert "<strong>Orphaned</strong>" in page


class TestRecords:
    @pytest.mark.parametrize("persona", ["editor", "superuser"])
    def test_events_and_versions_cannot_be_changed_or_deleted(self, request, published, persona):
        """R29."""
        client = login(request.getfixturevalue(persona))
        event, version = Event.objects.exclude(paper=None).get(), Version.objects.get()
        for model, obj in [("event", event), ("version", version)]:
            base = f"/admin/papers/{model}/"
            assert client.get(f"{base}{obj.pk}/change/").status_code == 200  # readable
            assert client.post(f"{base}{obj.pk}/change/", {"note": "x"}).status_code == 403
            assert client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
            assert client.get(f"{base}add/").status_code == 403
            bulk = client.post(base, {"action": "delete_selected", "_selected_action": [obj.pk]})
            assert bulk.status_code in (200, 302)
        assert Event.objects.exclude(paper=None).get().note == event.note
        assert Version.objects.get().note == "First edition."

    @pytest.mark.parametrize("model", ["review", "assessment", "comment"])
    def test_editors_read_reviews_assessments_and_comments(
        self, editor_client, reviewer, in_review, model
    ):
        review = Review.objects.get()
        workflow.assess_claim(review, in_review.claims.first(), by=reviewer, verdict="disputed")
        obj = {
            "review": review,
            "assessment": review.assessments.get(),
            "comment": Comment.objects.get(),
        }[model]
        assert editor_client.get(f"/admin/papers/{model}/").status_code == 200
        assert editor_client.get(f"/admin/papers/{model}/{obj.pk}/change/").status_code == 200
        assert editor_client.get(f"/admin/papers/{model}/add/").status_code == 403
        response = editor_client.post(f"/admin/papers/{model}/{obj.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403


class TestEditLock:
    """R28: editors A and B open the same paper; A saves; B's stale save is refused."""

    def opened(self, client, paper):
        form = client.get(change_url(paper)).context["adminform"].form
        return form["opened_version"].value()

    def form(self, paper, opened, **changes):
        data = paper_form(paper, title=paper.title, slug=paper.slug)
        return {**data, "opened_version": opened, **changes}

    def test_a_stale_save_is_refused_and_keeps_the_input(self, draft, editor, other_editor):
        a, b = login(editor), login(other_editor)
        opened_a, opened_b = self.opened(a, draft), self.opened(b, draft)
        assert opened_a == opened_b == 0
        saved = a.post(change_url(draft), self.form(draft, opened_a, title="Title by A"))
        assert saved.status_code == 302

        stale = self.form(draft, opened_b, title="Title by B", byline="B's byline.")
        response = b.post(change_url(draft), stale)

        assert response.status_code == 200
        html = response.content.decode()
        assert "Someone else saved this paper since you opened it (Eda" in html
        assert "-Title by A" in html and "+Title by B" in html  # what differs
        assert "+B&#x27;s byline." in html
        assert 'value="Title by B"' in html  # B's input is kept
        assert 'value="B&#x27;s byline."' in html
        draft.refresh_from_db()
        assert (draft.title, draft.lock_version) == ("Title by A", 1)
        assert "B's" not in draft.byline

    def test_saving_again_after_the_conflict_replaces_knowingly(self, draft, editor, other_editor):
        a, b = login(editor), login(other_editor)
        opened = self.opened(b, draft)
        a.post(change_url(draft), self.form(draft, self.opened(a, draft), title="Title by A"))
        response = b.post(change_url(draft), self.form(draft, opened, title="Title by B"))
        now = response.context["adminform"].form["opened_version"].value()
        assert now == 1
        assert (
            b.post(change_url(draft), self.form(draft, now, title="Title by B")).status_code == 302
        )
        draft.refresh_from_db()
        assert (draft.title, draft.lock_version) == ("Title by B", 2)

    def test_a_form_without_its_version_is_refused(self, editor_client, draft):
        data = self.form(draft, "", title="No version")
        response = editor_client.post(change_url(draft), data)
        assert "did not say which version" in response.content.decode()
        assert Paper.objects.get().title == draft.title

    def test_a_workflow_action_meanwhile_does_not_refuse_the_save(
        self, draft, editor, other_editor, reviewer
    ):
        a, b = login(editor), login(other_editor)
        opened = self.opened(a, draft)
        b.post(action_url(draft, "assign"), {"reviewer": reviewer.pk})
        b.post(action_url(draft, "submit"))
        response = a.post(change_url(draft), self.form(draft, opened, title="Retitled"))
        assert response.status_code == 302
        draft.refresh_from_db()
        assert (draft.title, draft.stage, draft.round) == ("Retitled", "in_review", 1)

    def test_a_save_never_undoes_a_workflow_change_that_landed_while_it_ran(
        self, monkeypatch, draft, editor, other_editor, reviewer
    ):
        """The change view loads the paper before the form locks it: a submit committed in
        between must survive the save, which writes only the fields its form edits."""
        workflow.assign_reviewer(draft, reviewer, by=other_editor)
        load = PaperAdmin.get_object

        def load_then_submit(admin, request, object_id, from_field=None):
            paper = load(admin, request, object_id, from_field)
            if request.method == "POST":
                workflow.submit_paper(Paper.objects.get(pk=paper.pk), by=other_editor)
            return paper

        client = login(editor)
        opened = self.opened(client, draft)
        monkeypatch.setattr(PaperAdmin, "get_object", load_then_submit)
        response = client.post(change_url(draft), self.form(draft, opened, title="Retitled"))
        assert response.status_code == 302
        draft.refresh_from_db()
        assert (draft.title, draft.stage, draft.round) == ("Retitled", "in_review", 1)

    def test_a_claim_saved_on_its_own_page_makes_the_paper_form_stale(
        self, draft, editor, other_editor
    ):
        a, b = login(editor), login(other_editor)
        opened = self.opened(a, draft)
        claim = draft.claims.first()
        response = b.post(
            f"/admin/papers/claim/{claim.pk}/change/",
            {
                "paper": draft.pk,
                "section": claim.section_id,
                "quote": claim.quote,
                "prefix": "",
                "suffix": "",
                "kind": "historical",
                "note": "",
                "claimsource_set-TOTAL_FORMS": 0,  # the sources' inline, empty
                "claimsource_set-INITIAL_FORMS": 0,
            },
        )
        assert response.status_code == 302
        response = a.post(change_url(draft), self.form(draft, opened))
        assert response.status_code == 200
        assert "Someone else saved this paper" in response.content.decode()
        assert Claim.objects.get(pk=claim.pk).kind == "historical"

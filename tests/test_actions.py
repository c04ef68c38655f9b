"""The editors' workflow actions are defined once (papers/actions.py): the paper's admin page
and the review workspace offer the same ones, for every stage, and refuse the same people."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from papers import actions, workflow
from tests.factories import PaperFactory, SectionFactory, approved

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def offered_on(client, url):
    """The workflow actions a page links or posts to."""
    return set(re.findall(r"/workflow/([a-z-]+)/", client.get(url).content.decode()))


def both_pages(client, paper):
    admin = offered_on(client, f"/admin/papers/paper/{paper.pk}/change/")
    review = offered_on(client, f"/review/{paper.slug}/")
    return admin - {"assign", "unassign"}, review - {"assign", "unassign"}


@pytest.fixture
def paper(editor, reviewer):
    paper = PaperFactory(title="One definition", slug="one-definition")
    SectionFactory(paper=paper, heading="Only", body="The Baltic states joined NATO in 2004.")
    workflow.assign_reviewer(paper, reviewer, by=editor)
    return paper


def test_both_pages_offer_the_same_actions_at_every_stage(paper, editor, other_editor):
    client = client_for(other_editor)
    seen = [both_pages(client, paper)]
    workflow.submit_paper(paper, by=editor)
    seen.append(both_pages(client, paper))
    approved(paper)
    seen.append(both_pages(client, paper))
    workflow.publish_paper(paper, by=other_editor)
    seen.append(both_pages(client, paper))
    assert [admin for admin, _ in seen] == [review for _, review in seen]
    assert [sorted(admin) for admin, _ in seen] == [
        ["submit"],
        ["approve", "request-changes"],
        ["publish", "request-changes"],
        ["correct", "submit", "withdraw"],
    ]


def test_an_editor_without_the_publish_permission_is_offered_no_publishing(paper, editor):
    editor.groups.get().permissions.remove(Permission.objects.get(codename="publish_paper"))
    workflow.submit_paper(paper, by=editor)
    approved(paper)
    admin, review = both_pages(client_for(editor), paper)
    assert admin == review == {"request-changes"}


@pytest.mark.parametrize("name", sorted(actions.ACTIONS))
def test_both_places_refuse_a_reviewer(paper, reviewer, name):
    """403 on the review page they may see; the admin sends non-editors to sign in."""
    client = client_for(reviewer)
    assert client.post(f"/review/{paper.slug}/workflow/{name}/").status_code == 403
    assert client.post(f"/admin/papers/paper/{paper.pk}/workflow/{name}/").status_code == 302
    assert paper.events.count() == 1  # the assignment

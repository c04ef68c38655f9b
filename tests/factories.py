"""factory-boy factories for the models; tests build their personas and papers from these."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client

from papers import permissions
from papers.models import Claim, Paper, Section, Source, Tag
from papers.workflow import content


def role(name):
    """A role's group. Transactional tests empty the database, groups made by migrations
    included, so they are made again when missing."""
    group = Group.objects.filter(name=name).first()
    if group is None:
        permissions.ensure_roles(Group, Permission)
        group = Group.objects.get(name=name)
    return group


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("a long enough test passphrase")


class EditorFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def groups(user, create, extracted, **kwargs):
        user.groups.add(role(permissions.EDITORS))


class ReviewerFactory(UserFactory):
    @factory.post_generation
    def groups(user, create, extracted, **kwargs):
        user.groups.add(role(permissions.REVIEWERS))


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class PaperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Paper

    title = factory.Sequence(lambda n: f"Paper number {n}")
    slug = factory.Sequence(lambda n: f"paper-{n}")
    standfirst = "A short *lede* for the paper."
    byline = "Ana Kask"


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    paper = factory.SubFactory(PaperFactory)
    position = factory.Sequence(int)
    heading = factory.Sequence(lambda n: f"Section {n}")
    body = "NATO forces are present in Estonia. Russia has not attacked a NATO member."


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    title = factory.Sequence(lambda n: f"Source {n}")
    url = "https://www.nato.int/"
    publisher = "NATO"


class ClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Claim

    section = factory.SubFactory(SectionFactory)
    paper = factory.LazyAttribute(lambda claim: claim.section.paper)
    quote = "NATO forces are present in Estonia."
    kind = Claim.Kind.FACTUAL


def approved(paper):
    """Arrange a paper at the approved stage, its content as approved, for tests about what
    comes after review."""
    Paper.objects.filter(pk=paper.pk).update(
        stage=Paper.Stage.APPROVED, approved_fingerprint=content.fingerprint(paper)
    )
    paper.refresh_from_db()
    return paper


def client_for(user):
    """A test client signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client

"""Similar claims across the catalogue (papers.similarity): which published claims of other
papers count as saying nearly the same thing, what is shown of them, which are flagged, and
where editors and reviewers see them."""

import pytest
from django.db import connection
from django.test import Client

from papers import similarity, workflow
from papers.models import Assessment, ClaimSource, Paper
from papers.models.forecasts import Resolution
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, SourceFactory, approved
from tests.test_claims_pages import review_and_publish

pytestmark = pytest.mark.django_db
Verdict = Assessment.Verdict

# (published claim, claim looked up): the same claim reworded, reordered, re-cased, re-accented.
NEAR_DUPLICATES = [
    (
        "If Russia were to confront NATO forces directly, the outcome would be devastating for "
        "Russia.",
        "Were Russia to confront NATO's forces directly, the outcome would be devastating for it.",
    ),
    (
        "This deployment serves as a strong deterrent against Russian aggression.",
        "The deployment is a strong deterrent against Russian aggression.",
    ),
    (
        "Historically, Russia has not dared to attack NATO member countries, even under intense "
        "threats.",
        "Russia has historically never dared to attack a NATO member country, even under intense "
        "threats.",
    ),
    (
        "The Baltic states, Estonia, Latvia, and Lithuania, have a tumultuous past under Soviet "
        "influence.",
        "Estonia, Latvia and Lithuania have a tumultuous past under Soviet rule.",
    ),
    (
        "Estonia, for instance, would never consider leaving NATO due to the assured and imminent "
        "threat of Russian invasion.",
        "Estonia would never consider leaving NATO, given the imminent threat of a Russian "
        "invasion.",
    ),
    (
        "The support of NATO, and the presence of NATO forces, provide a sense of security that "
        "Estonia could not afford to lose.",
        "The presence of NATO forces provides a sense of security Estonia cannot afford to lose.",
    ),
    (
        "Sweden's accession doubled the length of the Alliance's border along the Baltic Sea.",
        "The length of the Alliance's border along the Baltic Sea doubled with Sweden's accession.",
    ),
    ("Klaipėda is Lithuania's only ice-free port.", "KLAIPEDA IS LITHUANIA’S ONLY ICE-FREE PORT."),
]
# The same subject and many of the same words, but another claim.
UNRELATED = [
    (
        "If Russia were to confront NATO forces directly, the outcome would be devastating for "
        "Russia.",
        "Russia has not attacked a NATO member country since the alliance was founded.",
    ),
    (
        "NATO member countries have a significant military presence in these territories.",
        "NATO member countries have a small military presence in Finland.",
    ),
    (
        "The threat of Russian invasion is real and acute.",
        "The threat of a Chinese blockade of Taiwan is real and acute.",
    ),
    (
        "Estonia spends more than two per cent of its GDP on defence.",
        "Latvia spends less than two per cent of its GDP on health.",
    ),
    (
        "This deployment serves as a strong deterrent against Russian aggression.",
        "This deployment provokes rather than deters Russian aggression.",
    ),
    (
        "The Baltic states are unlikely to leave NATO.",
        "Finland is unlikely to leave the European Union.",
    ),
]


def publish(quotes, *, slug, title=None):
    """A paper holding each quote as a claim of its own section, published as v1."""
    paper = PaperFactory(slug=slug, title=title or f"Paper {slug}")
    for n, quote in enumerate(quotes):
        section = SectionFactory(paper=paper, position=n, body=f"Before. {quote} After.")
        ClaimFactory(section=section, quote=quote)
    workflow.publish_paper(approved(paper), by=None)
    paper.refresh_from_db()
    return paper


def draft_with(quote, *, slug="draft"):
    paper = PaperFactory(slug=slug, title="The draft")
    section = SectionFactory(paper=paper, body=f"Before. {quote} After.")
    return paper, ClaimFactory(section=section, quote=quote)


def found(text, paper_id=None):
    return [item.claim.quote for item in similarity.similar_to(text, paper_id=paper_id)]


# --- The threshold --------------------------------------------------------------------------


class TestTheThreshold:
    @pytest.mark.parametrize(("published", "written"), NEAR_DUPLICATES)
    def test_a_near_duplicate_scores_at_least_the_threshold(self, published, written):
        assert similarity.similarity(published, written) >= similarity.THRESHOLD

    @pytest.mark.parametrize(("published", "written"), UNRELATED)
    def test_another_claim_on_the_subject_scores_below_it(self, published, written):
        assert similarity.similarity(published, written) < similarity.THRESHOLD

    def test_the_catalogue_finds_the_near_duplicates_and_nothing_else(self):
        quotes = list(dict.fromkeys(p for p, _ in NEAR_DUPLICATES + UNRELATED))
        publish(quotes, slug="catalogue")
        for published, written in NEAR_DUPLICATES:
            assert found(written) == [published], written
        for published, written in UNRELATED:
            assert published not in found(written), written

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
    def test_postgresql_scores_every_pair_as_the_fallback_does(self):
        with connection.cursor() as cursor:
            for a, b in NEAR_DUPLICATES + UNRELATED:
                cursor.execute("SELECT similarity(papers_fold(%s), papers_fold(%s))", [a, b])
                assert cursor.fetchone()[0] == pytest.approx(similarity.similarity(a, b), abs=1e-6)

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
    def test_postgresql_finds_them_through_the_trigram_index(self):
        publish([NEAR_DUPLICATES[0][0]], slug="catalogue")
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(
                "EXPLAIN SELECT id FROM papers_versionclaim WHERE papers_fold(quote) %% "
                "papers_fold(%s)",
                [NEAR_DUPLICATES[0][1]],
            )
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
        assert "papers_versionclaim_quote_trgm" in plan


# --- What is looked up ----------------------------------------------------------------------


class TestWhatIsLookedUp:
    QUOTE = NEAR_DUPLICATES[1][0]
    WRITTEN = NEAR_DUPLICATES[1][1]

    def test_the_claims_own_paper_is_left_out(self):
        paper = publish([self.QUOTE], slug="own")
        assert found(self.WRITTEN, paper.pk) == []
        assert found(self.WRITTEN) == [self.QUOTE]

    def test_unpublished_and_withdrawn_papers_are_left_out(self, editor):
        draft_with(self.QUOTE, slug="unpublished")
        assert found(self.WRITTEN) == []
        paper = publish([self.QUOTE], slug="withdrawn")
        workflow.withdraw_paper(paper, by=editor, reason="Withdrawn for the test.")
        assert found(self.WRITTEN) == []

    def test_a_claim_is_listed_once_whatever_its_versions(self, editor):
        paper = publish([self.QUOTE], slug="twice")
        workflow.publish_correction(approved(paper), by=editor, note="Nothing changed.")
        [item] = similarity.similar_to(self.WRITTEN)
        assert item.claim.version.number in (1, 2)
        assert not item.flagged

    def test_blank_text_finds_nothing(self):
        publish([self.QUOTE], slug="some")
        assert similarity.similar_to("   ") == []

    def test_at_most_a_few_are_listed_nearest_first(self):
        quotes = [f"{self.QUOTE[:-1]} in {place}." for place in "ABCDEFG"]
        for n, quote in enumerate(quotes):
            publish([quote], slug=f"p{n}")
        listed = similarity.similar_to(self.QUOTE)
        assert len(listed) == similarity.SHOWN
        assert [s.score for s in listed] == sorted((s.score for s in listed), reverse=True)

    def test_many_claims_cost_the_queries_of_one(self, django_assert_num_queries):
        for n, (published, _) in enumerate(NEAR_DUPLICATES):
            publish([published], slug=f"p{n}")
        with django_assert_num_queries(5):
            one = similarity.lookup({0: NEAR_DUPLICATES[0][1]})
        texts = {n: written for n, (_, written) in enumerate(NEAR_DUPLICATES)}
        with django_assert_num_queries(5):
            many = similarity.lookup(texts)
        assert len(one[0]) == 1
        assert all(len(many[n]) == 1 for n in texts)


# --- Kept results ---------------------------------------------------------------------------


def shown(found):
    """What a lookup's answer shows, comparable between lookups."""
    return {
        key: [(s.claim.public_id, s.claim.quote, s.score, s.status, s.reasons) for s in similar]
        for key, similar in found.items()
    }


class TestKeptResults:
    TEXTS = {n: written for n, (_, written) in enumerate(NEAR_DUPLICATES)}

    @pytest.fixture
    def catalogue(self, editor, reviewer):
        for n, (published, _) in enumerate(NEAR_DUPLICATES[1:], start=1):
            publish([published], slug=f"p{n}")
        paper = publish([NEAR_DUPLICATES[0][0]], slug="p0")
        review_and_publish(
            paper, editor=editor, reviewers=[reviewer], verdicts={paper.claims.get(): "disputed"}
        )

    def test_a_repeat_lookup_reads_the_revision_alone_and_finds_the_same(
        self, catalogue, django_assert_num_queries
    ):
        # The public revision, then the five queries of `lookup`.
        with django_assert_num_queries(6):
            first = similarity.similar_to_claims(self.TEXTS)
        with django_assert_num_queries(1):
            again = similarity.similar_to_claims(self.TEXTS)
        assert shown(again) == shown(first) == shown(similarity.lookup(self.TEXTS))
        assert all(len(first[n]) == 1 for n in self.TEXTS)
        assert first[0][0].reasons == ["disputed by a reviewer"]

    def test_only_the_texts_not_kept_are_looked_up(self, catalogue, django_assert_num_queries):
        similarity.similar_to_claims({0: self.TEXTS[0]})
        with django_assert_num_queries(6):
            both = similarity.similar_to_claims({0: self.TEXTS[0], 1: self.TEXTS[1]})
        assert shown(both) == shown(similarity.lookup({0: self.TEXTS[0], 1: self.TEXTS[1]}))

    def test_the_paper_left_out_is_part_of_what_is_kept(self, catalogue):
        own = Paper.objects.get(slug="p1")
        assert found(self.TEXTS[1]) == [NEAR_DUPLICATES[1][0]]
        assert found(self.TEXTS[1], own.pk) == []

    def test_publishing_changes_what_is_found(self, editor):
        assert found(self.TEXTS[2]) == []
        paper = publish([NEAR_DUPLICATES[2][0]], slug="later")
        assert found(self.TEXTS[2]) == [NEAR_DUPLICATES[2][0]]
        workflow.withdraw_paper(paper, by=editor, reason="Withdrawn for the test.")
        assert found(self.TEXTS[2]) == []

    def test_a_resolution_recorded_later_is_flagged(self, editor):
        paper = PaperFactory(slug="forecast")
        quote = NEAR_DUPLICATES[3][0]
        section = SectionFactory(paper=paper, body=f"Before. {quote} After.")
        ClaimFactory(section=section, quote=quote, kind="predictive")
        workflow.publish_paper(approved(paper), by=None)
        [before] = similarity.similar_to(self.TEXTS[3])
        assert not before.flagged
        workflow.resolve_forecast(before.claim, by=editor, outcome="did_not", note="It did not.")
        [after] = similarity.similar_to(self.TEXTS[3])
        assert after.reasons == ["the forecast did not come true"]

    def test_the_cache_holds_no_draft_words(self, disputed_elsewhere, reviewer):
        from django.core.cache import caches

        marker = "LEAK-MARKER-kept"
        draft, claim = disputed_elsewhere
        claim.quote = f"{claim.quote} {marker}"
        claim.save()
        client = Client()
        client.force_login(reviewer)
        assert TestFlags.QUOTE in main_of(client.get(f"/review/{draft.slug}/"))
        kept = dict(caches["similar"]._cache)
        assert kept  # the workspace kept what it found, apart from the default cache's counters
        assert not any(":similar:" in key for key in caches["default"]._cache)
        for key, value in kept.items():
            assert marker not in key and marker.encode() not in value
            assert b"The draft" not in value and TestFlags.QUOTE.encode() in value

    def test_a_cache_that_cannot_be_reached_costs_the_cache_alone(self, catalogue, settings):
        settings.CACHES = {
            **settings.CACHES,
            "similar": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1",
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            },
        }
        assert found(self.TEXTS[1]) == [NEAR_DUPLICATES[1][0]]


# --- What is shown and flagged --------------------------------------------------------------


class TestFlags:
    QUOTE = NEAR_DUPLICATES[0][0]
    WRITTEN = NEAR_DUPLICATES[0][1]

    def test_a_supported_claim_is_listed_with_its_status_unflagged(self, editor, reviewer):
        paper = publish([self.QUOTE], slug="supported")
        review_and_publish(
            paper, editor=editor, reviewers=[reviewer], verdicts={paper.claims.get(): "supported"}
        )
        [item] = similarity.similar_to(self.WRITTEN)
        assert item.status == "supported"
        assert item.reasons == []
        assert similarity.flag([item]) == ""

    def test_a_disputed_claim_is_flagged_with_the_reason(self, editor, reviewer):
        paper = publish([self.QUOTE], slug="disputed")
        review_and_publish(
            paper, editor=editor, reviewers=[reviewer], verdicts={paper.claims.get(): "disputed"}
        )
        [item] = similarity.similar_to(self.WRITTEN)
        assert item.status == "disputed"
        assert item.reasons == ["disputed by a reviewer"]
        assert similarity.flag([item]) == "Resembles a claim elsewhere: disputed by a reviewer"

    def test_a_claim_a_correction_reworded_is_flagged_with_the_correction(self, editor):
        paper = publish([self.QUOTE], slug="reworded")
        claim, section = paper.claims.get(), paper.sections.get()
        section.body = section.body.replace("would be", "would very likely be")
        section.save()
        claim.quote = self.QUOTE.replace("would be", "would very likely be")
        claim.save()
        workflow.publish_correction(approved(paper), by=editor, note="Hedged the forecast.")
        [item] = similarity.similar_to(self.WRITTEN)
        assert item.reasons == ["reworded by a correction in v2"]
        assert item.correction.note == "Hedged the forecast."
        assert item.correction.url == "/papers/reworded/v2/"
        assert not item.removed

    def test_a_claim_a_correction_removed_is_flagged_and_marked_removed(self, editor):
        paper = publish([self.QUOTE, "Another claim stays."], slug="removed")
        paper.claims.get(quote=self.QUOTE).delete()
        workflow.publish_correction(approved(paper), by=editor, note="Dropped the forecast.")
        [item] = similarity.similar_to(self.WRITTEN)
        assert item.removed
        assert item.reasons == ["removed by a correction in v2"]

    def test_a_forecast_that_did_not_come_true_is_flagged(self):
        paper = publish([self.QUOTE], slug="forecast")
        claim = paper.claims.get()
        Resolution.objects.create(
            paper=paper, public_id=claim.public_id, outcome="did_not", note="It did not."
        )
        [item] = similarity.similar_to(self.WRITTEN)
        assert item.outcome.outcome == Resolution.Outcome.DID_NOT
        assert item.reasons == ["the forecast did not come true"]


# --- Where it is shown ----------------------------------------------------------------------


def main_of(response):
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")] if "<main" in html else html


@pytest.fixture
def disputed_elsewhere(editor, reviewer):
    """A published claim a reviewer disputed, and a draft in review whose claim resembles it."""
    paper = publish([TestFlags.QUOTE], slug="elsewhere", title="The earlier paper")
    review_and_publish(
        paper, editor=editor, reviewers=[reviewer], verdicts={paper.claims.get(): "disputed"}
    )
    draft, claim = draft_with(TestFlags.WRITTEN)
    workflow.assign_reviewer(draft, reviewer, by=editor)
    workflow.submit_paper(draft, by=editor)
    return draft, claim


class TestTheWorkspace:
    def test_the_reviewer_sees_the_similar_claim_and_its_flag(self, disputed_elsewhere, reviewer):
        draft, claim = disputed_elsewhere
        client = Client()
        client.force_login(reviewer)
        html = main_of(client.get(f"/review/{draft.slug}/"))
        assert "Resembles a claim elsewhere: disputed by a reviewer" in html
        assert "Similar claims in other papers" in html
        assert TestFlags.QUOTE in html
        assert "The earlier paper" in html
        published = Paper.objects.get(slug="elsewhere").live_version.claims.get()
        assert f'href="/claims/{published.public_id}/"' in html

    def test_a_claim_resembling_nothing_shows_no_list(self, reviewer, editor):
        draft, _ = draft_with("A sentence nobody has published anywhere yet.")
        workflow.assign_reviewer(draft, reviewer, by=editor)
        workflow.submit_paper(draft, by=editor)
        client = Client()
        client.force_login(reviewer)
        html = main_of(client.get(f"/review/{draft.slug}/"))
        assert "Similar claims in other papers" not in html

    def test_its_queries_do_not_grow_with_similar_claims(
        self, disputed_elsewhere, reviewer, django_assert_max_num_queries
    ):
        draft, _ = disputed_elsewhere
        client = Client()
        client.force_login(reviewer)
        with django_assert_max_num_queries(100) as one:
            client.get(f"/review/{draft.slug}/")
        for n, (published, written) in enumerate(NEAR_DUPLICATES[1:]):
            publish([published], slug=f"more-{n}")
            section = SectionFactory(paper=draft, position=n + 1, body=f"Before. {written} After.")
            ClaimFactory(section=section, quote=written)
        with django_assert_max_num_queries(100) as many:
            html = main_of(client.get(f"/review/{draft.slug}/"))
        assert html.count('class="similar-claims__item') == len(NEAR_DUPLICATES)
        assert len(many.captured_queries) == len(one.captured_queries)

    def test_only_published_words_of_other_papers_are_shown(self, disputed_elsewhere, reviewer):
        marker = "LEAK-MARKER-similar"
        elsewhere = Paper.objects.get(slug="elsewhere")
        claim, section = elsewhere.claims.get(), elsewhere.sections.get()
        section.body = section.body.replace("devastating", f"devastating ({marker})")
        section.save()
        claim.quote = claim.quote.replace("devastating", f"devastating ({marker})")
        claim.save()
        draft_with(f"{TestFlags.WRITTEN} {marker}", slug="unpublished")
        draft, _ = disputed_elsewhere
        client = Client()
        client.force_login(reviewer)
        html = main_of(client.get(f"/review/{draft.slug}/"))
        assert TestFlags.QUOTE in html
        assert marker not in html

    def test_a_similar_claims_words_are_escaped(self, editor, reviewer):
        hostile = "<script>alert(1)</script> NATO forces deter Russian aggression in the Baltics."
        publish([hostile], slug="hostile")
        draft, _ = draft_with("<b>NATO</b> forces deter Russian aggression in the Baltics.")
        workflow.assign_reviewer(draft, reviewer, by=editor)
        workflow.submit_paper(draft, by=editor)
        client = Client()
        client.force_login(reviewer)
        html = main_of(client.get(f"/review/{draft.slug}/"))
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; NATO forces" in html


class TestTheEditorsPages:
    def test_the_sections_page_flags_the_claim(self, disputed_elsewhere, editor_client):
        _, claim = disputed_elsewhere
        html = editor_client.get(f"/admin/papers/section/{claim.section_id}/change/")
        html = html.content.decode()
        assert "Resembles a claim elsewhere: disputed by a reviewer" in html
        assert TestFlags.QUOTE in html

    def test_marking_a_claim_answers_with_its_flag(self, editor, editor_client):
        published = publish([TestFlags.QUOTE], slug="elsewhere")
        claim = published.claims.get()
        Resolution.objects.create(
            paper=published, public_id=claim.public_id, outcome="did_not", note="It did not."
        )
        paper = PaperFactory(slug="new")
        section = SectionFactory(paper=paper, body=f"Before. {TestFlags.WRITTEN} After.")
        response = editor_client.post(
            f"/admin/papers/section/{section.pk}/marking/claims/",
            {"quote": TestFlags.WRITTEN, "kind": "predictive"},
        )
        assert response.status_code == 200, response.content
        assert (
            "Resembles a claim elsewhere: the forecast did not come true" in response.json()["html"]
        )

    def test_the_claim_page_lists_them_and_saving_warns(self, disputed_elsewhere, editor_client):
        _, claim = disputed_elsewhere
        url = f"/admin/papers/claim/{claim.pk}/change/"
        html = editor_client.get(url).content.decode()
        assert "Similar claims in other papers" in html
        assert "Flagged: disputed by a reviewer." in html
        page = editor_client.get(url)
        form = page.context["adminform"].form
        data = {
            **{k: v for k, v in form.initial.items() if v is not None and k != "tags"},
            "note": "Checked against the earlier paper.",
            "claimsource_set-TOTAL_FORMS": "0",
            "claimsource_set-INITIAL_FORMS": "0",
        }
        response = editor_client.post(url, data, follow=True)
        assert response.status_code == 200
        messages = [str(m) for m in response.context["messages"]]
        assert any("Resembles a claim elsewhere: disputed by a reviewer" in m for m in messages)


# --- Typed evidence in the marking form -----------------------------------------------------


class TestTypedEvidenceInTheMarkingForm:
    @pytest.fixture
    def section(self, db):
        paper = PaperFactory(slug="typed")
        return SectionFactory(paper=paper, body="Before. NATO forces deter Russia. After.")

    def mark(self, client, section, **extra):
        return client.post(
            f"/admin/papers/section/{section.pk}/marking/claims/",
            {"quote": "NATO forces deter Russia.", "kind": "causal", **extra},
        )

    def test_each_source_is_saved_with_the_use_chosen(self, section, editor_client):
        one, two = SourceFactory(), SourceFactory()
        response = self.mark(
            editor_client,
            section,
            sources=[one.pk, two.pk],
            **{f"use-{one.pk}": "disputes", f"use-{two.pk}": "background"},
        )
        assert response.status_code == 200, response.content
        uses = dict(ClaimSource.objects.values_list("source_id", "use"))
        assert uses == {one.pk: "disputes", two.pk: "background"}

    def test_a_source_without_a_use_supports_the_claim(self, section, editor_client):
        one = SourceFactory()
        assert self.mark(editor_client, section, sources=[one.pk]).status_code == 200
        assert ClaimSource.objects.get().use == "supports"

    def test_an_unknown_use_is_refused_and_nothing_is_saved(self, section, editor_client):
        one = SourceFactory()
        response = self.mark(editor_client, section, sources=[one.pk], **{f"use-{one.pk}": "x"})
        assert response.status_code == 400
        assert "sources" in response.json()["errors"]
        assert not section.claims.exists()

    def test_changing_a_claim_changes_its_uses(self, section, editor_client):
        one = SourceFactory()
        self.mark(editor_client, section, sources=[one.pk])
        claim = section.claims.get()
        response = editor_client.post(
            f"/admin/papers/section/{section.pk}/marking/claims/{claim.pk}/",
            {"kind": "causal", "sources": [one.pk], f"use-{one.pk}": "qualifies"},
        )
        assert response.status_code == 200, response.content
        assert ClaimSource.objects.get().use == "qualifies"

    def test_the_form_is_given_each_sources_use(self, section, editor_client):
        one = SourceFactory()
        self.mark(editor_client, section, sources=[one.pk], **{f"use-{one.pk}": "disputes"})
        page = editor_client.get(f"/admin/papers/section/{section.pk}/change/")
        [data] = page.context["marking"]["data"]
        assert data["sources"][0]["use"] == "disputes"
        html = page.content.decode()
        assert "<template data-use-select>" in html and '<option value="disputes">' in html

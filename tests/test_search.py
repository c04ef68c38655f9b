"""Search at /papers/?q=: what it finds, what it shows, and that no query breaks the page.

The same tests run on SQLite (the word-matching fallback) and on PostgreSQL (full-text search);
the few that depend on one engine's behaviour say so.
"""

import re

import html5lib
import pytest
from django.db import connection
from django.test import Client

from papers import pagecache, rendering, search, search_index, workflow
from tests.factories import PaperFactory, SectionFactory, TagFactory, approved
from tests.xss import violations

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search runs on PostgreSQL"
)
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite fallback")
# The public revision and, on PostgreSQL, one query for the page with its count and snippets;
# elsewhere the count, the page and its snippets.
KEPT_CARDS_QUERIES = 2 if connection.vendor == "postgresql" else 4
# Then, for results whose cards this process does not hold yet, their papers and their tags.
SEARCH_QUERIES = KEPT_CARDS_QUERIES + 2


@pytest.fixture
def client():
    return Client()


def publish(editor, *, title, body="Nothing to see.", standfirst="A lede.", slug=None, tags=()):
    paper = PaperFactory(title=title, standfirst=standfirst, **({"slug": slug} if slug else {}))
    paper.tags.set(tags)
    SectionFactory(paper=paper, heading="Argument", body=body)
    workflow.publish_paper(approved(paper), by=editor)
    paper.refresh_from_db()
    return paper


def found(client, query, **params):
    """Titles of the results, in order."""
    response = client.get("/papers/", {"q": query, **params})
    assert response.status_code == 200
    root = html5lib.parse(response.content, namespaceHTMLElements=False)
    return [
        "".join(h3.itertext()).strip()
        for h3 in root.iter("h3")
        if "paper-card__title" in h3.get("class", "")
    ]


class TestWhatSearchFinds:
    @pytest.mark.parametrize(
        "field",
        [
            {"title": "Klaipėda harbour"},
            {"title": "A paper", "standfirst": "About the harbour of Klaipėda."},
            {"title": "A paper", "body": "Ships call at Klaipėda every day."},
        ],
    )
    def test_it_finds_words_in_titles_standfirsts_and_sections(self, client, editor, field):
        paper = publish(editor, **field)
        publish(editor, title="Unrelated", body="Tallinn and Riga.")
        assert found(client, "Klaipėda") == [paper.title]

    def test_it_finds_the_words_of_claims(self, client, published):
        assert found(client, "decade") == ["Draft on deterrence"]

    def test_every_word_must_match(self, client, editor):
        both = publish(editor, title="Ports", body="Klaipėda and Gdańsk are ports.")
        publish(editor, title="One port", body="Klaipėda is a port.")
        assert found(client, "Klaipėda Gdańsk") == [both.title]

    @pytest.mark.parametrize("query", ["klaipėda", "KLAIPĖDA", "Klaipėda"])
    def test_matching_ignores_case_beyond_ascii(self, client, editor, query):
        publish(editor, title="Harbours", body="Ships call at Klaipėda.")
        assert found(client, query) == ["Harbours"]

    def test_papers_with_the_words_in_their_title_come_first(self, client, editor):
        publish(editor, title="Ports of the Baltic", body="Riga. " * 3 + "Deterrence matters.")
        publish(editor, title="Deterrence", body="A short text.")
        assert found(client, "deterrence") == ["Deterrence", "Ports of the Baltic"]

    def test_drafts_and_newer_draft_text_are_never_found(self, client, draft, published):
        unpublished = PaperFactory(title="Secret deterrence memo")
        SectionFactory(paper=unpublished, body="Deterrence, secretly.")
        section = published.sections.first()
        section.body += " CANARYWORD"
        section.save()
        assert found(client, "deterrence") == ["Draft on deterrence"]
        assert found(client, "CANARYWORD") == []

    def test_withdrawn_papers_leave_search(self, client, published, editor):
        workflow.withdraw_paper(published, by=editor, reason="Retracted.")
        assert found(client, "deterrence") == []

    def test_it_combines_with_the_tag_filter(self, client, editor):
        nato = TagFactory(slug="nato", name="NATO")
        tagged = publish(editor, title="Tagged harbours", body="Klaipėda.", tags=[nato])
        publish(editor, title="Untagged harbours", body="Klaipėda.")
        assert found(client, "Klaipėda", tag="nato") == [tagged.title]
        assert len(found(client, "Klaipėda")) == 2

    def test_an_empty_query_lists_every_paper(self, client, editor):
        publish(editor, title="One")
        publish(editor, title="Two")
        html = client.get("/papers/", {"q": "   "}).content.decode()
        assert html.count('class="paper-card"') == 2
        assert "noindex" not in html


class TestAccents:
    """Issue 12: "klaipeda" finds "Klaipėda". Case and accents count for nothing, both ways."""

    @pytest.mark.parametrize(
        ("written", "typed"),
        [
            ("Klaipėda", "klaipeda"),
            ("Klaipeda", "Klaipėda"),
            ("Gdańsk", "GDANSK"),
            ("Łódź", "lodz"),
            ("São Tomé", "sao tome"),
            ("Šiauliai", "ŠIAULIAI"),
        ],
    )
    def test_accents_and_case_are_ignored(self, client, editor, written, typed):
        publish(editor, title="Harbours", body=f"Ships call at {written} every day.")
        publish(editor, title="Unrelated", body="Tallinn and Riga.")
        assert found(client, typed) == ["Harbours"]

    def test_titles_are_matched_without_accents_too(self, client, editor):
        publish(editor, title="Klaipėda harbour")
        assert found(client, "KLAIPEDA") == ["Klaipėda harbour"]

    def test_the_snippet_marks_the_written_word(self, client, editor):
        publish(editor, title="Harbours", body="Ships call at Klaipėda every day.")
        html = client.get("/papers/", {"q": "klaipeda"}).content.decode()
        assert "<mark>Klaipėda</mark>" in html


FILLER = " ".join(f"Sentence {n} says nothing in particular about the region." for n in range(40))


def long_paper(editor, *, title, needle_section, needle, sections=10, slug=None):
    paper = PaperFactory(title=title, **({"slug": slug} if slug else {}))
    for n in range(sections):
        extra = f" The port of {needle} matters here." if n == needle_section else ""
        SectionFactory(paper=paper, position=n, heading=f"Part {n}", body=FILLER + extra)
    workflow.publish_paper(approved(paper), by=editor)
    paper.refresh_from_db()
    return paper


def snippet(client, query):
    html = client.get("/papers/", {"q": query}).content.decode()
    return re.search(r'<p class="search-snippet">(.*?)</p>', html, re.S).group(1)


class TestSnippets:
    def test_a_snippet_is_cut_around_the_words_deep_in_a_long_paper(self, client, editor):
        long_paper(editor, title="Long", needle_section=8, needle="Klaipėda")
        text = snippet(client, "klaipeda")
        assert "<mark>Klaipėda</mark>" in text
        assert len(re.sub(r"<[^>]+>", "", text)) < 2 * search.SNIPPET_LENGTH

    def test_the_passage_with_every_word_wins(self, client, editor):
        paper = PaperFactory(title="Ports")
        SectionFactory(paper=paper, position=0, body="Klaipėda alone, " + FILLER)
        SectionFactory(paper=paper, position=1, body=FILLER + " Klaipėda and Gdańsk together.")
        workflow.publish_paper(approved(paper), by=editor)
        text = snippet(client, "klaipeda gdansk")
        assert "<mark>Klaipėda</mark> and <mark>Gdańsk</mark>" in text

    def test_a_title_only_match_shows_the_standfirst(self, client, editor):
        publish(editor, title="Deterrence", standfirst="Why forces matter.", body="Other words.")
        assert snippet(client, "deterrence").startswith("Why forces matter.")

    def test_a_new_version_replaces_the_passages(self, client, editor):
        paper = publish(editor, title="Bases", body="Ämari airbase hosts fighters.")
        section = paper.sections.get()
        section.body = "Šiauliai airbase hosts the air policing mission."
        section.save()
        workflow.publish_correction(paper, by=editor, note="New text.")
        assert "<mark>Šiauliai</mark>" in snippet(client, "siauliai")
        assert found(client, "amari") == []

    def test_snippet_queries_do_not_grow_with_long_papers(
        self, client, editor, django_assert_num_queries
    ):
        for n in range(12):
            long_paper(
                editor, title=f"Long {n}", slug=f"long-{n}", needle_section=n % 10, needle="Rīga"
            )
        with django_assert_num_queries(SEARCH_QUERIES):
            html = client.get("/papers/", {"q": "riga"}).content.decode()
        assert html.count("<mark>Rīga</mark>") == 12


class TestPassages:
    def test_passages_are_bounded_and_keep_every_word(self):
        text = FILLER + " " + "x" * (search_index.PASSAGE_CHARS + 50) + " " + FILLER
        passages = search_index.passages(text)
        assert all(len(p) <= search_index.PASSAGE_CHARS for p in passages)
        assert "".join(" ".join(passages).split()) == "".join(text.split())

    def test_they_are_cut_between_sentences(self):
        passages = search_index.passages(FILLER)
        assert len(passages) > 1
        assert all(p.endswith("region.") for p in passages)

    def test_nothing_gives_no_passage(self):
        assert search_index.passages("  ") == []


@on_postgresql
class TestFullTextSearch:
    def test_words_are_stemmed(self, client, editor):
        publish(editor, title="Forces", body="The deterrent forces deter attacks.")
        assert found(client, "deterring force") == ["Forces"]

    def test_websearch_syntax_excludes_and_quotes(self, client, editor):
        publish(editor, title="Both", body="NATO and Russia.")
        publish(editor, title="Only NATO", body="NATO alone.")
        assert found(client, "nato -russia") == ["Only NATO"]
        assert found(client, '"alone nato"') == []
        assert found(client, '"nato alone"') == ["Only NATO"]

    def test_passages_are_found_by_document_through_the_gin_index_alone(self):
        """A result's passage is chosen among its document's matching passages, which the GIN
        index over (document_id, vector) finds alone; the planner reads any btree that leads
        with document_id instead, all of the document's passages (migration 0013)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'papers_searchpassage'"
            )
            leading = [
                definition.split("(", 1)[1].split(",")[0].strip(' )"')
                + (" gin" if "USING gin" in definition else "")
                for (definition,) in cursor.fetchall()
            ]
        assert sorted(leading) == ["document_id gin", "id", "position"]


@on_sqlite
def test_the_fallback_matches_parts_of_words(client, editor):
    publish(editor, title="Deterrence", body="Text.")
    assert found(client, "deter") == ["Deterrence"]


class TestOddQueries:
    """Whatever a reader types, the answer is a page, never an error."""

    @pytest.mark.parametrize(
        "query",
        [
            '"',
            '"unclosed phrase',
            "nato OR",
            "-",
            "- - -",
            "%",
            "_",
            "%_%",
            "\\",
            "\\\\'",
            "'; DROP TABLE papers_paper; --",
            "!!!",
            "()",
            "nato:*",
            "nato & !russia | (x",
            "<script>alert(1)</script>",
            "\tnato\x02\x03",  # a NUL is refused before any view (test_odd_input)
            "Klaipėda Gdańsk Šiauliai",
            "日本語",
            "🙂",
            "the",
            "x" * 501,
            "nato " * 200,
        ],
    )
    def test_it_answers_with_a_page(self, client, published, query):
        response = client.get("/papers/", {"q": query})
        assert response.status_code == 200
        assert violations(response.content.decode(), page=True) == []

    @pytest.mark.parametrize("query", ["%", "_", "\\", "!!!"])
    def test_wildcards_and_punctuation_match_nothing(self, client, published, query):
        assert found(client, query) == []

    def test_a_long_query_is_shortened_with_a_notice(self, client, published):
        html = client.get("/papers/", {"q": "deterrence " + "x" * 600}).content.decode()
        assert "Searches are limited to 500 characters" in html

    def test_the_query_is_shown_escaped(self, client, published):
        html = client.get("/papers/", {"q": '"><script>alert(1)</script>'}).content.decode()
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


class TestResults:
    def test_a_result_shows_title_snippet_date_and_version(self, client, editor):
        paper = publish(editor, title="Harbours", body="Ships call at Klaipėda every day.")
        html = client.get("/papers/", {"q": "klaipėda"}).content.decode()
        assert f'href="{paper.get_absolute_url()}">Harbours</a>' in html
        assert "<mark>Klaipėda</mark>" in html
        assert f'datetime="{paper.live_version.published_at:%Y-%m-%dT%H:%M:%S}' in html
        assert "version 1" in html
        assert "1 paper matches “klaipėda”" in html

    def test_snippet_text_is_escaped_and_only_matches_are_marked(self, client, editor):
        publish(editor, title="Hostile", body="Ports <b>and</b> <script>alert(1)</script> harbour.")
        html = client.get("/papers/", {"q": "harbour"}).content.decode()
        snippet = re.search(r'<p class="search-snippet">(.*?)</p>', html, re.S).group(1)
        # PostgreSQL's headline drops what its parser takes for tags; SQLite's keeps them, escaped.
        assert "alert(1)" in snippet and "<script" not in snippet
        assert re.findall(r"<(\w+)", snippet) == ["mark"]

    def test_the_search_box_keeps_the_query(self, client, published):
        html = client.get("/papers/", {"q": 'deterrence "x"'}).content.decode()
        assert 'name="q" value="deterrence &quot;x&quot;"' in html

    def test_search_results_are_not_indexed_by_search_engines(self, client, published):
        html = client.get("/papers/", {"q": "deterrence"}).content.decode()
        assert '<meta name="robots" content="noindex">' in html

    def test_pages_keep_the_query_and_the_tag(self, client, editor):
        nato = TagFactory(slug="nato", name="NATO")
        for n in range(21):
            publish(editor, title=f"Harbour {n}", slug=f"h-{n}", tags=[nato])
        html = client.get("/papers/", {"q": "harbour", "tag": "nato"}).content.decode()
        assert html.count('class="paper-card search-result"') == 20
        assert 'href="?q=harbour&amp;tag=nato&amp;page=2"' in html
        second = client.get("/papers/", {"q": "harbour", "tag": "nato", "page": 2})
        assert second.content.decode().count('class="paper-card search-result"') == 1
        assert 'href="?q=harbour&amp;tag=nato&amp;page=1"' in second.content.decode()

    def test_queries_do_not_grow_with_results(self, client, editor, django_assert_num_queries):
        nato = TagFactory(slug="nato", name="NATO")
        publish(editor, title="Harbour 0", slug="h-0", tags=[nato])
        with django_assert_num_queries(SEARCH_QUERIES):
            assert len(found(client, "harbour")) == 1
        for n in range(1, 8):
            publish(editor, title=f"Harbour {n}", slug=f"h-{n}", tags=[nato, TagFactory()])
        with django_assert_num_queries(SEARCH_QUERIES):
            assert len(found(client, "harbour")) == 8
        with django_assert_num_queries(KEPT_CARDS_QUERIES):  # another search, the same papers
            assert len(found(client, "HARBOUR")) == 8

    def test_a_page_past_the_last_shows_the_last(self, client, editor):
        for n in range(23):
            publish(editor, title=f"Harbour {n}", slug=f"h-{n}")
        for asked in ("2", "3", "99", "0", "x", "²"):
            html = client.get("/papers/", {"q": "harbour", "page": asked}).content.decode()
            shown = html.count('class="paper-card search-result"')
            assert "23 papers match" in html
            assert (shown, "Page 2 of 2" in html) == (
                (3, True) if asked not in ("x", "²") else (20, False)
            )


class TestCards:
    """Cards are kept per version in memory: what they show must still change when it does."""

    def listed(self, client, **params):
        return client.get("/papers/", params).content.decode()

    @pytest.mark.parametrize("params", [{}, {"q": "harbour"}])
    def test_a_renamed_tag_shows_its_new_name(self, client, editor, params):
        nato = TagFactory(slug="nato", name="NATO")
        publish(editor, title="Harbour", tags=[nato])
        assert ">NATO</a>" in self.listed(client, **params)
        nato.name, nato.slug = "North Atlantic", "north-atlantic"
        nato.save()
        pagecache.public_changed()  # as the tag admin does: the page is rendered again
        html = self.listed(client, **params)
        assert ">North Atlantic</a>" in html and 'href="/tags/north-atlantic/"' in html
        assert ">NATO</a>" not in html

    @pytest.mark.parametrize("params", [{}, {"q": "harbour"}])
    def test_a_new_version_and_a_new_address_show(self, client, editor, params):
        paper = publish(editor, title="Harbour plans", slug="harbour")
        assert "version 1" in self.listed(client, **params)
        paper.title = "Harbour plans, revised"
        paper.save()
        workflow.publish_correction(paper, by=editor, note="A new title.")
        assert "Harbour plans, revised" in self.listed(client, **params)
        paper.refresh_from_db()
        paper.slug = "harbour-plans"
        paper.save()
        pagecache.public_changed()  # as the paper admin does for a published paper's address
        html = self.listed(client, **params)
        assert "Harbour plans, revised" in html and "version 2" in html
        assert 'href="/papers/harbour-plans/"' in html and 'href="/papers/harbour/"' not in html

    def test_the_list_costs_the_same_queries_for_many_papers(
        self, client, editor, django_assert_num_queries
    ):
        # The public revision, the count, the page and its tags.
        publish(editor, title="Paper 0", slug="p-0", tags=[TagFactory()])
        with django_assert_num_queries(4):
            assert self.listed(client).count('class="paper-card"') == 1
        for n in range(1, 8):
            publish(editor, title=f"Paper {n}", slug=f"p-{n}", tags=[TagFactory()])
        with django_assert_num_queries(4):
            assert self.listed(client).count('class="paper-card"') == 8


@pytest.mark.parametrize("url", ["/", "/papers/", "/papers/draft-on-deterrence/", "/tags/nato/"])
def test_the_search_box_is_on_every_page(client, published, url):
    published.live_version.tags.add(TagFactory(slug="nato", name="NATO"))
    root = html5lib.parse(client.get(url).content, namespaceHTMLElements=False)
    (form,) = [form for form in root.iter("form") if form.get("role") == "search"]
    assert (form.get("method"), form.get("action")) == ("get", "/papers/")
    (field,) = form.iter("input")
    labels = [label for label in form.iter("label") if label.get("for") == field.get("id")]
    assert field.get("name") == "q" and labels


class TestQueryCleaning:
    def test_control_characters_and_runs_of_space_go(self):
        assert search.clean_query("  nato\x00\tand\x02 russia \n") == ("nato and russia", "")

    def test_long_queries_are_cut_with_a_notice(self):
        query, notice = search.clean_query("x" * 501)
        assert len(query) == 500 and "500 characters" in notice

    def test_marked_text_becomes_escaped_html_with_its_matches_marked(self):
        marked = "a <b>\x02&b\x03 c\x02d\x03 \x02stray"
        html = rendering.highlighted(marked, search.START, search.STOP)
        assert html == "a &lt;b&gt;<mark>&amp;b</mark> c<mark>d</mark> stray"

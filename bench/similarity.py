#!/usr/bin/env python
"""Similar-claims benchmark: `.venv/bin/python bench/similarity.py` (writes
bench/RESULTS-similarity.md).

How long papers.similarity takes to find the published claims that resemble one claim, on
PostgreSQL, with a catalogue of PAPERS published papers of CLAIMS claims each:

1. starts a throwaway PostgreSQL 15 (bench/servers.py) and migrates it (the trigram index of
   migration 0011 included);
2. publishes the long paper of bench/generated.py through the workflow (600 claims, the
   version and its claims as publishing writes them), then PAPERS - 1 more papers of as many
   claims, their versions and claims bulk-created as publishing would leave them (publishing
   each through the workflow would take most of an hour and measure nothing more). Sentences
   mix generated words with common English ones, so unrelated claims share trigrams as real
   ones do; one claim in NEAR_SHARE repeats a claim of another paper reworded (a word dropped,
   two words swapped, a different case, an accent);
3. looks up LOOKUPS claims drawn from the catalogue (half of them with near-duplicates
   elsewhere) one at a time in the database (`lookup`, the cache left aside), then workspace
   parts of 30 claims at once, and reports p50, p95 and the largest time of each, with the
   plans of one lookup and of a part's;
4. shows other parts as the workspace does (`similar_to_claims`, through Redis as in
   production): the first view of each, when nothing is kept yet, and a repeat view.

Targets: under 50 ms for one claim at p95 (issue 13); the whole workspace page under 150 ms at
p50 (issue 5), of which similar claims should be a small part.
"""

import datetime
import os
import platform
import random
import statistics
import sys
import time

from generated import large_document
from servers import BENCH
from stack import Stack, exit_on_signals

PAPERS, CLAIMS = 50, 600
NEAR_SHARE = 10  # one claim in ten repeats another paper's, reworded
LOOKUPS, PARTS, PART_CLAIMS = 300, 40, 30
TARGET_MS = 50
COMMON = [
    *("the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "with", "as", "by", "it"),
    *("from", "at", "be", "this", "are", "was", "has", "its", "NATO", "Russia", "Baltic"),
    *("defence", "alliance", "states", "forces", "security"),
]
rng = random.Random(20261207)
VOCAB = sorted(
    {
        "".join(rng.choice("abcdefghijklmnoprstuvy") for _ in range(rng.randint(4, 10)))
        for _ in range(3000)
    }
)


def sentence():
    words = [
        rng.choice(COMMON) if rng.random() < 0.45 else rng.choice(VOCAB)
        for _ in range(rng.randint(10, 22))
    ]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def reworded(text):
    words = text[:-1].split()
    if len(words) > 8:
        del words[rng.randrange(1, len(words))]
    i = rng.randrange(1, len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    text = " ".join(words) + "."
    text = text.upper() if rng.random() < 0.3 else text
    return text.replace("a", "ā", 1) if rng.random() < 0.3 else text


def build():
    from django.db import transaction
    from django.utils import timezone

    from papers import importing, workflow
    from papers.models import Paper, Version, VersionClaim

    started = time.monotonic()
    paper = importing.save_document(large_document())
    workflow.publish_paper(paper, by=None)
    quotes = list(VersionClaim.objects.values_list("quote", flat=True))
    print(f"Published the long paper in {time.monotonic() - started:.1f} s", flush=True)
    duplicated = []
    for p in range(1, PAPERS):
        with transaction.atomic():
            paper = Paper.objects.create(title=f"Bench paper {p}", slug=f"bench-similar-{p}")
            version = Version.objects.create(
                paper=paper,
                number=1,
                title=paper.title,
                snapshot={},
                body_html="",
                claim_count=CLAIMS,
                published_at=timezone.now(),
            )
            Paper.objects.filter(pk=paper.pk).update(live_version=version)
            rows = []
            for n in range(CLAIMS):
                if quotes and n % NEAR_SHARE == 0:
                    original = rng.choice(quotes)
                    quote = reworded(original)
                    duplicated.append(original)
                else:
                    quote = sentence()
                rows.append(
                    VersionClaim(
                        version=version,
                        paper=paper,
                        public_id=f"b{p:03d}{n:05d}",
                        number=n + 1,
                        section_anchor=f"section-{n // 10 + 1}",
                        section_heading=f"Section {n // 10 + 1}",
                        quote=quote,
                        kind="factual",
                        status="unchecked",
                        status_label="Not checked by a reviewer",
                    )
                )
            VersionClaim.objects.bulk_create(rows)
            quotes.extend(row.quote for row in rows)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE papers_versionclaim")
    total = VersionClaim.objects.count()
    print(f"{PAPERS} papers, {total:,} claims in {time.monotonic() - started:.1f} s", flush=True)
    return quotes, duplicated


class Cpu:
    """CPU time spent by this process and by its PostgreSQL backend since it was made: on a
    machine shared with other work, the time a lookup takes waits on the other work too, but
    the processor time it uses does not."""

    def __init__(self, connection):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = cursor.fetchone()[0]
        self.start = self._now()

    def _now(self):
        with open(f"/proc/{self.backend}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        return time.process_time() * 1000 + ticks * 1000 / os.sysconf("SC_CLK_TCK")

    def spent(self):
        return self._now() - self.start


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, result


def summary(times):
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, times[-1]


def main():
    exit_on_signals()
    with Stack(redis=True) as stack:
        quotes, duplicated = build()
        from django.db import connection

        from papers import similarity

        texts = rng.sample(duplicated, LOOKUPS // 2) + rng.sample(quotes, LOOKUPS // 2)
        rng.shuffle(texts)
        for text in texts[:20]:  # warm the connection and the caches as a running server has
            similarity.lookup({0: text})
        one, found = [], []
        cpu = Cpu(connection)
        for text in texts:
            ms, result = timed(similarity.lookup, {0: text})
            one.append(ms)
            found.append(len(result[0]))
        cpu_ms = cpu.spent() / len(texts)
        parts = [
            timed(similarity.lookup, dict(enumerate(rng.sample(quotes, PART_CLAIMS))))[0]
            for _ in range(PARTS)
        ]
        views = {"first": [], "repeat": []}
        cpu_views = {"first": 0.0, "repeat": 0.0}
        for _ in range(PARTS):
            part = dict(enumerate(rng.sample(quotes, PART_CLAIMS)))
            for view in views:
                cpu = Cpu(connection)
                views[view].append(timed(similarity.similar_to_claims, part)[0])
                cpu_views[view] += cpu.spent() / PARTS
        with connection.cursor() as cursor:
            plan = explain(cursor, "WHERE papers_fold(quote) %% papers_fold(%s)", [texts[0]])
            part = rng.sample(quotes, PART_CLAIMS)
            part_plan = explain(
                cursor,
                ", unnest(%s::text[]) AS q(text) WHERE papers_fold(quote) %% papers_fold(q.text)",
                [part],
            )
            cursor.execute("SELECT version()")
            pg_version = cursor.fetchone()[0].split(",")[0]
        stack.close_db()
        report(one, found, cpu_ms, parts, views, cpu_views, [plan, part_plan], pg_version)


def explain(cursor, where, params):
    sql = f"EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM papers_versionclaim {where}"
    cursor.execute(sql, params)
    return [row[0] for row in cursor.fetchall()]


def report(one, found, cpu_ms, parts, views, cpu_views, plans, pg_version):
    from papers import similarity

    p50, p95, worst = summary(one)
    part50, part95, part_worst = summary(parts)
    first50, first95, first_worst = summary(views["first"])
    again50, again95, again_worst = summary(views["repeat"])
    verdict = "met" if p95 < TARGET_MS else "NOT met"
    lines = [
        "# Similar claims: lookup times on PostgreSQL",
        "",
        f"Produced by `bench/similarity.py` on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M}"
        " UTC. Re-run it to replace this file.",
        "",
        f"- Machine: `nproc` {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at the end;"
        f" {platform.platform()}; Python "
        f"{sys.version.split()[0]}; {pg_version} (throwaway cluster, default settings)",
        f"- Catalogue: {PAPERS} published papers × {CLAIMS} claims = {PAPERS * CLAIMS:,} claims;"
        f" one in {NEAR_SHARE} repeats another paper's claim reworded",
        f"- Threshold {similarity.THRESHOLD}; a lookup is `papers.similarity.lookup` end to end"
        " (five queries: the trigram match, the rows, their history, corrections, forecast"
        " outcomes), in process; a view is `similar_to_claims` (the public revision, read at"
        " most once a second, and one round trip to Redis, then the lookup of what was not"
        " kept)",
        "",
        "| lookup | runs | p50 | p95 | max | processor time (mean) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| one claim, in the database | {len(one)} | {p50:.1f} ms | {p95:.1f} ms |"
        f" {worst:.1f} ms | {cpu_ms:.1f} ms |",
        f"| a part of {PART_CLAIMS} claims at once, in the database | {len(parts)} |"
        f" {part50:.1f} ms | {part95:.1f} ms | {part_worst:.1f} ms | |",
        f"| a workspace part's first view (nothing kept) | {len(views['first'])} |"
        f" {first50:.1f} ms | {first95:.1f} ms | {first_worst:.1f} ms |"
        f" {cpu_views['first']:.1f} ms |",
        f"| the same part's repeat view (all kept) | {len(views['repeat'])} |"
        f" {again50:.2f} ms | {again95:.2f} ms | {again_worst:.2f} ms |"
        f" {cpu_views['repeat']:.2f} ms |",
        "",
        f"Similar claims found for one claim: {statistics.mean(found):.2f} (mean). Processor"
        " time is this process's and its PostgreSQL backend's (Redis's not included): the"
        " times wait on whatever else the machine runs, processor time does not, and is what"
        " a lookup takes on an idle machine.",
        "",
        f"Target: one claim under {TARGET_MS} ms at p95 — **{verdict}** (at the load above).",
        "",
        "The plan of the trigram match for one claim:",
        "",
        "```",
        *plans[0],
        "```",
        "",
        f"The plan of the trigram match for a part of {PART_CLAIMS} claims:",
        "",
        "```",
        *plans[1],
        "```",
        "",
    ]
    text = "\n".join(lines)
    (BENCH / "RESULTS-similarity.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

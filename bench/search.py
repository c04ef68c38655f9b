#!/usr/bin/env python
"""Search benchmark: `.venv/bin/python bench/search.py` (writes bench/RESULTS-search.md).

What a reader's new search costs on PostgreSQL, against a bare view of the same bytes:

1. starts a throwaway PostgreSQL 15 (bench/servers.py: as the `postgres` user when root, on a
   free 127.0.0.1 port), migrates, and publishes PAPERS papers of SECTIONS sections each
   (about 300 words a section, a few claims each, words drawn from a fixed vocabulary with
   accented place names among them);
2. serves them with gunicorn in production settings (DEBUG off), with a bench-only URLconf that
   adds /bench/bare/ (N bytes from memory, through the same middleware);
3. drives with wrk `/papers/?q=<word>` and `/claims/?q=<word>`, a different word at each
   request and an extra parameter no other request carries (bench/wrk.py), so that no page
   comes from the readers' page cache (each is a search nobody made before), and the bare view
   at the size of a search page;
4. writes requests/s, p50, p99, errors and each search's ratio to the bare view of the same run.

Each search and its bare view are measured in BENCH_ROUNDS rounds, taking turns to go first, and
the ratio is the median of the rounds' ratios. With two CPUs or more, wrk and PostgreSQL run on
the last one and gunicorn's processes on the others (taskset), so that the app server has its
CPUs to itself, as the bare view has: wrk keeps a few per cent of its CPU busy, and PostgreSQL
has a machine or cores of its own in a deployment (docs/deploy.md). A last row measures the
papers' search again with PostgreSQL placed by the kernel, for reference.

Options (environment): BENCH_DURATION (seconds per run, default 5), BENCH_ROUNDS (default 5),
BENCH_CONNECTIONS (default 8), BENCH_WORKERS (gunicorn workers, default 2), BENCH_PIN=0 (no
taskset). Needs `wrk`.
"""

import datetime
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from servers import BENCH, ROOT
from stack import SETTINGS_MODULE, Stack, children, exit_on_signals
from wrk import CPUS, PINNED, SERVER_CPUS, WRK_CPUS, new_addresses, wrk

PAPERS, SECTIONS, PARAGRAPHS, SENTENCES, CLAIMS_PER_SECTION = 50, 10, 4, 5, 2
DURATION = int(os.environ.get("BENCH_DURATION", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
TARGET = 0.2  # issue 12: a new search answers at least 0.2x the bare view's throughput
PLACES = ["Klaipėda", "Gdańsk", "Šiauliai", "Łódź", "Tartu", "Pärnu", "Daugavpils", "Võru"]

rng = random.Random(20261207)
VOCAB = sorted(
    {
        "".join(rng.choice("abcdefghijklmnoprstuvy") for _ in range(rng.randint(4, 10)))
        for _ in range(3000)
    }
)


# The project's URLconf plus /bench/bare/?bytes=N: N bytes from memory through the project's
# middleware, the yardstick each search is measured against.
BARE_URLCONF = """
from django.http import HttpResponse
from django.urls import path

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as _project

PAYLOAD = b"<!doctype html><title>bare</title>" + b"x" * 1_000_000


def bare_view(request):
    size = min(int(request.GET.get("bytes", "50000")), len(PAYLOAD))
    return HttpResponse(PAYLOAD[:size], content_type="text/html; charset=utf-8")


urlpatterns = [path("bench/bare/", bare_view), *_project]
"""


def sentence(n):
    words = [rng.choice(VOCAB) for _ in range(n)]
    if rng.random() < 0.2:
        words[rng.randrange(n)] = rng.choice(PLACES)
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def build():
    from papers import importing, workflow

    started = time.monotonic()
    for p in range(PAPERS):
        sections, claims = [], []
        for s in range(SECTIONS):
            paragraphs = [
                " ".join(sentence(rng.randint(10, 20)) for _ in range(SENTENCES))
                for _ in range(PARAGRAPHS)
            ]
            anchor = f"part-{s + 1}"
            for paragraph in rng.sample(paragraphs, CLAIMS_PER_SECTION):
                claims.append(
                    {"section": anchor, "quote": paragraph.split(". ")[0] + ".", "kind": "factual"}
                )
            sections.append(
                {"heading": f"Part {s + 1}", "anchor": anchor, "body": "\n\n".join(paragraphs)}
            )
        document = {
            "title": f"Paper {p + 1}: {sentence(5)[:-1]}",
            "slug": f"bench-search-{p + 1}",
            "standfirst": sentence(30),
            "authors": ["Bench Author"],
            "sections": sections,
            "claims": claims,
        }
        paper = importing.save_document(document)
        workflow.publish_paper(paper, by=None)
    words = PAPERS * SECTIONS * PARAGRAPHS * SENTENCES * 15
    print(
        f"Published {PAPERS} papers (~{words:,} words) in {time.monotonic() - started:.1f} s",
        flush=True,
    )


def measure(url, *, script=None):
    result, _ = wrk(url, script=script, duration=DURATION, connections=CONNECTIONS)
    errors = result["non2xx"] + sum(result["socket"].values())
    return {**result, "errors": errors}


def pin(pid, cpus):
    """A process and the children it has forked so far onto `cpus`; later ones inherit it."""
    for each in [pid, *children(pid)] if cpus else []:
        subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(each)], capture_output=True)


def rounds(url, bare_url, script):
    """The search and the bare view in ROUNDS rounds, taking turns to go first: the median
    round's figures, with every round's ratio."""
    runs = []
    for n in range(ROUNDS):
        run = {}
        for who in ("bare", "search") if n % 2 == 0 else ("search", "bare"):
            run[who] = measure(bare_url) if who == "bare" else measure(url, script=script)
        run["ratio"] = run["search"]["rps"] / run["bare"]["rps"] if run["bare"]["rps"] else 0.0
        runs.append(run)
    ratios = [run["ratio"] for run in runs]
    middle = min(runs, key=lambda run: abs(run["ratio"] - statistics.median(ratios)))
    errors = sum(run["search"]["errors"] for run in runs)
    return {**middle["search"], "errors": errors}, middle["bare"], ratios


def other_work(seconds=5.0):
    """The share of the machine's CPUs that other work kept busy over `seconds`."""

    def times():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields[:8]), fields[3] + fields[4]

    total, idle = times()
    time.sleep(seconds)
    total2, idle2 = times()
    return 1 - (idle2 - idle) / max(total2 - total, 1)


def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def main():
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    exit_on_signals()
    with Stack() as stack:
        (stack.tmp / "bench_search_urls.py").write_text(BARE_URLCONF)
        (stack.tmp / "bench_search_settings.py").write_text(
            f"from {SETTINGS_MODULE} import *  # noqa: F401,F403\n"
            "ROOT_URLCONF = 'bench_search_urls'\n"
        )
        build()
        # The statistics autovacuum gathers within a minute or so of such a load: without them
        # the planner guesses every table holds a row or two.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        stack.close_db()
        env = {
            "DJANGO_SETTINGS_MODULE": "bench_search_settings",
            "PYTHONPATH": os.pathsep.join(map(str, (stack.tmp, ROOT))),
        }
        server = stack.gunicorn("search", workers=WORKERS, env=env)
        pin(server.process.pid, SERVER_CPUS)
        # PostgreSQL beside wrk (which keeps a few per cent of its CPU busy), not beside gunicorn:
        # left to the kernel, its processes are woken on the CPU of the gunicorn threads that
        # wait for them, and a search paid for the database's work out of the app server's CPU,
        # the one the bare view has to itself. A deployment gives PostgreSQL its own machine or
        # cores (docs/deploy.md).
        postgres = int((stack.pg.data / "postmaster.pid").read_text().split()[0])
        pin(postgres, WRK_CPUS)
        base = server.base

        # Queries: words of the corpus (each in a few to all of the papers), and place names
        # typed without their accents, which must find the accented text.
        words = rng.sample(VOCAB, 400) + [
            p.lower().translate(str.maketrans("ėńšłóźäõ", "enslozao")) for p in PLACES
        ]
        rng.shuffle(words)
        page = get(f"{base}/papers/?q=klaipeda")
        assert b"<mark>Klaip\xc4\x97da</mark>" in page, (
            "an unaccented query must find the accented word"
        )
        sizes = {
            "papers": len(get(f"{base}/papers/?q={words[0]}")),
            "claims": len(get(f"{base}/claims/?q={words[0]}")),
        }
        rows = []
        load = {"before": other_work()}
        for name, path in (("papers", "/papers/"), ("claims", "/claims/")):
            print(f"wrk {path}?q=… and the bare view of {sizes[name]} bytes ...", flush=True)
            result, bare, ratios = rounds(
                base + path,
                f"{base}/bench/bare/?bytes={sizes[name]}",
                new_addresses(path, stack.tmp, words),
            )
            print("  ratios: " + ", ".join(f"{x:.3f}" for x in ratios), flush=True)
            rows.append((name, f"`{path}?q=…`", sizes[name], result, bare, ratios))
        # For reference: the paper list without a search, uncached the same way (a new
        # parameter), against the bare view of its own size: what the page costs without search.
        size = len(get(f"{base}/papers/"))
        print(f"wrk /papers/ without a search and the bare view of {size} bytes ...", flush=True)
        script = new_addresses("/papers/", stack.tmp)
        result, bare, ratios = rounds(base, f"{base}/bench/bare/?bytes={size}", script)
        rows.append(("list", "`/papers/` (no search, reference)", size, result, bare, ratios))
        if PINNED:
            # For reference too: the search with PostgreSQL's processes placed by the kernel, as
            # on one machine that runs both.
            pin(postgres, ",".join(map(str, CPUS)))
            print("wrk /papers/?q=… with PostgreSQL on any CPU ...", flush=True)
            result, bare, ratios = rounds(
                base + "/papers/",
                f"{base}/bench/bare/?bytes={sizes['papers']}",
                new_addresses("/papers/", stack.tmp, words),
            )
            print("  ratios: " + ", ".join(f"{x:.3f}" for x in ratios), flush=True)
            label = "`/papers/?q=…`, PostgreSQL on any CPU (reference)"
            rows.append(("shared", label, sizes["papers"], result, bare, ratios))
        load["after"] = other_work()
        report(rows, len(words), load)


def report(rows, queries, load):
    lines = [
        "# Search benchmark",
        "",
        f"`bench/search.py`, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC: "
        "PostgreSQL 15, "
        f"{PAPERS} published papers of {SECTIONS} sections (about 3,000 words and "
        f"{SECTIONS * CLAIMS_PER_SECTION} claims each), gunicorn with {WORKERS} workers in "
        f"production settings, wrk -t2 -c{CONNECTIONS} -d{DURATION}s in {ROUNDS} rounds (the "
        "bare view and the search taking turns to go first; the median round is shown, each "
        "round's ratio beside it"
        + (
            f"; gunicorn on CPU {SERVER_CPUS}, wrk and PostgreSQL on CPU {WRK_CPUS}"
            if PINNED
            else ""
        )
        + "); each request a new search "
        f"({queries} different words in turn plus a parameter no other request carries, so no "
        "page comes from the readers' page cache). The bare view serves the same number of "
        "bytes from memory through the same middleware, in the same run: the ratio is the "
        "figure to read, as absolute "
        f"numbers move with the machine ({platform.machine()}, {os.cpu_count()} CPUs, shared: "
        f"other work kept {load['before']:.0%} of them busy just before the measurements and "
        f"{load['after']:.0%} just after).",
        "",
        "| search | bytes | req/s | p50 ms | p99 ms | errors | bare req/s | ratio (median) "
        "| each round | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    ok = True
    for name, path, size, result, bare, ratios in rows:
        ratio = statistics.median(ratios)
        passed = ratio >= TARGET and not result["errors"]
        ok &= passed or name != "papers"
        target = f"≥ {TARGET}× {'met' if passed else 'MISSED'}" if name == "papers" else "—"
        lines.append(
            f"| {path} | {size:,} | {result['rps']:.1f} | {result['p50']:.1f} | "
            f"{result['p99']:.1f} | {result['errors']} | {bare['rps']:.1f} | {ratio:.3f}× | "
            f"{', '.join(f'{x:.3f}' for x in ratios)} | {target} |"
        )
    lines += [
        "",
        "How: a page of results is one statement, compiled by the ORM once per process: the "
        "papers matching the stored weighted tsvector, ranked, with the number of all matches as "
        "a window, and for the page's rows only (after the LIMIT) a snippet cut by `ts_headline` "
        "from the best of the paper's matching passages (a sentence or two stored at "
        "publication, at most 320 characters, found through a GIN index over the document and "
        "the vector). Each result's title and date with tags are cards rendered once per version "
        "and public revision (papers/cards.py). Claims match on a GIN expression index over their "
        "text. Both use the `standpoint` text search configuration (English with `unaccent`), so "
        "`klaipeda` finds Klaipėda, which the script checks before measuring.",
        "",
        "Read the reference rows beside the searches: the uncached paper list with no search at "
        "all (what rendering the listing page costs), and the papers' search again with "
        "PostgreSQL's processes placed by the kernel, which wakes them on the app server's CPU "
        "beside the gunicorn threads waiting for them (the database's work then comes out of the "
        "CPU the bare view has to itself).",
        "",
    ]
    text = "\n".join(lines)
    (BENCH / "RESULTS-search.md").write_text(text)
    print(text)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()

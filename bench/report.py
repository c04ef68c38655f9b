"""The report of `bench/run.py`: the tables it prints and bench/RESULTS.md (or
RESULTS-postgresql.md) it writes, with the targets each measurement is held to.

`report()` takes the rows run.py measured and `setup`, the load and database they were measured
with: workers, connections, duration, wrk_threads, comment_posts, slug, database (its
description) and results (the file to write).
"""

import datetime
import platform
import statistics
import subprocess
from pathlib import Path

import desk
import django
import round_two


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = next(
        (
            int(line.split()[1]) / 1024 / 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        0.0,
    )
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[
        0
    ]
    import gunicorn

    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "memory": f"{mem:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": wrk_version.strip(),
    }


def fmt_ms(x):
    return f"{x:.1f} ms" if x < 1000 else f"{x / 1000:.2f} s"


def verdict(ok):
    return "**met**" if ok else "**NOT met**"


def times(result, twin):
    return result["rps"] / twin["rps"] if twin and twin["rps"] else 0.0


def wire_medians(rounds):
    """A page's rounds ({"ours", "bare", "same"} wrk results each) summed up: each round's ratio
    to the bare project (uncompressed size, and same bytes), their medians, and the figures of
    the round whose ratio is the median."""
    ratios = [times(r["ours"], r["bare"]) for r in rounds]
    ratios_same = [times(r["ours"], r["same"]) for r in rounds]
    ratio = statistics.median(ratios)
    middle = min(range(len(rounds)), key=lambda n: abs(ratios[n] - ratio))
    return {
        "rounds": rounds,
        "ratios": ratios,
        "ratio": ratio,
        "ratio_same": statistics.median(ratios_same),
        "result": rounds[middle]["ours"],
        "twin": rounds[middle]["bare"],
        "twin_same": rounds[middle]["same"],
    }


def ratios_text(ratios):
    return ", ".join(f"{x:.2f}" for x in ratios)


def wire_table(wire):
    """Readers' papers in each coding: bytes per response (headers included, as wrk read them),
    requests/s, and the median over the rounds of their ratio to the bare project serving the
    page's uncompressed size and serving the very number of bytes sent."""
    lines = [
        "| page | coding | body bytes | bytes per response | requests/s "
        "| bare, uncompressed size | × bare (median) | × bare, each round "
        "| bare, same bytes | × bare, same bytes (median) | p50 | p99 | errors |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in wire:
        r, twin, same = row["result"], row["twin"], row["twin_same"]
        per_response = r["read"] / r["requests"] if r["requests"] else 0
        errors = sum(run["ours"]["non2xx"] for run in row["rounds"])
        lines.append(
            f"| {row['page']} `{row['path']}` | {row['coding']} | {row['bytes']} "
            f"| {per_response:.0f} | {r['rps']:.1f} | {twin['rps']:.1f} "
            f"| {row['ratio']:.2f} | {ratios_text(row['ratios'])} | {same['rps']:.1f} "
            f"| {row['ratio_same']:.2f} | {fmt_ms(r['p50'])} | {fmt_ms(r['p99'])} | {errors} |"
        )
    return "\n".join(lines)


def wire_conditions(setup):
    """How the pages on the wire were measured: rounds, CPUs, and the machine's other load."""
    pinned = setup["pinned"]
    placement = (
        f"both gunicorns on CPU {pinned[0]} and wrk on CPU {pinned[1]} (`taskset`)"
        if pinned
        else "gunicorns and wrk where the kernel put them"
    )
    load = setup["load"]
    return (
        f"{setup['rounds']} rounds of {setup['duration']} s for each server, alternating which "
        f"goes first; {placement}. Other work kept {load['before']:.0%} of the machine's CPUs "
        f"busy just before these measurements and {load['after']:.0%} just after."
    )


def wire_targets(wire):
    """The issue's targets for pages from the page cache, against the bare project (medians of
    the rounds' ratios)."""
    by = {(row["page"], row["coding"]): row for row in wire}
    targets = []
    for page in ("demo paper", "long paper"):
        plain = by[(page, "identity")]
        ratio = plain["ratio"]
        targets.append((f"{page} ≥ 0.9× bare project, uncompressed", f"{ratio:.2f}×", ratio >= 0.9))
        for coding in ("br", "gzip"):
            row = by[(page, coding)]
            ratio = row["ratio"]
            targets.append(
                (
                    f"{page} with `Accept-Encoding: {coding}` > 1.0× bare project "
                    "(uncompressed size)",
                    f"{ratio:.2f}× ({row['bytes']} bytes instead of {plain['bytes']})",
                    ratio > 1.0,
                )
            )
    return targets


def target_table(targets):
    return "\n".join(
        ["| target | measured | |", "|---|---|---|"]
        + [f"| {t} | {v} | {verdict(ok)} |" for t, v, ok in targets]
    )


def report(rows, wire, timings, after_rss, peak_rss, page_bytes, elapsed, setup):
    m = machine()
    wire_text = wire_table(wire)
    by_name = {row[0]: row for row in rows}
    loaded = by_name["review workspace (editor)"][2]
    single = by_name["review workspace (editor, 1 connection)"][2]
    lines = [
        "| endpoint | requests/s | bare view, same bytes | × bare | p50 | p99 | requests "
        "| errors (non-2xx/3xx) | socket errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, path, r, _, twin in rows:
        socket_errors = ", ".join(f"{k} {v}" for k, v in r["socket"].items() if v) or "0"
        bare = f"{twin['rps']:.1f}" if twin else "—"
        x_bare = f"{times(r, twin):.2f}" if twin and twin["rps"] else "—"
        lines.append(
            f"| {name} `{path}` | {r['rps']:.1f} | {bare} | {x_bare} | {fmt_ms(r['p50'])} | "
            f"{fmt_ms(r['p99'])} | {r['requests']} | {r['non2xx']} | {socket_errors} |"
        )
    table = "\n".join(lines)
    publish_large = max(timings["publish"])
    rss_after = max(after_rss.values(), default=0.0)

    def ratio(key):
        _, _, result, _, twin = by_name[key]
        return times(result, twin)

    targets = [
        *wire_targets(wire),
        ("paper page ≥ 0.8× bare view", f"{ratio('paper page'):.2f}×", ratio("paper page") >= 0.8),
        ("paper list ≥ 0.5× bare view", f"{ratio('paper list'):.2f}×", ratio("paper list") >= 0.5),
        (
            "claims index ≥ 0.5× bare view",
            f"{ratio('claims index'):.2f}×",
            ratio("claims index") >= 0.5,
        ),
        ("search ≥ 0.5× bare view", f"{ratio('search'):.2f}×", ratio("search") >= 0.5),
        (
            "review workspace (large paper) p50 < 150 ms",
            f"{fmt_ms(single['p50'])} at 1 connection; "
            f"{fmt_ms(loaded['p50'])} at {setup['connections']}",
            single["p50"] < 150,
        ),
        round_two.target(by_name[round_two.NAME], fmt_ms),
        *desk.targets(by_name[desk.ADMIN_PAGE], timings, fmt_ms),
        (
            "gunicorn worker RSS after the run < 150 MB",
            f"{', '.join(f'{v:.0f}' for v in sorted(after_rss.values()))} MB after the run "
            f"(highest sampled during it: {max(peak_rss, rss_after):.0f} MB)",
            rss_after < 150,
        ),
        (
            "import of a 1 MB Markdown paper < 2 s",
            f"{timings['import_md'][0]:.2f} s ({timings['import_md'][1] / 1e6:.2f} MB)",
            timings["import_md"][0] < 2,
        ),
        (
            "publishing the large paper < 1 s",
            "slowest of 3: " + ", ".join(f"{x:.2f} s" for x in timings["publish"]),
            publish_large < 1,
        ),
    ]
    targets_text = target_table(targets)
    text = f"""# Standpoint benchmark results

Produced by `bench/run.py` on {m["date"]} in {elapsed:.0f} s. Re-run it to replace this file.

## Machine and versions

- CPU: {m["cpu"]} — `nproc` {m["nproc"]}; memory {m["memory"]}; {m["os"]}
- Python {m["python"]}, Django {m["django"]}, gunicorn {m["gunicorn"]}, {m["wrk"]}
- Database: {setup["database"]}
- gunicorn: `-c gunicorn.conf.py` (gthread), WEB_CONCURRENCY={setup["workers"]},
  GUNICORN_THREADS default (2), max_requests default (10000, with jitter); DJANGO_DEBUG=0,
  SSL redirect and secure cookies off (plain http on 127.0.0.1),
  dummy email backend
- wrk: `-t{setup["wrk_threads"]} -c{setup["connections"]} -d{setup["duration"]}s --latency`
  per endpoint; comment posting `-c4`, stopped after {setup["comment_posts"]} responses per
  wrk thread

## Data

Large paper `{setup["slug"]}`: {timings["sections"]} sections, {timings["words"]} words,
{timings["claims"]} claims, {timings["versions"]} published versions (small section edits and
`anchoring.reanchor_paper` between them), one review round with {timings["comments"]} comments
(50 through `workflow.add_comment`, the rest bulk-created as `Comment` rows for speed; a third of
them replies). Paper page: {page_bytes} bytes. The demo paper (`load_demo`) is measured too.

Before each page, a bare view returns the same number of bytes from memory: a minimal Django
project of its own (`bench/bare.py`: no middleware, no apps, a database never opened) served by a
second gunicorn with the same `gunicorn.conf.py` and WEB_CONCURRENCY, on the same machine at
the same time. "× bare" is then what our stack costs over Django's own minimum.

## Readers' pages on the wire

{wire_text}

{wire_conditions(setup["wire"])}

Each page is asked without `Accept-Encoding` (identity), with `Accept-Encoding: br` and with
`Accept-Encoding: gzip`; a page is compressed in a coding once, when a client first asks for it,
and kept compressed (`papers/compression.py`), and a reader without a session is answered from
the page cache in front of Django's request cycle (`StoredPages` in `papers/fastpath.py`, around
the WSGI application in `config/wsgi.py`), with the security headers the whole stack gave the
page; our pages send 13 headers (about 1 KB) where the bare project sends 2, which gunicorn
checks one by one.
"× bare" compares with the bare project serving the page's uncompressed size (what the
issue's targets are about: the page as a client asking for it gets it); "× bare, same bytes"
with the bare project serving as many bytes as were sent, which isolates the per-request cost.
"bytes per response" is what wrk read divided by the requests it made, headers included.

## Results

{table}

"× bare" is the page's requests/s divided by those of the bare view of the same size, measured
just before it, so it holds on a noisy machine better than the absolute figures. Readers' pages
are rendered once per worker and then served from its memory (`papers/pagecache.py`), which is
what the paper, list, claims, search and diff rows measure: each worker asks the database for
the public revision at most once a second (`STANDPOINT_PAGE_REVISION_MS`), so most of these
requests make no query at all. The row of varied searches asks a different search at each
request, so each is rendered: the cost of a page that nobody has asked for since the last
publication. The review workspace shows the large paper's first part (30 of its 600 claims, with
their threads and forms). Its round-2 row (`bench/round_two.py`) follows the round-1 rows and
comes before the comment posting (which adds some 500 comments to one claim of the first
part): the reviewer's round-1 verdicts on every claim carried into round 2 but three reworded
ones, which are flagged with what changed.

What editors wait for (`bench/desk.py`): the large paper's admin page (its outline of sections
and its one-line claim list) with wrk at one connection, and its size and queries in-process;
and a section of about 1 MB carrying 50 claims saved three times through its admin page (the
whole request through Django's test client in the benchmark's process: the form, the edit
check, one render, the claims re-anchored, the audit event), each save adding a sentence.

Errors are responses other than 2xx/3xx (posting a comment answers 302). Socket "read"
errors are usually connections closed by a worker being recycled (max_requests) and not failed
requests. On SQLite, concurrent comment posts queue for the single write lock: one that waits
longer than SQLite's 5 s busy timeout fails with a 500 (a p99 of ~5 s with a few errors on that
row is this); PostgreSQL does not have that limit, so run with DATABASE_URL for production-like
write figures.

Worker RSS depends on when each worker was last recycled (max_requests, with jitter) and
includes the pages it keeps in memory (at most `STANDPOINT_PAGE_MEMORY_MB`, 16 by default), so
"after the run" varies between runs; the highest value sampled every 0.5 s during the run is
given alongside it.

## Targets

{targets_text}
"""
    results = setup["results"]
    results.write_text(text + kept_sections(results, text + RESULTS_TAIL) + RESULTS_TAIL)
    print()
    print(wire_text)
    print()
    print(table)
    print()
    print(targets_text)
    print(f"\nWrote {results}")


def kept_sections(results, written):
    """The sections other benchmarks added to the file (bench/varnish.py, bench/similarity.py),
    which this report does not write: kept as they are, before "How to run"."""
    if not results.exists():
        return ""
    ours = {line for line in written.splitlines() if line.startswith("## ")}
    kept, keep = [], False
    for line in results.read_text().splitlines(keepends=True):
        if line.startswith("## "):
            keep = line.rstrip("\n") not in ours
        if keep:
            kept.append(line)
    return ("\n" + "".join(kept).rstrip("\n") + "\n") if kept else ""


RESULTS_TAIL = """
## How to run

```sh
apt-get install -y wrk            # Debian/Ubuntu; the script exits 1 if wrk is missing
.venv/bin/python bench/run.py     # ~3 minutes on SQLite; writes bench/RESULTS.md
DATABASE_URL=postgres://user:pass@127.0.0.1/standpoint_bench .venv/bin/python bench/run.py
```

The second writes bench/RESULTS-postgresql.md.

With `DATABASE_URL` the script migrates and writes into that database (use an empty, throwaway
one: it creates users and papers with fixed slugs). Without it, a temporary SQLite file is used
and deleted afterwards. `BENCH_DURATION`, `BENCH_CONNECTIONS`, `BENCH_THREADS` and
`WEB_CONCURRENCY` change the load; `BENCH_WIRE_ROUNDS` and `BENCH_WIRE_DURATION` the rounds of
the pages on the wire, and `BENCH_PIN=0` leaves wrk and the servers where the kernel puts them.
Nothing outside that file and a temporary directory is
written; gunicorn listens on a free port on 127.0.0.1 and is stopped at the end.
"""

#!/usr/bin/env python
"""Claims API benchmark: `.venv/bin/python bench/api.py` (writes bench/RESULTS-api.md).

What a page of the API's claims list costs on PostgreSQL, against a bare view of the same bytes:

1. starts a throwaway PostgreSQL 15 (bench/servers.py), migrates, and publishes the search
   benchmark's 50 papers (10 sections, 20 claims each: bench/search.py) and then the long paper
   (60 sections, 600 claims: bench/generated.py), the newest, so that the first page of claims
   comes from its 600-claim snapshot;
2. serves them with gunicorn in production settings, the throttle set out of the way, with
   search.py's bench-only URLconf (/bench/bare/?bytes=N through the same middleware);
3. drives with wrk `/api/v1/claims/` (the first page: 50 claims of the long paper),
   `/api/v1/claims/?kind=factual&page=N` (a random page of a filtered list at each request), the
   first page again with its ETag in If-None-Match (304s), and the bare view at the page's size;
4. writes requests/s, p50, p99 and errors, and each page's ratio to the bare view of the run.

Options (environment): BENCH_DURATION (seconds per run, default 10), BENCH_CONNECTIONS
(default 8), BENCH_WORKERS (gunicorn workers, default 2). Needs `wrk`.
"""

import datetime
import json
import os
import platform
import shutil
import time
import urllib.request
from pathlib import Path

import search
from generated import large_document
from servers import ROOT
from stack import SETTINGS_MODULE, Stack, exit_on_signals

RESULTS = Path(__file__).resolve().parent / "RESULTS-api.md"


def build():
    from papers import importing, workflow

    search.build()
    started = time.monotonic()
    workflow.publish_paper(importing.save_document(large_document()), by=None)
    print(f"Published the long paper in {time.monotonic() - started:.1f} s", flush=True)


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read(), response.headers


def random_page(tmp, path, pages):
    script = tmp / "api-pages.lua"
    script.write_text(
        "request = function()\n"
        f'  return wrk.format("GET", "{path}&page=" .. math.random(1, {pages}))\n'
        "end\n"
    )
    return script


def main():
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    exit_on_signals()
    with Stack() as stack:
        (stack.tmp / "bench_search_urls.py").write_text(search.BARE_URLCONF)
        (stack.tmp / "bench_api_settings.py").write_text(
            f"from {SETTINGS_MODULE} import *  # noqa: F401,F403\n"
            "ROOT_URLCONF = 'bench_search_urls'\n"
        )
        build()
        stack.close_db()
        env = {
            "DJANGO_SETTINGS_MODULE": "bench_api_settings",
            "PYTHONPATH": os.pathsep.join(map(str, (stack.tmp, ROOT))),
            "STANDPOINT_API_RATE": "100000000/s",  # measured here: the server, not the throttle
        }
        server = stack.gunicorn("api", workers=search.WORKERS, env=env)
        base = server.base

        first, headers = fetch(f"{base}/api/v1/claims/")
        listed = json.loads(first)
        assert len(listed["results"]) == 50, "the first page holds 50 claims"
        filtered = json.loads(fetch(f"{base}/api/v1/claims/?kind=factual")[0])
        etag = stack.tmp / "api-etag.lua"
        etag.write_text(f'wrk.headers["If-None-Match"] = {json.dumps(headers["ETag"])}\n')
        rows = []
        cases = [
            ("first page (long paper)", "/api/v1/claims/", len(first), None),
            (
                f"`?kind=factual`, a random page of {filtered['pages']}",
                "/api/v1/claims/?kind=factual",
                len(fetch(f"{base}/api/v1/claims/?kind=factual&page=2")[0]),
                random_page(stack.tmp, "/api/v1/claims/?kind=factual", filtered["pages"]),
            ),
            ("first page, If-None-Match (304)", "/api/v1/claims/", 0, etag),
        ]
        for name, path, size, script in cases:
            print(f"wrk {path} ({name}) and the bare view of {size} bytes ...", flush=True)
            bare = search.wrk(f"{base}/bench/bare/?bytes={size}")
            result = search.wrk(base + path, script=script)
            rows.append((name, path, size, result, bare))
        report(rows, listed["count"])


def report(rows, claims):
    lines = [
        "# Claims API benchmark",
        "",
        f"`bench/api.py`, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC: PostgreSQL 15, "
        f"{claims} published claims ({search.PAPERS} papers of 20 claims and the long paper of "
        f"600, the newest), gunicorn with {search.WORKERS} workers in production settings, wrk "
        f"-t2 -c{search.CONNECTIONS} -d{search.DURATION}s. Pages of 50 claims; the API has no "
        "page cache, so every request reads the database and the snapshots' claims. The bare "
        "view serves the same number of bytes from memory through the same middleware, in the "
        f"same run ({platform.machine()}, {os.cpu_count()} CPUs, shared).",
        "",
        "| request | bytes | requests/s | p50 | p99 | errors | bare view, same bytes | × bare |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, path, size, result, bare in rows:
        ratio = result["rps"] / bare["rps"] if bare["rps"] else 0.0
        lines.append(
            f"| `{path}` {name} | {size} | {result['rps']:.1f} | {result['p50']:.1f} ms | "
            f"{result['p99']:.1f} ms | {result['errors']} | {bare['rps']:.1f} | {ratio:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

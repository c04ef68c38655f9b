#!/usr/bin/env python
"""Lighthouse on the readers' pages as production serves them: `.venv/bin/python
bench/lighthouse.py` (writes bench/RESULTS-lighthouse.md).

1. builds, in a temporary SQLite database, the demo (load_demo) and bench/run.py's long paper
   (60 sections, ~30,000 words, 600 claims: its `large_document()`), published;
2. collects static files into a temporary STATIC_ROOT and starts gunicorn -c gunicorn.conf.py
   with production settings (DEBUG off, WhiteNoise serving the static files) on a free
   127.0.0.1 port, as bench/run.py does;
3. runs Lighthouse (.ci/node_modules, `npm ci --prefix .ci`) with its default mobile profile and
   throttling (simulated slow 4G, 4x CPU slowdown), every category, LIGHTHOUSE_RUNS times per
   page (default 3), in the system chromium (CHROME_PATH, default /usr/bin/chromium);
4. writes each page's median run: the category scores, the metrics and the page weight by
   resource type.

Scores depend on the machine: Lighthouse's simulation scales with the CPU it measures on, and a
machine busy with other work scores lower. Compare runs from one machine.
Everything goes to 127.0.0.1 only; the temporary directory is removed at the end.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

# bench/run.py sets Django up (its settings, database and STATIC_ROOT in a temporary directory).
import run
from generated import large_document

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CLI = ROOT / ".ci" / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
RUNS = int(os.environ.get("LIGHTHOUSE_RUNS", "3"))
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
    "--disable-component-update --disable-sync"
)
PAGES = [("Demo paper", "/papers/baltic-states-nato/"), ("Long paper", f"/papers/{run.SLUG}/")]
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
METRICS = [
    ("first-contentful-paint", "FCP"),
    ("largest-contentful-paint", "LCP"),
    ("total-blocking-time", "TBT"),
    ("cumulative-layout-shift", "CLS"),
    ("speed-index", "Speed Index"),
]
OUT = BENCH / "RESULTS-lighthouse.md"


def build():
    # Imported here, once run.py has set Django up.
    from papers import importing, workflow

    run.call_command("migrate", verbosity=0)
    run.call_command("load_demo", "--force", verbosity=0)
    paper = importing.save_document(large_document())
    workflow.publish_paper(paper, by=None)
    run.call_command("collectstatic", interactive=False, verbosity=0)
    # Work that publishing started in the background (typesetting the PDFs) ends before the
    # measurement, instead of sharing the CPU with it.
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    print(f"Built the demo and {paper.sections.count()} sections of the long paper", flush=True)


@contextlib.contextmanager
def gunicorn(env, log):
    """gunicorn -c gunicorn.conf.py config.wsgi in its own process group, once it answers
    /healthz; stopped on leaving."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = "http://" + env["GUNICORN_BIND"]
    try:
        for _ in range(120):  # at most 30 s to come up
            try:
                if run.get(base + "/healthz")[0] == 200:
                    break
            except OSError:  # not listening yet (urllib's URLError is an OSError)
                time.sleep(0.25)
        else:
            raise SystemExit("gunicorn did not answer /healthz within 30 s")
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=35)


def lighthouse(url, path):
    """One Lighthouse run of `url`, its report written to `path` and returned; None when the run
    failed (on a busy machine a long page can outlast Lighthouse's protocol timeouts)."""
    result = subprocess.run(
        [
            "node",
            str(CLI),
            url,
            "--output=json",
            f"--output-path={path}",
            "--quiet",
            f"--chrome-flags={CHROME_FLAGS}",
        ],
        timeout=600,
        env={**os.environ, "CHROME_PATH": CHROME},
    )
    if result.returncode != 0 or not path.is_file():
        print(f"A Lighthouse run of {url} failed (exit {result.returncode})", flush=True)
        return None
    return json.loads(path.read_text())


def weights(report):
    """Bytes transferred by resource type, from the resource-summary audit."""
    items = report["audits"]["resource-summary"]["details"]["items"]
    return {item["resourceType"]: (item["transferSize"], item["requestCount"]) for item in items}


def summary(reports, attempts):
    """The run with the median performance score, as a row of the results."""
    ordered = sorted(reports, key=lambda r: r["categories"]["performance"]["score"] or 0)
    median = ordered[len(ordered) // 2]
    return {
        "scores": {c: round(median["categories"][c]["score"] * 100) for c in CATEGORIES},
        "failed_runs": attempts - len(reports),
        "performance_runs": [
            round((r["categories"]["performance"]["score"] or 0) * 100) for r in reports
        ],
        "metrics": {label: median["audits"][key]["displayValue"] for key, label in METRICS},
        "weights": weights(median),
        "lighthouse": median["lighthouseVersion"],
        "chrome": median["environment"]["hostUserAgent"],
        "benchmark_index": median["environment"].get("benchmarkIndex"),
        "opportunities": [
            f"{audit['title']} (~{audit['details']['overallSavingsMs']:.0f} ms)"
            for audit in median["audits"].values()
            if (audit.get("details") or {}).get("overallSavingsMs", 0) >= 50
        ],
        "failing": [
            median["audits"][ref["id"]]["title"]
            for c in CATEGORIES
            for ref in median["categories"][c]["auditRefs"]
            if c != "performance"
            and ref["weight"]
            and median["audits"][ref["id"]]["score"] is not None
            and median["audits"][ref["id"]]["score"] < 1
        ],
    }


def kib(size):
    return f"{size / 1024:.1f} KiB"


def write(results, failed, started):
    first = next(iter(results.values()))
    lines = [
        "# Lighthouse: the readers' pages under gunicorn with production settings",
        "",
        f"`bench/lighthouse.py`, {time.strftime('%Y-%m-%d', time.gmtime(started))}: Lighthouse "
        f"{first['lighthouse']}, mobile profile with its default simulated throttling, "
        f"median of {RUNS} runs per page by performance score, SQLite, gunicorn "
        f"({run.WORKERS} workers), static files through WhiteNoise. Lighthouse's CPU benchmark "
        f"index on this machine: {first['benchmark_index']} (it estimates the CPU's speed; a "
        "busy machine measures lower and its performance scores drop with it).",
        "",
        "| page | performance (runs) | accessibility | best practices | SEO |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, row in results.items():
        s = row["scores"]
        runs = ", ".join(map(str, row["performance_runs"]))
        if row["failed_runs"]:
            runs += f"; {row['failed_runs']} run(s) failed"
        lines.append(
            f"| {name} | {s['performance']} ({runs}) | {s['accessibility']} | "
            f"{s['best-practices']} | {s['seo']} |"
        )
    lines += ["", "| page | " + " | ".join(label for _, label in METRICS) + " |"]
    lines.append("| --- |" + " --- |" * len(METRICS))
    for name, row in results.items():
        lines.append(f"| {name} | " + " | ".join(row["metrics"].values()) + " |")
    lines += ["", "Page weight, transferred (requests):", ""]
    types = ["total", "document", "stylesheet", "script", "image", "font", "other"]
    lines.append("| page | " + " | ".join(types) + " |")
    lines.append("| --- |" + " --- |" * len(types))
    for name, row in results.items():
        cells = []
        for kind in types:
            size, count = row["weights"].get(kind, (0, 0))
            cells.append(f"{kib(size)} ({count})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if failed:
        lines += [
            "",
            f"Every run failed (Lighthouse's protocol timeouts) for: {', '.join(failed)}.",
        ]
    found = {name: row["opportunities"] for name, row in results.items() if row["opportunities"]}
    if found:
        lines += ["", "Lighthouse's opportunities (estimated savings of 50 ms or more):", ""]
        lines += [f"- {name}: {'; '.join(titles)}" for name, titles in found.items()]
    failing = {name: row["failing"] for name, row in results.items() if row["failing"]}
    if failing:
        lines += ["", "Audits short of full marks outside performance:", ""]
        lines += [f"- {name}: {', '.join(titles)}" for name, titles in failing.items()]
    lines.append("")
    OUT.write_text("\n".join(lines))


def main():
    if not CLI.is_file():
        raise SystemExit(f"No Lighthouse at {CLI}: npm ci --prefix .ci")
    started = time.time()
    build()
    run.connection.close()
    port = run.free_port()
    env = {
        **run.ENV,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        # Canonical links to the server measured, as in production to the site itself.
        "STANDPOINT_SITE_URL": f"http://127.0.0.1:{port}",
    }
    results, failed = {}, []
    with open(run.TMP / "gunicorn.log", "w") as log, gunicorn(env, log) as base:
        for name, path in PAGES:
            run.get(base + path)  # rendered once: Lighthouse measures the warm page
            reports, attempts = [], 0
            while len(reports) < RUNS and attempts < 2 * RUNS:  # a failed run is tried again
                report = lighthouse(base + path, run.TMP / f"{name}-{attempts}.json")
                reports += [report] if report is not None else []
                attempts += 1
            if not reports:
                failed.append(name)
                continue
            results[name] = summary(reports, attempts)
            print(f"{name}: {results[name]['scores']}", flush=True)
    if not results:
        raise SystemExit("Every Lighthouse run failed")
    write(results, failed, started)
    print(f"Wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(run.TMP, ignore_errors=True)
        sys.stdout.flush()

#!/usr/bin/env python
"""Standpoint load benchmark: `.venv/bin/python bench/run.py` (see bench/RESULTS.md, and
bench/RESULTS-postgresql.md for a run with DATABASE_URL).

1. builds a large paper (60 sections, ~30,000 words, 600 claims, 3 versions, a review round with
   3,000 comments) in a temporary SQLite database, or in DATABASE_URL if that is set;
   times importing a generated ~1 MB Markdown paper and publishing the large paper;
2. collects static files into a temporary STATIC_ROOT;
3. starts gunicorn -c gunicorn.conf.py with production settings on a free 127.0.0.1 port, and
   beside it the bare project (bench/bare.py: a minimal Django project, no middleware) with the
   same gunicorn settings, which answers any number of bytes from memory;
4. drives each endpoint with wrk (`apt-get install -y wrk`), and reports requests/s, p50, p99 and
   errors, and each page's ratio to the bare project serving the same bytes in the same run; the
   demo paper and the long paper also with `Accept-Encoding: br` and `gzip`, with the bytes each
   response took on the wire;
5. reads the gunicorn workers' RSS from /proc;
6. prints the tables and writes bench/RESULTS.md (bench/RESULTS-postgresql.md on PostgreSQL)
   through bench/report.py.

Options (environment): BENCH_DURATION (seconds per endpoint, default 10), BENCH_CONNECTIONS
(default 16), BENCH_THREADS (wrk threads, default 2), WEB_CONCURRENCY (default 4).
BENCH_ONLY=wire runs only the readers' pages on the wire (the demo and the long paper in each
coding), BENCH_ONLY=workspace-round-2 only the measurement of bench/round_two.py (the review
workspace in round 2, after the others in a full run); each prints its figures without writing
RESULTS.md.
Everything goes to 127.0.0.1 only; the temporary directory is removed at the end.
"""

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import dataset
import desk
import report
import round_two
from generated import SLUG, sentence
from host import RssSampler, other_work, rss_mb, worker_pids
from stack import production_env
from wire import WIRE_DURATION, WIRE_ROUNDS, measure_wire
from wrk import (
    CONNECTIONS,
    DURATION,
    PINNED,
    SERVER_CPUS,
    WRK_CPUS,
    WRK_THREADS,
    new_addresses,
    pinned,
    wrk,
)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORKERS = os.environ.get("WEB_CONCURRENCY", "4")
COMMENT_POSTS_PER_THREAD = 250  # the comment-posting run stops after this many per wrk thread
ONLY = os.environ.get("BENCH_ONLY", "")

if not shutil.which("wrk"):
    print("wrk is not installed. Install it with:  apt-get install -y wrk", file=sys.stderr)
    sys.exit(1)

TMP = Path(tempfile.mkdtemp(prefix="standpoint-bench-"))
(TMP / "bench_settings.py").write_text(
    f"from config.settings import *  # noqa: F401,F403\nSTATIC_ROOT = {str(TMP / 'static')!r}\n"
)
DB_FROM_ENV = "DATABASE_URL" in os.environ
DB_USED = os.environ.get("DATABASE_URL") or f"sqlite:///{TMP / 'bench.sqlite3'}"
DB_LABEL = (
    "PostgreSQL (DATABASE_URL)"
    if DB_USED.startswith("postgres")
    else ("SQLite (temporary file; default run)" if not DB_FROM_ENV else DB_USED.split(":")[0])
)
ENV = {
    **production_env(
        pythonpath=[TMP, BENCH, ROOT], settings_module="bench_settings", database_url=DB_USED
    ),
    "WEB_CONCURRENCY": WORKERS,
}
os.environ.update(ENV)
sys.path[:0] = [str(TMP), str(BENCH), str(ROOT)]
sys.dont_write_bytecode = True

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from papers.models import Comment  # noqa: E402


def login_cookie(user):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return settings.SESSION_COOKIE_NAME, session.session_key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, cookie=None, headers=None):
    """(status, body) of a GET; the body as sent (urllib decompresses nothing)."""
    headers = {**({"Cookie": cookie} if cookie else {}), **(headers or {})}
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def start_gunicorn(app, env, log):
    """gunicorn -c gunicorn.conf.py <app> in its own process group, answering /healthz."""
    server = subprocess.Popen(
        pinned(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), app],
            SERVER_CPUS,
        ),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = "http://" + env["GUNICORN_BIND"]
    for _ in range(120):  # at most 30 s for the server to come up
        try:
            if get(base + "/healthz")[0] == 200:
                return server, base
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.25)
    stop_gunicorn(server)
    raise SystemExit(f"gunicorn {app} did not answer /healthz within 30 s; see {TMP}")


def stop_gunicorn(server):
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=35)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def main():
    started = time.time()
    paper, editor, first_claim, timings = dataset.build(TMP, DB_USED)
    call_command("collectstatic", interactive=False, verbosity=0)
    # Editors' pages render admin templates, which need the collected static files.
    section = desk.megabyte_section(sentence)
    timings["section_save"] = desk.time_section_saves(editor, section)
    saves = timings["section_save"]
    print(
        f"Saved a {saves['chars'] / 1e6:.2f} MB section with {saves['claims']} claims through its "
        "admin page in " + ", ".join(f"{x:.2f} s" for x in saves["seconds"]),
        flush=True,
    )
    timings["admin_page"] = desk.admin_page(editor, paper)
    page = timings["admin_page"]
    print(
        f"The large paper's admin page: {page['bytes']} bytes, {page['queries']} queries",
        flush=True,
    )
    cookie_name, session_key = login_cookie(editor)
    csrf = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret, as the cookie holds
    # The size of the paper page, for the bare view (its workers read it at start-up).
    from django.test import Client

    page_bytes = len(Client(HTTP_HOST="127.0.0.1").get(f"/papers/{SLUG}/").content)
    connection.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**ENV, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    # The yardstick: bench/bare.py as a project of its own, with the same gunicorn settings.
    bare_env = {
        **ENV,
        "DJANGO_SETTINGS_MODULE": "bare",
        "PYTHONPATH": str(BENCH),
        "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
    }
    log = open(TMP / "gunicorn.log", "w")  # noqa: SIM115 (gunicorn writes to it; closed in finally)
    rows, sampler, servers = [], None, []
    try:
        server, base = start_gunicorn("config.wsgi", env, log)
        servers.append(server)
        bare_server, bare = start_gunicorn("bare:application", bare_env, log)
        servers.append(bare_server)
        sampler = RssSampler(server.pid)
        sampler.start()

        served = len(get(f"{base}/papers/{SLUG}/")[1])
        if served != page_bytes:
            print(f"  note: paper page is {served} bytes over http, {page_bytes} in-process")
        auth = f"Cookie: {cookie_name}={session_key}"
        if ONLY == "workspace-round-2":
            row = round_two.measure(
                paper, editor, base=base, get=get, wrk=wrk, login_cookie=login_cookie
            )
            print(
                f"{row[0]}: p50 {report.fmt_ms(row[2]['p50'])}, p99 {report.fmt_ms(row[2]['p99'])}"
            )
            return
        load = {"before": other_work()}
        wire = measure_wire(base, bare, get=get, wrk=wrk)
        load["after"] = other_work()
        wire_setup = {
            "rounds": WIRE_ROUNDS,
            "duration": WIRE_DURATION,
            "pinned": (SERVER_CPUS, WRK_CPUS) if PINNED else None,
            "load": load,
        }
        if ONLY == "wire":
            print(report.wire_table(wire))
            print(report.wire_conditions(wire_setup))
            print(report.target_table(report.wire_targets(wire)))
            return
        word = paper.sections.order_by("position").first().body.split()[3].strip(".")
        claim_id = first_claim.public_id
        endpoints = [
            ("paper page", f"/papers/{SLUG}/", []),
            ("paper list", "/papers/", []),
            ("claims index", "/claims/", []),
            ("search", f"/papers/?q={word}", []),
            ("diff page (v1→v3)", f"/papers/{SLUG}/diff/1/3/", []),
            ("review workspace (editor)", f"/review/{SLUG}/", [auth]),
        ]
        sizes = {}
        for name, path, headers in endpoints:
            status, body = get(base + path, headers[0].split(": ", 1)[1] if headers else None)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
            sizes[name] = len(body)
            print(f"  {name}: {path} ({len(body)} bytes)", flush=True)

        lua = TMP / "comment.lua"
        lua.write_text(
            'wrk.method = "POST"\n'
            f'wrk.headers["Cookie"] = "{cookie_name}={session_key}; csrftoken={csrf}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            f'wrk.body = "csrfmiddlewaretoken={csrf}&body=A+benchmark+comment+on+this+claim."\n'
            "local count = 0\n"
            "function response(status, headers, body)\n"
            "  count = count + 1\n"
            f"  if count >= {COMMENT_POSTS_PER_THREAD} then wrk.thread:stop() end\n"
            "end\n"
        )
        before = Comment.objects.count()
        connection.close()
        for name, path, headers in endpoints:
            # The bare view with this page's size, just before it: the pair shares the machine's
            # state of the moment, which is what makes their ratio hold on a noisy machine.
            print(f"wrk {name}, and the bare view of {sizes[name]} bytes ...", flush=True)
            twin, _ = wrk(f"{bare}/?bytes={sizes[name]}")
            result, raw = wrk(base + path, headers=headers)
            rows.append((name, path, result, raw, twin))
        # The workspace again with one connection: its latency without queueing behind others.
        time.sleep(5)  # let the workers finish requests wrk gave up on
        print("wrk review workspace, one connection ...", flush=True)
        result, raw = wrk(base + f"/review/{SLUG}/", headers=[auth], connections=1)
        rows.append(
            ("review workspace (editor, 1 connection)", f"/review/{SLUG}/", result, raw, None)
        )
        print("wrk the paper's admin page, one connection ...", flush=True)
        admin_path = timings["admin_page"]["url"]
        result, raw = wrk(base + admin_path, headers=[auth], connections=1)
        rows.append((desk.ADMIN_PAGE, admin_path, result, raw, None))
        # After every round-1 page, as it moves the large paper on to round 2, and before the
        # comment posting below piles some 500 comments onto one claim of the workspace's first
        # part: the round-2 workspace of the paper with its 3,000 comments.
        rows.append(
            round_two.measure(paper, editor, base=base, get=get, wrk=wrk, login_cookie=login_cookie)
        )
        before = Comment.objects.count()
        connection.close()
        print("wrk posting a comment ...", flush=True)
        result, raw = wrk(
            base + f"/review/{SLUG}/claims/{claim_id}/comment/", script=lua, connections=4
        )
        posted = Comment.objects.count() - before
        connection.close()
        rows.append(
            (
                f"post a comment ({posted} created)",
                f"/review/{SLUG}/claims/{claim_id}/comment/",
                result,
                raw,
                None,
            )
        )
        # Search again, a different word at each request: what a search costs when its page has
        # not been rendered yet (the runs above repeat one address, served from memory).
        words = sorted(
            {w.strip(".,").lower() for s in paper.sections.all() for w in s.body.split()}
            - {"the", "and"}
        )
        connection.close()
        random.Random(7).shuffle(words)
        words = [word for word in words if word.isalpha()]
        varied = new_addresses("/papers/", TMP, words)
        print("wrk search, a different query each time ...", flush=True)
        twin, _ = wrk(f"{bare}/?bytes={sizes['search']}")
        result, raw = wrk(base + "/papers/", script=varied)
        rows.append((f"search, {len(words)} different words", "/papers/?q=…", result, raw, twin))
        time.sleep(1)
        after_rss = {pid: rss_mb(pid) for pid in worker_pids(server.pid)}
        sampler.stop.set()
        setup = {
            "workers": WORKERS,
            "connections": CONNECTIONS,
            "duration": DURATION,
            "wrk_threads": WRK_THREADS,
            "comment_posts": COMMENT_POSTS_PER_THREAD,
            "slug": SLUG,
            "database": DB_LABEL,
            "wire": wire_setup,
            "results": BENCH
            / ("RESULTS-postgresql.md" if DB_USED.startswith("postgres") else "RESULTS.md"),
        }
        report.report(
            rows, wire, timings, after_rss, sampler.peak, page_bytes, time.time() - started, setup
        )
    finally:
        if sampler:
            sampler.stop.set()
        for started_server in servers:
            stop_gunicorn(started_server)
        log.close()
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()

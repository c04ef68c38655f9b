#!/usr/bin/env python
"""Varnish in front of two app servers: 200 readers, a correction in the middle, purged in time.

`.venv/bin/python bench/varnish.py [--readers 200] [--duration 20]` (run by `.ci/run`; needs
PostgreSQL 15, pgbouncer, redis-server, varnish and varnish-modules). It starts a throwaway
PostgreSQL behind PgBouncer (transaction pooling), a Redis, two gunicorn servers with
production settings and the purge backend set to Varnish, a task worker (`manage.py db_worker`)
and Varnish running the VCL of docs/deploy.md in front of both servers, configured as
docs/deploy.md advises behind a shared cache (STANDPOINT_PAGE_REVISION_MS=250, the worker
polling every 0.2 s). Then:

- `--readers` readers (asyncio, one keep-alive connection each, gzip like a browser) ask
  Varnish for the paper page, the list and the feed in turn for `--duration` seconds;
- halfway, an editor publishes a correction (through `workflow.publish_correction`, in this
  process) that changes the paper's title; its purge is a task the worker runs;
- a second paper stays a draft throughout, its title a canary.

It asserts: no reader ever gets an error or sees the draft's title, no reader sees the
correction before it was published, every response begun 2 s after the publication returned
shows it, and fewer than 5% of the readers' requests reach the app servers (Varnish's own
counters). Exits 1 with the failed check's message; everything started is stopped at the end.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import zlib

from servers import ROOT, Varnish
from stack import Stack, exit_on_signals

SLUG = "cached-paper"
DRAFT_TITLE = "Draft canary never published"
CORRECTED = "corrected for the readers"
PATHS = [f"/papers/{SLUG}/", "/papers/", "/feed/"]
DEADLINE = 2.0  # seconds after the publication returns
BACKEND_SHARE = 0.05


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")
    print(f"  ok: {message}", flush=True)


class Reader:
    """One reader on one keep-alive connection, recording each response as
    (path, started, finished, status, shows the correction, shows the draft)."""

    def __init__(self, port, number):
        self.port = port
        self.number = number
        self.seen = []
        self.errors = []

    async def run(self, stop_at):
        reader = writer = None
        turn = self.number
        while time.monotonic() < stop_at:
            path = PATHS[turn % len(PATHS)]
            turn += 1
            started = time.monotonic()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                    "Accept-Encoding: gzip\r\nUser-Agent: bench-reader\r\n\r\n".encode()
                )
                status, body = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                self.errors.append((path, repr(error)))
                writer = None
                continue
            text = body.decode("utf-8", "replace")
            self.seen.append(
                (path, started, time.monotonic(), status, CORRECTED in text, DRAFT_TITLE in text)
            )
            if status != 200:
                self.errors.append((path, status))
        if writer is not None:
            writer.close()


async def read_response(reader):
    """Status and decoded body of one HTTP/1.1 response (Content-Length or chunked, gzip)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    if headers.get("content-encoding") == "gzip":
        body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
    return status, body


async def read_for(varnish, readers, duration, publish_at, publish):
    loop = asyncio.get_running_loop()
    crowd = [Reader(varnish.port, n) for n in range(readers)]
    stop_at = time.monotonic() + duration
    tasks = [asyncio.create_task(r.run(stop_at)) for r in crowd]
    await asyncio.sleep(publish_at)
    published = await loop.run_in_executor(None, publish)
    await asyncio.gather(*tasks)
    return crowd, published


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--duration", type=float, default=20.0)
    args = parser.parse_args()
    exit_on_signals()
    started = time.monotonic()
    varnish = Varnish([])
    os.environ.update(
        {
            "STANDPOINT_PURGE_BACKEND": "varnish",
            "STANDPOINT_VARNISH_URLS": varnish.base + "/",
            "STANDPOINT_PAGE_REVISION_MS": "250",
        }
    )
    os.environ.pop("STANDPOINT_TASKS", None)  # the database queue, production's default
    with Stack(redis=True, pgbouncer=True) as stack:
        stack.callback(varnish.stop)
        import scenario

        from papers import workflow
        from papers.models import Paper

        editor = scenario.person("cache-editor", editor=True)
        reviewer = scenario.person("cache-reviewer", reviewer=True)
        paper = scenario.published(scenario.paper(SLUG, word="varnish"), editor, reviewer)
        scenario.paper("draft-canary", word="draft")
        Paper.objects.filter(slug="draft-canary").update(title=DRAFT_TITLE)
        # The correction, written in the working copy; readers must not see it before it is out.
        Paper.objects.filter(pk=paper.pk).update(title=f"{paper.title}, {CORRECTED}")
        stack.close_db()

        a = stack.gunicorn("A", workers=2)
        b = stack.gunicorn("B", workers=2)
        varnish.backends = [a.base, b.base]
        varnish.start()
        print(f"Varnish {varnish.base} in front of A and B", flush=True)
        worker_log = open(stack.tmp / "worker.log", "wb")  # noqa: SIM115 (the child holds it)
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay"],
            cwd=ROOT,
            env=stack.env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.callback(stop, worker)

        for path in PATHS:  # warm the cache, as the first readers would
            asyncio.run(warm(varnish.port, path))
        before = varnish.stats()

        moments = {}

        def publish():
            moments["began"] = time.monotonic()
            workflow.publish_correction(
                Paper.objects.get(slug=SLUG), by=editor, note="The title now says so."
            )
            moments["returned"] = time.monotonic()
            stack.close_db()
            return moments["returned"]

        print(f"{args.readers} readers for {args.duration:.0f} s; a correction halfway", flush=True)
        crowd, published = asyncio.run(
            read_for(varnish, args.readers, args.duration, args.duration / 2, publish)
        )
        after = varnish.stats()
        report(crowd, moments, before, after, args)
        check(worker.poll() is None, "the task worker ran throughout")
    print(f"Done in {time.monotonic() - started:.0f} s", flush=True)


async def warm(port, path):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    status, _ = await read_response(reader)
    writer.close()
    check(status == 200, f"{path} answers 200 through Varnish")


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def report(crowd, moments, before, after, args):
    began, returned = moments["began"], moments["returned"]
    seen = [entry for r in crowd for entry in r.seen]
    errors = [error for r in crowd for error in r.errors]
    requests = len(seen) + len(errors)
    latencies = sorted(finished - started for _, started, finished, *_ in seen)
    check(not errors, f"no reader got an error in {requests} requests ({errors[:3]})")
    check(not any(draft for *_, draft in seen), "no reader saw the draft's title")
    early = [e for e in seen if e[4] and e[2] < began]
    check(not early, "no reader saw the correction before it was published")
    late = [e for e in seen if not e[4] and e[1] > returned + DEADLINE]
    check(not late, f"every response begun {DEADLINE:.0f} s after the publication shows it")
    stale = [e[1] - returned for e in seen if not e[4] and e[1] > returned]
    last_old = max(stale, default=0.0)
    first_new = {
        path: min((e[2] - returned for e in seen if e[0] == path and e[4]), default=None)
        for path in PATHS
    }
    reached = after["MAIN.backend_req"] - before["MAIN.backend_req"]
    asked = after["MAIN.client_req"] - before["MAIN.client_req"]
    share = reached / asked if asked else 1.0
    check(
        share < BACKEND_SHARE,
        f"{reached} of {asked} readers' requests reached the app servers ({share:.2%})",
    )
    per_second = requests / args.duration
    print(
        f"Figures: {requests} requests in {args.duration:.0f} s ({per_second:.0f}/s) by "
        f"{args.readers} readers; latency median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms; the publication took "
        f"{(returned - began) * 1000:.0f} ms; the last old page was begun {last_old:.2f} s after "
        "it returned; first new page per address: "
        + ", ".join(f"{p} {t:.2f} s" for p, t in first_new.items() if t is not None)
        + f"; {reached} requests reached the app servers ({share:.3%}).",
        flush=True,
    )


if __name__ == "__main__":
    main()

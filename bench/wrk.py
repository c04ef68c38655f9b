"""wrk for bench/run.py: its command line, pinned to the CPU kept for it, and the figures read
from its output (requests/s, p50 and p99, bytes read, errors).
"""

import os
import re
import secrets
import shutil
import subprocess

DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WRK_THREADS = int(os.environ.get("BENCH_THREADS", "2"))
# wrk on the last CPU this process may use, both gunicorns on the others (taskset): on shared
# cores wrk and the workers take turns, and which server it starved moved "× bare" by a half
# between runs. BENCH_PIN=0 leaves placement to the kernel.
CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
PINNED = len(CPUS) >= 2 and bool(shutil.which("taskset")) and os.environ.get("BENCH_PIN") != "0"
WRK_CPUS = str(CPUS[-1]) if PINNED else ""
SERVER_CPUS = ",".join(map(str, CPUS[:-1])) if PINNED else ""


def pinned(command, cpus):
    """`command` run on these CPUs only (their numbers, comma-separated), or anywhere if none."""
    return ["taskset", "-c", cpus, *command] if cpus else command


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}
BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def parse_wrk(out):
    def latency(pct):
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    read = re.search(r"requests in [\d.]+\w+, ([\d.]+)([KMGT]?B) read", out)
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "requests": int(total.group(1)) if total else 0,
        "read": float(read.group(1)) * BYTES[read.group(2)] if read else 0.0,
        "p50": latency(50),
        "p99": latency(99),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket": dict(
            zip(("connect", "read", "write", "timeout"), map(int, sock.groups()), strict=True)
        )
        if sock
        else {},
    }


def new_addresses(path, tmp, words=()):
    """A wrk script asking `path?q=<word>&t=<tag>` (the words in turn; `path?t=<tag>` with no
    words) with every address new: the tag names the run (given after `--` by `wrk`), wrk's
    thread and the request's number in it, so that no request finds a page an earlier one left
    in the page cache. A random tag would repeat: wrk starts Lua's generator from one seed in
    each thread of each run."""
    query = '"?q=" .. words[(i % #words) + 1] .. "&t="' if words else '"?t="'
    script = tmp / f"{path.strip('/').replace('/', '-') or 'root'}-{'q' if words else 't'}.lua"
    script.write_text(
        "local words = {" + ",".join(f'"{word}"' for word in words) + "}\n"
        "local threads, i = 0, 0\n"
        "function setup(thread)\n"
        "  threads = threads + 1\n"
        '  thread:set("thread_id", threads)\n'
        "end\n"
        "function init(args)\n"
        '  run = args[1] or ""\n'
        "end\n"
        "function request()\n"
        "  i = i + 1\n"
        f'  return wrk.format("GET", "{path}" .. {query} .. run .. "-" .. thread_id .. "-" .. i)\n'
        "end\n"
    )
    return script


def wrk(url, *, headers=(), script=None, duration=DURATION, connections=CONNECTIONS):
    cmd = [
        "wrk",
        f"-t{min(WRK_THREADS, connections)}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for header in headers:
        cmd += ["-H", header]
    if script:
        cmd += ["-s", str(script)]
    cmd.append(url)
    if script:  # this run's name, for scripts that make new addresses
        cmd += ["--", secrets.token_hex(4)]
    result = subprocess.run(
        pinned(cmd, WRK_CPUS), capture_output=True, text=True, timeout=duration + 60
    )
    return parse_wrk(result.stdout), result.stdout

"""What the multi-server, load and fault scripts (`two_servers.py`, `load.py`, `faults.py`,
`varnish.py`) and the PostgreSQL benchmarks run on: the throwaway servers of `servers.py`
(PostgreSQL, Redis, PgBouncer), Django in this process, and gunicorn app servers and task workers
with production settings.

`Stack` starts the database (and Redis when asked), writes a settings module that only moves
STATIC_ROOT (and the email file backend's folder) into the temporary directory, sets Django up
in this process (the scripts arrange data and count rows through the ORM), migrates and
collects static files once. `stack.gunicorn(name)` then starts an app server against it with
production settings (`gunicorn -c gunicorn.conf.py`, DEBUG off). Everything started is stopped
when the `with` block ends, on failure too; `exit_on_signals()` turns SIGTERM into an exit so
that this still happens when CI is interrupted.
"""

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from servers import ROOT, PgBouncer, PostgreSQL, Redis, free_port, wait_for

SETTINGS_MODULE = "standpoint_bench_settings"


def production_env(*, pythonpath, settings_module, database_url):
    """The environment of an app server with production settings, for plain HTTP on 127.0.0.1
    (no TLS proxy here): no HTTPS redirect or secure cookies, no email sent, no __pycache__."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(path) for path in pythonpath),
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for key in ("GUNICORN_BIND", "PORT"):  # each script binds its servers itself
        env.pop(key, None)
    return env


def exit_on_signals():
    """SIGTERM and SIGINT become SystemExit, so `with Stack()` stops what it started."""

    def leave(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)


def children(pid):
    """The processes `pid` has forked (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid:
            found.append(int(entry.name))
    return found


class ProcessGroup:
    """A server started in its own process group, its output in `log_path`; stopping it stops
    every process it forked."""

    log_path = None
    process = None
    stop_timeout = 30  # seconds a SIGTERM is given before SIGKILL

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self):
        """SIGKILL, as the OOM killer or a lost machine would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.kill()


class TaskWorker(ProcessGroup):
    """One task worker, `manage.py db_worker`, in its own process group, its output in
    <tmp>/<name>.log; it polls the queue ten times a second."""

    def __init__(self, name, env, tmp):
        self.name, self.env, self.log_path = name, env, tmp / f"{name}.log"

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--no-reload"]
                + ["--interval", "0.1", "--no-startup-delay", "--worker-id", self.name],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self


class Gunicorn(ProcessGroup):
    """One app server: `gunicorn -c gunicorn.conf.py config.wsgi` in its own process group,
    its output in <tmp>/<name>.log (stdout may go elsewhere, e.g. /dev/full)."""

    stop_timeout = 35  # longer than its graceful_timeout

    def __init__(self, name, env, tmp, *, stdout=None):
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        self.log_path = tmp / f"{name}.log"
        self.stdout_path = stdout

    def start(self):
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child holds it; closed below)
        out = open(self.stdout_path, "wb") if self.stdout_path else log  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
                + ["config.wsgi"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()
            if out is not log:
                out.close()
        wait_for(self.healthy, timeout=30, what=f"gunicorn {self.name} to answer /healthz")
        workers = int(self.env.get("WEB_CONCURRENCY", "1"))
        wait_for(lambda: len(self.workers()) >= workers, timeout=30, what=f"{workers} workers")
        return self

    def healthy(self):
        if self.process.poll() is not None:
            raise SystemExit(f"gunicorn {self.name} exited; see its log:\n{self.log()[-3000:]}")
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def workers(self):
        """The master's child processes (gunicorn workers)."""
        return children(self.process.pid)

    def worker_with_connection(self, local_port, remote_port):
        """The worker that owns the TCP connection 127.0.0.1:local_port → :remote_port, found
        through its socket's inode in /proc/net/tcp and the worker's open files."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    local, remote = (int(f.rsplit(":", 1)[1], 16) for f in fields[1:3])
                    if (local, remote) == (local_port, remote_port):
                        inodes.add(f"socket:[{fields[9]}]")
        for pid in self.workers():
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        if os.readlink(fd) in inodes:
                            return pid
        return None


class Stack(contextlib.ExitStack):
    """PostgreSQL (+ Redis), Django in this process, and the app servers started through it."""

    def __init__(self, *, redis=False, pgbouncer=False):
        super().__init__()
        self.with_redis = redis
        self.with_pgbouncer = pgbouncer
        self.tmp = None
        self.pg = None
        self.redis = None
        self.env = {}

    def __enter__(self):
        super().__enter__()
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self):
        started = time.monotonic()
        self.tmp = Path(tempfile.mkdtemp(prefix="standpoint-bench-"))
        self.callback(shutil.rmtree, self.tmp, ignore_errors=True)
        self.pg = PostgreSQL()
        self.callback(self.pg.stop)
        self.pg.start()
        if self.with_redis:
            self.redis = Redis(self.tmp)
            self.callback(self.redis.stop)
            self.redis.start()
        (self.tmp / f"{SETTINGS_MODULE}.py").write_text(
            "import os\n"
            "from config.settings import *  # noqa: F401,F403\n"
            f"STATIC_ROOT = {str(self.tmp / 'static')!r}\n"
            "EMAIL_FILE_PATH = os.environ.get('BENCH_EMAIL_FILE_PATH')\n"
        )
        database_url = self.pg.url
        if self.with_pgbouncer:
            bouncer = PgBouncer(self.pg)
            self.callback(bouncer.stop)
            database_url = bouncer.start().url
        self.env = production_env(
            pythonpath=[self.tmp, ROOT], settings_module=SETTINGS_MODULE, database_url=database_url
        )
        if self.with_pgbouncer:
            self.env["DATABASE_TRANSACTION_POOLING"] = "1"
        for key in ("REDIS_URL", "WEB_CONCURRENCY", "GUNICORN_THREADS"):
            self.env.pop(key, None)
        if self.redis:
            self.env["REDIS_URL"] = self.redis.url
        os.environ.clear()
        os.environ.update(self.env)
        sys.path[:0] = [str(self.tmp), str(ROOT)]
        sys.dont_write_bytecode = True

        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.close_db()
        print(
            f"PostgreSQL 127.0.0.1:{self.pg.port}"
            + (" (through PgBouncer)" if self.with_pgbouncer else "")
            + (f", Redis 127.0.0.1:{self.redis.port}" if self.redis else "")
            + f": ready and migrated in {time.monotonic() - started:.1f} s",
            flush=True,
        )

    def close_db(self):
        """Close this process's connections (before a restart, a lock test or a fork)."""
        from django.db import connections

        connections.close_all()

    def task_worker(self, name, *, env=None):
        """A task worker (`manage.py db_worker`) with the servers' settings and `env`."""
        worker = TaskWorker(name, {**self.env, **(env or {})}, self.tmp)
        self.callback(worker.stop)
        worker.start()
        print(f"task worker {name}: pid {worker.process.pid}", flush=True)
        return worker

    def gunicorn(self, name, *, workers=2, threads=None, env=None, stdout=None):
        settings = {"WEB_CONCURRENCY": str(workers), **(env or {})}
        if threads:
            settings["GUNICORN_THREADS"] = str(threads)
        server = Gunicorn(name, {**self.env, **settings}, self.tmp, stdout=stdout)
        self.callback(server.stop)
        server.start()
        print(f"gunicorn {name}: {server.base} ({workers} workers)", flush=True)
        return server

"""Throwaway servers for the multi-server, load and fault scripts (`two_servers.py`, `load.py`,
`faults.py`): a PostgreSQL 15 cluster, a Redis and gunicorn app servers, each on 127.0.0.1 and
a free port, with their files in temporary directories that are removed at the end.

`Stack` starts the database (and Redis when asked), writes a settings module that only moves
STATIC_ROOT (and the email file backend's folder) into the temporary directory, sets Django up
in this process (the scripts arrange data and count rows through the ORM), migrates and
collects static files once. `stack.gunicorn(name)` then starts an app server against it with
production settings (`gunicorn -c gunicorn.conf.py`, DEBUG off). Everything started is stopped
when the `with` block ends, on failure too; `exit_on_signals()` turns SIGTERM into an exit so
that this still happens when CI is interrupted.

PostgreSQL refuses to run as root: as root, its commands run as the `postgres` system user
(`.ci/run` creates it). The binaries are taken from STANDPOINT_PG_BIN
(default /usr/lib/postgresql/15/bin); Redis is Debian's `redis-server`.
"""

import contextlib
import os
import pwd
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

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PG_BIN = Path(os.environ.get("STANDPOINT_PG_BIN", "/usr/lib/postgresql/15/bin"))
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, *, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise SystemExit(f"Timed out after {timeout} s waiting for {what}.")


class PostgreSQL:
    """A throwaway cluster with a `standpoint` database owned by a `standpoint` role (trust
    authentication on 127.0.0.1 only; fsync off, as nothing here must survive a crash of
    the machine)."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="standpoint-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            try:
                owner = pwd.getpwnam(self.user)
            except KeyError:
                raise SystemExit(
                    "PostgreSQL cannot run as root and there is no `postgres` user; create it "
                    "(`useradd --system --user-group postgres`) or run as another user."
                ) from None
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.dir.chmod(0o700)
        self.url = f"postgres://standpoint@127.0.0.1:{self.port}/standpoint"

    def _run_as_owner(self, *command, **kwargs):
        if self.user:
            command = ("runuser", "-u", self.user, "--", *command)
        return subprocess.run(command, check=True, **kwargs)

    def _pg_ctl(self, *args):
        self._run_as_owner(
            str(PG_BIN / "pg_ctl"), *args, "--pgdata", str(self.data), stdout=subprocess.DEVNULL
        )

    def start(self):
        if not (PG_BIN / "initdb").exists():
            raise SystemExit(f"No PostgreSQL in {PG_BIN}: apt-get install postgresql-15")
        self._run_as_owner(
            str(PG_BIN / "initdb"),
            f"--pgdata={self.data}",
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            stdout=subprocess.DEVNULL,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
        self._pg_ctl("start", "--wait", "--timeout=60", f"--log={self.log}", "-o", options)
        self.psql("CREATE ROLE standpoint LOGIN", "CREATE DATABASE standpoint OWNER standpoint")

    def restart(self):
        """`pg_ctl restart -m fast`: every connection is cut, the server is back when it
        returns. Returns (started, finished) in time.monotonic()."""
        started = time.monotonic()
        self._pg_ctl("restart", "-m", "fast", "--wait", "--timeout=60")
        return started, time.monotonic()

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._pg_ctl("stop", "-m", "fast")
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql_command(self, database="postgres"):
        return [
            str(PG_BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-qAtX",
        ]

    def psql(self, *statements, database="postgres"):
        args = [arg for sql in statements for arg in ("-c", sql)]
        result = subprocess.run(
            self.psql_command(database) + args, check=True, capture_output=True, text=True
        )
        return result.stdout.strip()


class Redis:
    """Debian's redis-server on 127.0.0.1, no persistence (no RDB snapshots, no AOF)."""

    def __init__(self, tmp):
        self.port = free_port()
        self.dir = tmp
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        binary = shutil.which("redis-server")
        if not binary:
            raise SystemExit("redis-server is not installed: apt-get install redis-server")
        self.process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--logfile",
                str(self.dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(self.answers, timeout=10, what=f"redis-server on port {self.port}")

    def answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class TaskWorker:
    """One task worker, `manage.py db_worker`, in its own process group, its output in
    <tmp>/<name>.log; it polls the queue ten times a second."""

    def __init__(self, name, env, tmp):
        self.name, self.env, self.log_path, self.process = name, env, tmp / f"{name}.log", None

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
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


class Gunicorn:
    """One app server: `gunicorn -c gunicorn.conf.py config.wsgi` in its own process group,
    its output in <tmp>/<name>.log (stdout may go elsewhere, e.g. /dev/full)."""

    def __init__(self, name, env, tmp, *, stdout=None):
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        self.log_path = tmp / f"{name}.log"
        self.stdout_path = stdout
        self.process = None

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
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == self.process.pid:
                pids.append(int(entry.name))
        return pids

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

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


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


# --- Shared HTTP cache and connection pooler in front (bench/varnish.py, tests/test_purging.py) --


def documented_vcl():
    """The VCL that docs/deploy.md ships, as written there (its first ```vcl block)."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    start = text.index("```vcl\n") + len("```vcl\n")
    return text[start : text.index("```", start)]


class Varnish:
    """Debian's varnishd (with varnish-modules' xkey) on 127.0.0.1, running the documented VCL
    in front of `backends` (base URLs); only `purgers` may purge. `stats()` reads its counters."""

    def __init__(self, backends, *, purgers=("127.0.0.1",), memory_mb=256):
        self.purgers = purgers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="standpoint-varnish-"))
        self.backends = backends
        self.memory_mb = memory_mb
        self.process = None

    def start(self):
        binary = shutil.which("varnishd") or "/usr/sbin/varnishd"
        if not Path(binary).exists():
            raise SystemExit("varnishd is not installed: apt-get install varnish varnish-modules")
        lines = ["import directors;"]
        for number, base in enumerate(self.backends):
            host, port = base.removeprefix("http://").rstrip("/").rsplit(":", 1)
            lines.append(f'backend app{number} {{ .host = "{host}"; .port = "{port}"; }}')
        lines.append("acl purgers { " + "".join(f'"{ip}"; ' for ip in self.purgers) + "}")
        lines.append("sub vcl_init {\n    new app = directors.round_robin();")
        lines += [f"    app.add_backend(app{n});" for n in range(len(self.backends))]
        lines.append("}")
        (self.dir / "standpoint-backends.vcl").write_text("\n".join(lines) + "\n")
        (self.dir / "standpoint.vcl").write_text(documented_vcl())
        self.process = subprocess.Popen(
            [binary, "-F", "-j", "none", "-n", str(self.dir / "work")]
            + ["-a", f"127.0.0.1:{self.port}", "-f", str(self.dir / "standpoint.vcl")]
            + ["-p", f"vcl_path={self.dir}", "-s", f"malloc,{self.memory_mb}m"],
            stdout=open(self.dir / "varnish.log", "wb"),  # noqa: SIM115 (the child holds it)
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self.answers, timeout=30, what=f"varnishd on port {self.port}")
        return self

    def answers(self):
        if self.process.poll() is not None:
            log = (self.dir / "varnish.log").read_text(errors="replace")
            raise SystemExit(f"varnishd exited:\n{log[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stats(self):
        """Varnish's counters by name (MAIN.client_req, MAIN.backend_req, …)."""
        binary = shutil.which("varnishstat") or "/usr/bin/varnishstat"
        out = subprocess.run(
            [binary, "-n", str(self.dir / "work"), "-1"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return {line.split()[0]: int(line.split()[1]) for line in out.splitlines() if line}

    def stop(self):
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class PgBouncer:
    """Debian's pgbouncer on 127.0.0.1 in transaction pooling, in front of `pg` (run as the
    cluster's owner when root, as pgbouncer refuses to run as root)."""

    def __init__(self, pg, *, pool_size=20):
        self.pg = pg
        self.port = free_port()
        self.dir = pg.dir / "pgbouncer"
        self.pool_size = pool_size
        self.url = f"postgres://standpoint@127.0.0.1:{self.port}/standpoint"
        self.process = None

    def start(self):
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not Path(binary).exists():
            raise SystemExit("pgbouncer is not installed: apt-get install pgbouncer")
        self.dir.mkdir()
        (self.dir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"standpoint = host=127.0.0.1 port={self.pg.port} dbname=standpoint\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\n"
            f"unix_socket_dir = {self.dir}\n"
            "auth_type = trust\n"
            f"auth_file = {self.dir / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\n"
            "max_client_conn = 1000\n"
            f"logfile = {self.dir / 'pgbouncer.log'}\n"
        )
        (self.dir / "users.txt").write_text('"standpoint" ""\n')
        command = [binary, str(self.dir / "pgbouncer.ini")]
        if self.pg.user:
            owner = pwd.getpwnam(self.pg.user)
            for path in [self.dir, *self.dir.iterdir()]:
                os.chown(path, owner.pw_uid, owner.pw_gid)
            command = ["runuser", "-u", self.pg.user, "--", *command]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_for(self.answers, timeout=15, what=f"pgbouncer on port {self.port}")
        return self

    def answers(self):
        if self.process.poll() is not None:
            log = self.dir / "pgbouncer.log"
            raise SystemExit(
                f"pgbouncer exited:\n{log.read_text()[-2000:] if log.exists() else ''}"
            )
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

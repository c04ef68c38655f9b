"""Throwaway servers for the benchmark and fault scripts: a PostgreSQL 15 cluster, PgBouncer,
Redis and Varnish, each on 127.0.0.1 and a free port, with their files in temporary directories
that are removed when they stop. `stack.py` starts them with Django and the app's own processes.

Only the standard library is imported here: tests/test_purging.py runs Varnish from this module
as `bench.servers`, where the other modules of bench/ cannot be imported by their bare names.

PostgreSQL refuses to run as root: as root, its commands run as the `postgres` system user
(`.ci/run` creates it). The binaries are taken from STANDPOINT_PG_BIN
(default /usr/lib/postgresql/15/bin); Redis is Debian's `redis-server`.
"""

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PG_BIN = Path(os.environ.get("STANDPOINT_PG_BIN", "/usr/lib/postgresql/15/bin"))


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

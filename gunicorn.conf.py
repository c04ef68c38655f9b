"""gunicorn settings, read from the environment: `gunicorn -c gunicorn.conf.py config.wsgi`.

See docs/deploy.md for the variables and how several servers share one database.
"""

import os


def _int(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name} must be an integer; got {value!r}") from None


def _cpus():
    # The CPUs this process may use (a container's share), not the whole machine's.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# GUNICORN_BIND wins (comma-separated for several addresses); else PORT, as platforms set it,
# on every interface; else loopback only, for a proxy on the same machine.
if "GUNICORN_BIND" in os.environ:
    bind = [part.strip() for part in os.environ["GUNICORN_BIND"].split(",") if part.strip()]
elif "PORT" in os.environ:
    bind = [f"0.0.0.0:{_int('PORT', 8000)}"]
else:
    bind = ["127.0.0.1:8000"]

# Each worker holds its own copy of the app (~100 MB) and, per thread, its own database
# connection: the cap keeps a large machine from opening more than PostgreSQL allows.
workers = _int("WEB_CONCURRENCY", min(2 * _cpus() + 1, 8))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 2)

# Restart each worker after about this many requests (spread so that they do not all restart
# at once): a slow leak never grows for long. Not much sooner: a new worker costs about a second
# of CPU to start, and renders again the readers' pages its predecessor kept in memory.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 10

timeout = 30
graceful_timeout = 30
# Longer than gunicorn's 2 s, so that a load balancer reusing a connection rarely finds it closed.
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Addresses of the proxies trusted to say a request came over HTTPS (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# One line per request on stdout; gunicorn's own messages go to stderr. %(M)s is milliseconds;
# the client's address is the proxy's X-Forwarded-For when there is one.
accesslog = "-"
errorlog = "-"
access_log_format = (
    '%(h)s "%({x-forwarded-for}i)s" %(t)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'
)

# gunicorn 25.1+ opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl), which
# two servers on one machine would contend for; nothing here uses it (older versions ignore this).
control_socket_disable = True


def on_starting(server):
    # Prometheus' multiprocess mode (papers/metrics.py): workers write their figures as files in
    # PROMETHEUS_MULTIPROC_DIR; a previous run's files would be added to this one's.
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))

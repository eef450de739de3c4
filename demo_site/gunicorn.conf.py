"""gunicorn settings of `make serve` (scripts/serve); docs/deploy.md explains each choice.

Environment: BIND (default 127.0.0.1:8000), WEB_CONCURRENCY (workers, default 2),
GUNICORN_THREADS (default 1), PROMETHEUS_MULTIPROC_DIR (metrics of all workers).
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# The access log names the path only (%(U)s), never the query: an authorization URL carries a
# request_uri and a callback URL an authorization code. No Referer either, for the same reason.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
# Behind a proxy: trust its X-Forwarded-* only from the addresses listed here.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# gunicorn 24+ opens a control socket in the user's home: not needed here, and two servers on one
# machine would share its path.
control_socket_disable = True


def child_exit(server, worker):
    """prometheus-client multiprocess mode: forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

"""gunicorn settings for walkapp behind nginx (deploy/nginx/walkapp.conf).

    gunicorn -c deploy/gunicorn.conf.py 'walkapp:create_app()'

Sync workers are right here because nginx buffers every request body and every response: a worker
is busy only while Python works, never while a phone on a slow connection sends its photos or reads
the page. Each worker holds one database connection at a time (pool_size 5 in SQLAlchemy's default,
so at most 5 + 10 overflow per worker; with WALKAPP_QUERY_WORKERS=1, one at a time in practice).
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "unix:/run/walkapp/gunicorn.sock")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# A request that takes longer than this is a bug or a stuck database: the worker is replaced.
# Uploads do not count against it: nginx has the whole body before gunicorn sees the request.
timeout = 60
graceful_timeout = 30
# Renew workers now and then, so that a slow leak never takes a server down.
max_requests = 2000
max_requests_jitter = 200
# walkapp logs one line per request itself (request id, route, status, user id; no personal data).
accesslog = None
errorlog = "-"

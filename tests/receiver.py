"""A real HTTP webhook receiver on loopback, for the activation and real-time tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "a-webhook-secret-of-some-length"


class Receiver:
    """A real HTTP receiver on loopback that fails the first `failures` requests with 503 (or `status`).

    While `hanging` is set, a request is received but not answered until close() (a slow receiver)."""

    def __init__(self, failures: int, status: int = 503) -> None:
        self.failures = failures
        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.hanging = False
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                if receiver.hanging:
                    receiver.released.wait(timeout=120)
                failing = receiver.failures > 0
                receiver.failures -= 1
                self.send_response(receiver.status if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *arguments: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        # A short poll interval: close() waits for the serving loop to notice the shutdown.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def accepted(self) -> list[dict[str, Any]]:
        """The distinct batches received (a retried batch arrives more than once, with the same id)."""
        batches: dict[str, dict[str, Any]] = {}
        for headers, body in self.requests:
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["X-Accountgraph-Signature"], expected)
            payload = json.loads(body)
            assert headers["X-Accountgraph-Batch-Id"] == payload["batchId"]
            batches[payload["batchId"]] = payload
        return list(batches.values())

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

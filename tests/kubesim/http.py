"""A tiny HTTP client for tests that need raw API responses (status codes, headers, streams) from a KubeSim."""

import json
import os
import tempfile

import urllib3

from . import tls


class Response:
    def __init__(self, status, headers, data):
        self.status = status
        self.headers = headers
        self.data = data

    @property
    def json(self):
        return json.loads(self.data) if self.data else None

    def __repr__(self):
        return f"Response({self.status}, {self.data[:200]!r})"


class RawClient:
    def __init__(self, sim, token=None, user=None):
        if token is None:
            token = sim.add_user(user) if user else sim.admin_token
        self.sim = sim
        self.token = token
        kw = {}
        if sim.tls:
            self._ca = tempfile.NamedTemporaryFile(prefix="kubesim-ca-", suffix=".pem", delete=False)
            self._ca.write(tls.credentials()[0])
            self._ca.close()
            kw = {"cert_reqs": "CERT_REQUIRED", "ca_certs": self._ca.name}
        self.pool = urllib3.PoolManager(retries=False, **kw)

    def close(self):
        self.pool.clear()
        if self.sim.tls:
            os.unlink(self._ca.name)

    def headers(self, extra=None, content_type="application/json"):
        h = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", "Content-Type": content_type}
        h.update(extra or {})
        return h

    def request(self, method, path, body=None, headers=None, content_type="application/json", timeout=10):
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        r = self.pool.request(method, self.sim.url + path, body=data,
                              headers=self.headers(headers, content_type), timeout=timeout)
        return Response(r.status, r.headers, r.data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body, patch_type="merge", **kw):
        ctype = {"merge": "application/merge-patch+json", "json": "application/json-patch+json",
                 "strategic": "application/strategic-merge-patch+json"}[patch_type]
        return self.request("PATCH", path, body, content_type=ctype, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def stream(self, path, headers=None, timeout=10):
        """An unread streaming response (for watches): iterate ``lines(resp)``."""
        return self.pool.request("GET", self.sim.url + path, headers=self.headers(headers), preload_content=False,
                                 timeout=timeout)


def lines(resp):
    """JSON documents from a chunked watch response, one per line."""
    buf = b""
    for chunk in resp.stream(1024, decode_content=False):
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)

"""A fake OpenStack cloud for the exporter's tests: real HTTP on 127.0.0.1, data composed from api-ref samples."""

from .server import FakeOpenStack  # noqa: F401

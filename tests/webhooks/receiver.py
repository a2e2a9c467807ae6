"""A real HTTPS receiver for the tests, whose answers are scripted to inject faults.

Each path has a queue of behaviours (answer with a status, hang, reset the connection, send the body slowly,
redirect); when the queue is empty it answers 200. Every request that reached the handler is recorded.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


@dataclass(frozen=True)
class Hang:
    """Answer only after ``seconds`` (longer than the sender's timeout)."""

    seconds: float


@dataclass(frozen=True)
class Reset:
    """Drop the connection without an answer."""


@dataclass(frozen=True)
class SlowBody:
    """Send 200 and the start of a body at once, then stall for ``seconds``."""

    seconds: float


Behaviour = Reply | Hang | Reset | SlowBody


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a certificate for 127.0.0.1 and localhost signed by it: (ca.pem, cert.pem, key.pem)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "appinstall test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class Receiver:
    def __init__(self, cert: Path | None, key: Path | None, *, delay: float = 0.0) -> None:
        """HTTPS with ``cert`` and ``key``; plain HTTP when they are None."""
        self.delay = delay
        self.received: list[Received] = []
        self.script: dict[str, deque[tuple[bytes | None, Behaviour]]] = defaultdict(deque)
        self._tls: ssl.SSLContext | None = None
        if cert is not None and key is not None:
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.load_cert_chain(cert, key)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.arrived = asyncio.Event()
        self.active = 0  # requests being answered now
        self.peak = 0  # the most ever answered at once

    def url(self, path: str = "/hook") -> str:
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def then(self, path: str, *behaviours: Behaviour, containing: bytes | None = None) -> None:
        """Queue behaviours for the next requests to ``path`` (only those whose body contains ``containing``)."""
        self.script[path].extend((containing, behaviour) for behaviour in behaviours)

    def _next(self, path: str, body: bytes) -> Behaviour:
        queue = self.script[path]
        for entry in queue:
            needle, behaviour = entry
            if needle is None or needle in body:
                queue.remove(entry)
                return behaviour
        return Reply()

    def bodies(self, path: str | None = None) -> list[bytes]:
        return [r.body for r in self.received if path is None or r.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            return await self._answer(request)
        finally:
            self.active -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.received.append(Received(request.path, dict(request.headers), body, time.monotonic()))
        self.arrived.set()
        behaviour = self._next(request.path, body)
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(behaviour, Hang):
            await asyncio.sleep(behaviour.seconds)
            return web.Response(text="late")
        if isinstance(behaviour, Reset):
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if isinstance(behaviour, SlowBody):
            response = web.StreamResponse(status=200)
            response.content_length = 1_000
            await response.prepare(request)
            await response.write(b"x" * 10)
            await asyncio.sleep(behaviour.seconds)
            return response
        return web.Response(status=behaviour.status, headers=behaviour.headers, body=behaviour.body)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._tls)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class ReceiverThread:
    """A ``Receiver`` on its own event loop in a thread, for tests that drive real processes synchronously."""

    def __init__(self, cert: Path, key: Path, *, delay: float = 0.0) -> None:
        self.receiver = Receiver(cert, key, delay=delay)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.receiver.start(), self._loop).result(timeout=10)
        return self.receiver

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.receiver.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

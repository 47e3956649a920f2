"""A small HTTP/1.1 client for the load test's users: one kept-alive connection each over
asyncio's streams, cookies as the server sets them, JSON bodies.

The load generator runs on the machine it measures (two cores for 300 users): httpx's client
costs about a millisecond of CPU per request, which at 150 requests a second is a sixth of a
core taken from the server. This one writes the request and reads the answer (Content-Length or
chunked) and does nothing else; it speaks to flsdb's own server on loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
from typing import Any
from urllib.parse import urlencode, urlsplit


class Answer:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code, self.headers, self.content = status, headers, body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class Client:
    """Requests one after another on one connection (opened again when the server closes it);
    each answer within `timeout` seconds or TimeoutError."""

    def __init__(self, base: str, timeout: float = 120.0) -> None:
        parts = urlsplit(base)
        if parts.hostname != "127.0.0.1":
            raise ValueError("The load test's client speaks to loopback only.")
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Answer:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, json: Any = None) -> Answer:
        return await self.request("POST", path, json=json)

    async def put(self, path: str, json: Any = None) -> Answer:
        return await self.request("PUT", path, json=json)

    async def request(
        self, method: str, path: str, params: dict[str, Any] | None = None, json: Any = None
    ) -> Answer:
        target = path + (f"?{urlencode(params)}" if params else "")
        body = b"" if json is None else jsonlib.dumps(json).encode()
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if json is not None:
            lines.append("Content-Type: application/json")
        if method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: again
            try:
                return await asyncio.wait_for(self._exchange(head + body), self.timeout)
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.aclose()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, data: bytes) -> Answer:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        writer.write(data)
        await writer.drain()
        status_line = await reader.readuntil(b"\r\n")
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split(b" ", 2)[1])
        headers: list[tuple[str, str]] = []
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name.strip().lower(), value.strip()))
        found = dict(headers)
        if "content-length" in found:
            body = await reader.readexactly(int(found["content-length"]))
        elif "chunked" in found.get("transfer-encoding", ""):
            body = await _chunks(reader)
        else:
            body = b""
        for name, value in headers:
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        if found.get("connection", "").lower() == "close":
            await self.aclose()
        return Answer(status, headers, body)

    async def aclose(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _chunks(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)

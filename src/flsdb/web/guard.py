"""The first thing every request meets: body limits, refused query strings and NUL characters
answered before any route runs, an unexpected error answered without its message, and the
security headers on every response.

A plain ASGI middleware: it wraps `send` to add the headers to the response's start, where
Starlette's `BaseHTTPMiddleware` (what `@app.middleware("http")` makes) runs every request's
body through a task group and memory streams, a measurable share of a small request's CPU time
(benchmarks/request_cost.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flsdb.web import hygiene

Refusal = Callable[[Request, int, str], Response]


class Guard:
    """`refuse(request, status, sentence)` makes the answer to a request refused here (JSON
    under /api, a page elsewhere); `headers` are set on every response that lacks them."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        refuse: Refusal,
        headers: Mapping[str, str],
        max_body: int,
        unexpected: str,
        nul_refusal: str,
        limit_text: str,
    ) -> None:
        self.app = app
        self.refuse = refuse
        self.headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
        ]
        self.max_body = max_body
        self.unexpected = unexpected
        self.nul_refusal = nul_refusal
        self.limit_text = limit_text

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                given = list(message.get("headers", ()))
                present = {name.lower() for name, _ in given}
                given.extend(h for h in self.headers if h[0] not in present)
                message = {**message, "headers": given}
            await send(message)

        request = Request(scope, receive)
        refused = self._refused(request)
        if refused is not None:
            await self.refuse(request, *refused)(scope, receive, send_with_headers)
            return
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # logged here, so the server never logs its message
            hygiene.log_unexpected(request, exc)
            if started:  # the answer is under way: the connection is closed by the server
                raise
            await self.refuse(request, 500, self.unexpected)(scope, receive, send_with_headers)

    def _refused(self, request: Request) -> tuple[int, str] | None:
        headers = request.headers
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            return 413, f"An upload may be at most {self.limit_text}."
        if (
            request.method in ("POST", "PUT")
            and length is None
            and "chunked" in headers.get("transfer-encoding", "")
        ):
            return 411, "Send the request with its length."
        if b"%00" in request.scope.get("query_string", b"") or "\x00" in request.url.path:
            return 400, self.nul_refusal
        return hygiene.query_refusal(request)

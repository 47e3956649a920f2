"""`flsdb serve` leaves uvicorn to choose its HTTP parser and event loop (`http="auto"`,
`loop="auto"`): with the project's dependencies installed it chooses httptools and uvloop, whose
CPU time per request is lower than h11's and asyncio's."""

from __future__ import annotations

import asyncio
import sys

import pytest
import uvloop
from uvicorn.loops.auto import auto_loop_factory
from uvicorn.protocols.http.auto import AutoHTTPProtocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@pytest.mark.skipif(sys.platform == "win32", reason="httptools and uvloop are not for Windows")
def test_uvicorn_chooses_httptools_and_uvloop() -> None:
    assert AutoHTTPProtocol is HttpToolsProtocol
    loop = auto_loop_factory()()
    try:
        assert isinstance(loop, uvloop.Loop)
        assert not isinstance(loop, asyncio.SelectorEventLoop)
    finally:
        loop.close()

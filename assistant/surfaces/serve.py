"""The served app: the HTTP API, MCP over HTTP and, when asked, the web UI, on one port, behind
one guard.

`serve` composes them: `/v1` and `/healthz` (`http.py`), `/mcp` (`mcp.py`, streamable HTTP),
the UI at / (`ui.py`; the API's routes keep precedence), and in front of every path the guard
(`guard.py`: Host, Origin, the key or login, body size). It binds the port first (`listen`:
a port in use is one clear error, before anything slow loads), warns when it binds beyond
loopback without a key or login, and runs uvicorn, blocking or in a thread for tests.
`assistant serve` serves all three, `api` leaves out the UI, `mcp --http` serves MCP alone.
Not here: the routes or the page.
"""

from __future__ import annotations

import errno
import socket
import sys
import threading
import time
from typing import Any

from assistant.api import Assistant
from assistant.core.errors import AssistantError
from assistant.surfaces.guard import Guard, exposure_warning, login_pair
from assistant.surfaces.http import create_app


class Server:
    """A running uvicorn server (see `serve`); `close()` stops it."""

    def __init__(self, server: Any, thread: threading.Thread | None, url: str) -> None:
        self._server, self._thread, self.url = server, thread, url

    def close(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)


def build_app(bot: Assistant, host: str, port: int, *, ui: bool = True, v1: bool = True) -> Any:
    """The composed ASGI app: `/healthz`, `/v1` (when `v1`), `/mcp`, the UI (when `ui`)."""
    from assistant.surfaces.mcp import mount_http

    login_pair(bot.settings.ui_auth)  # a malformed login fails here, before anything listens
    app = create_app(bot, v1=v1)
    mount_http(app, bot)
    if ui:  # gradio takes seconds to import: only when the page is served
        from assistant.surfaces.ui import mount_ui

        app = mount_ui(app, bot, host, port)
    app.add_middleware(Guard, settings=bot.settings, bind_host=host)
    return app


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port for `serve`, or AssistantError: bound before the app is
    built, a port in use is one line at once, not uvicorn's exit code 3 after "Serving". Bound
    as uvicorn binds (address reuse, IPv6 dual-stack as the system has it), not yet listening:
    a client is refused, not kept waiting, until the server runs."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        if getattr(exc, "errno", None) == errno.EADDRINUSE:
            raise AssistantError(f"Port {port} on {host} is in use; choose another with --port.") from None
        raise AssistantError(f"Cannot listen on {host}:{port} ({getattr(exc, 'strerror', None) or exc}); "
                             "check --host and --port.") from None
    return sock


def serve(bot: Assistant, host: str = "127.0.0.1", port: int = 7860, *, ui: bool = True,
          v1: bool = True, block: bool = True, sock: socket.socket | None = None) -> Server:
    """Serve the app (see `build_app`) on `sock` (from `listen(host, port)`; bound here when
    None); block=False returns once it listens."""
    import uvicorn

    sock = sock or listen(host, port)
    port = sock.getsockname()[1]  # the port given, or the one chosen for port 0
    try:
        app = build_app(bot, host, port, ui=ui, v1=v1)
    except BaseException:
        sock.close()
        raise
    warning = exposure_warning(bot.settings, host)
    if warning:
        print(warning, file=sys.stderr)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    if block:
        server.run(sockets=[sock])
        return Server(server, None, f"http://{host}:{port}")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="assistant-http",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise AssistantError(f"The server could not start on {host}:{port}.")
        time.sleep(0.05)
    return Server(server, thread, f"http://{host}:{port}")

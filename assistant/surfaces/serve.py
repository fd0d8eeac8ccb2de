"""The served app: the HTTP API and, when asked, the web UI mounted at / on the same port.

`serve` composes them (the API's routes keep precedence over the UI's) and runs uvicorn,
blocking or in a thread for tests. Not here: the routes (`http.py`) or the page (`ui.py`).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from assistant.api import Assistant
from assistant.core.errors import AssistantError
from assistant.surfaces.http import create_app


class Server:
    """A running uvicorn server (see `serve`); `close()` stops it."""

    def __init__(self, server: Any, thread: threading.Thread | None, url: str) -> None:
        self._server, self._thread, self.url = server, thread, url

    def close(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)


def serve(bot: Assistant, host: str = "127.0.0.1", port: int = 7860, *, ui: bool = True,
          block: bool = True) -> Server:
    """Serve the API (and the web UI at /, when `ui`); block=False returns once it listens."""
    import uvicorn

    app = create_app(bot)
    if ui:  # gradio takes seconds to import: only when the page is served
        from assistant.surfaces.ui import mount_ui

        app = mount_ui(app, bot, host, port)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    if block:
        server.run()
        return Server(server, None, f"http://{host}:{port}")
    thread = threading.Thread(target=server.run, name="assistant-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssistantError(f"The server could not start on {host}:{port} (is the port in use?).")
        time.sleep(0.05)
    return Server(server, thread, f"http://{host}:{port}")

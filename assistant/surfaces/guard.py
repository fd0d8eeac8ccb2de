"""The served app's one lock: every request to `serve`, `api` or `mcp --http` passes here first.

In order: the `Host` must be a loopback name or address, the bound address, or match
ASSISTANT_ALLOWED_HOSTS (else 421: DNS rebinding); an `Origin`, when sent, must be the
server's own (else 403: cross-site requests and CSRF, preflights included); then, when
ASSISTANT_API_KEY or ASSISTANT_UI_AUTH is set, every path but /healthz and the login page
needs the bearer key or a session cookie from the login page (else 401, or a redirect to
/login for a browser's page load). The login page takes the UI login, or the key as the
password. A body is cut off with a 413 once it passes ASSISTANT_MAX_UPLOAD_MB (+1 MB of form
framing), declared or streamed. Responses carry no CORS headers and may not be framed.
Not here: the routes (`http.py`, `ui.py`, `mcp.py`) and their own input checks.
"""

from __future__ import annotations

import html
import ipaddress
import secrets
import time
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from assistant.core.errors import ConfigError
from assistant.core.settings import Settings

OPEN_PATHS = ("/healthz",)
LOGIN, LOGOUT = "/login", "/logout"
COOKIE = "assistant_session"
SESSION_S = 7 * 24 * 3600
FORM_FRAMING = 1_000_000  # bytes a multipart body may carry beyond its files
NO_FRAMING = [(b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'")]
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Log in · Partnership Assistant</title>
<style>body{{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:90vh}}
form{{display:grid;gap:.6em;width:18em}} input,button{{font:inherit;padding:.4em}}
.error{{color:#b00}}</style></head>
<body><form method="post" action="/login"><h2>Partnership Assistant</h2>{error}{user}
<label>Password <input name="password" type="password" autocomplete="current-password" required>
</label><button type="submit">Log in</button><small>{hint}</small></form></body></html>"""


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or address, no port) always means this machine."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(settings: Settings, host: str) -> str:
    """What to tell whoever binds `host` beyond loopback; "" when there is nothing to say."""
    if is_loopback(host):
        return ""
    lines = []
    if not (settings.api_key or settings.ui_auth):
        lines.append(f"WARNING: serving on {host} with neither ASSISTANT_API_KEY nor "
                     "ASSISTANT_UI_AUTH set: anyone who can reach this port can ask questions "
                     "and upload, read and delete documents. Set one (README: Security).")
    if not settings.allowed_hosts and host in ("0.0.0.0", "::"):
        lines.append("Clients must use localhost or a name in ASSISTANT_ALLOWED_HOSTS "
                     "(comma-separated); any other Host header gets 421.")
    return "\n".join(lines)


def login_pair(value: str | None) -> tuple[str, str] | None:
    """ASSISTANT_UI_AUTH as (user, password); ConfigError when it is not user:password."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not (user and sep and password):
        raise ConfigError("ASSISTANT_UI_AUTH must look like user:password.")
    return user, password


def _same(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode(), b.encode())


def _hostname(host: str) -> str:
    """The name in a Host header: no port, no brackets, lower case, no trailing dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return (host.rsplit(":", 1)[0] if host.count(":") == 1 else host).rstrip(".")


def _authority(netloc: str, scheme: str) -> str:
    netloc = netloc.strip().lower()
    default = {"http": ":80", "https": ":443"}.get(scheme, "")
    return netloc.removesuffix(default) if default else netloc


class Guard:
    """Pure ASGI middleware around the whole served app (see the module docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings, bind_host: str) -> None:
        self.app = app
        self.key = settings.api_key or None
        self.login = login_pair(settings.ui_auth)
        self.locked = bool(self.key or self.login)
        self.hosts = [h.lower() for h in settings.allowed_hosts]
        if bind_host not in ("0.0.0.0", "::", ""):
            self.hosts.append(_hostname(bind_host))
        self.max_body = int(settings.max_upload_mb * 1e6) + FORM_FRAMING
        self.sessions: dict[str, float] = {}  # token -> expiry (time.time())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host, origin, path = headers.get("host", ""), headers.get("origin"), scope["path"]
        if not host:
            return await self._refuse(scope, receive, send, 400, "The request has no Host header.",
                                      "invalid_request_error")
        if not self._host_allowed(host):
            return await self._refuse(
                scope, receive, send, 421, f"Host {host!r} is not served here (a DNS-rebinding "
                "guard): use localhost, or add the name to ASSISTANT_ALLOWED_HOSTS.",
                "misdirected_request")
        if origin is not None and not self._same_origin(origin, host):
            return await self._refuse(scope, receive, send, 403, f"Requests from the web origin "
                                      f"{origin!r} are refused: only this server's own pages may "
                                      "call it.", "forbidden")
        if self.locked and scope["type"] == "http" and path in (LOGIN, LOGOUT):
            await (self._login if path == LOGIN else self._logout)(scope, receive, send)
            return
        if self.locked and path not in OPEN_PATHS and not self._authorized(headers):
            if (scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
                    and "text/html" in headers.get("accept", "")):
                return await RedirectResponse(LOGIN, 303)(scope, receive, send)
            return await self._refuse(scope, receive, send, 401, self._how_to_authenticate(),
                                      "authentication_error")
        await self._bounded(scope, receive, send)

    # --- the checks ---------------------------------------------------------------------------
    def _host_allowed(self, host: str) -> bool:
        name = _hostname(host)
        return is_loopback(name) or any(
            p == "*" or name == p or (p.startswith("*.") and name.endswith(p[1:]))
            for p in self.hosts)

    @staticmethod
    def _same_origin(origin: str, host: str) -> bool:
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (sandboxed frames, file: pages) and anything odd
        return _authority(parts.netloc, parts.scheme) == _authority(host, parts.scheme)

    def _authorized(self, headers: Headers) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if self.key and scheme.lower() == "bearer" and _same(token.strip(), self.key):
            return True
        session = cookie_parser(headers.get("cookie", "")).get(COOKIE, "")
        return self.sessions.get(session, 0) > time.time()

    def _credentials_ok(self, user: str, password: str) -> bool:
        ok = False
        if self.login:  # both compared, so a wrong user takes as long as a wrong password
            ok = _same(user, self.login[0]) & _same(password, self.login[1])
        return ok | bool(self.key and _same(password, self.key))

    def _how_to_authenticate(self) -> str:
        if self.key:
            return ("Missing or wrong API key: send 'Authorization: Bearer <key>' with the key in "
                    "ASSISTANT_API_KEY (browsers: log in at /login).")
        return ("Log in first: this server requires its login (ASSISTANT_UI_AUTH) at /login. For "
                "programs, set ASSISTANT_API_KEY on the server and send 'Authorization: Bearer "
                "<key>'.")

    # --- responses ----------------------------------------------------------------------------
    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int,
                      message: str, kind: str) -> None:
        if scope["type"] == "websocket":
            await WebSocketClose(code=1008)(scope, receive, send)
            return
        body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
        # 413: close the connection, so the server reads no more of a body it refused
        headers = {401: {"WWW-Authenticate": "Bearer"}, 413: {"Connection": "close"}}.get(status)
        await JSONResponse(body, status, headers)(scope, receive, send)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app, its body cut off past `max_body`, its CORS headers dropped."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        too_big = (f"The request body exceeds {self.max_body / 1e6:g} MB: uploads may carry "
                   "ASSISTANT_MAX_UPLOAD_MB, plus 1 MB of form framing.")
        if declared.isdigit() and int(declared) > self.max_body:
            return await self._refuse(scope, receive, send, 413, too_big, "invalid_request_error")
        state = {"seen": 0, "over": False, "started": False}

        async def capped() -> Message:
            if state["over"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > self.max_body:  # streamed (chunked) past the limit: stop here
                    state["over"] = True
                    return {"type": "http.disconnect"}
            return message

        async def filtered(message: Message) -> None:
            if state["over"] and not state["started"]:
                return  # the app's answer to a cut-off body is replaced by the 413 below
            if message["type"] == "http.response.start":
                state["started"] = True
                kept = [(k, v) for k, v in message.get("headers", [])
                        if not k.lower().startswith(b"access-control-")]
                message = {**message, "headers": kept + NO_FRAMING}
            await send(message)

        try:
            await self.app(scope, capped, filtered)
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["started"]:
            await self._refuse(scope, receive, send, 413, too_big, "invalid_request_error")

    # --- the login page -----------------------------------------------------------------------
    def _page(self, error: str = "") -> str:
        user = ('<label>User <input name="username" autocomplete="username" required></label>'
                if self.login else "")
        hint = ("Password: the login's, or the API key." if self.login and self.key else
                "" if self.login else "Password: the API key (ASSISTANT_API_KEY).")
        shown = f'<p class="error">{html.escape(error)}</p>' if error else ""
        return PAGE.format(error=shown, user=user, hint=hint)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        wants_page = "text/html" in headers.get("accept", "")
        response: Response
        if scope["method"] in ("GET", "HEAD"):
            response = HTMLResponse(self._page())
        elif scope["method"] != "POST":
            response = Response(status_code=405, headers={"Allow": "GET, POST"})
        else:
            body = b""
            while True:  # a login form is small: 16 KB at most
                message = await receive()
                body += message.get("body", b"")
                if len(body) > 16_384 or not message.get("more_body"):
                    break
            form = parse_qs(body[:16_384].decode("utf-8", "replace"))
            user, password = (form.get(k, [""])[0] for k in ("username", "password"))
            if self._credentials_ok(user, password):
                token = secrets.token_urlsafe(32)
                self.sessions = {t: e for t, e in self.sessions.items() if e > time.time()}
                self.sessions[token] = time.time() + SESSION_S
                response = (RedirectResponse("/", 303) if wants_page
                            else JSONResponse({"success": True}))
                response.set_cookie(COOKIE, token, max_age=SESSION_S, httponly=True,
                                    samesite="lax", secure=scope.get("scheme") == "https")
            elif wants_page:
                response = HTMLResponse(self._page("Wrong user or password."), 401)
            else:
                response = JSONResponse({"error": {"message": "Wrong user or password.",
                                                   "type": "authentication_error", "param": None,
                                                   "code": None}}, 401)
        await self._respond(response, scope, receive, send)

    async def _logout(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = cookie_parser(Headers(scope=scope).get("cookie", "")).get(COOKIE, "")
        self.sessions.pop(token, None)
        response = RedirectResponse(LOGIN, 303)
        response.delete_cookie(COOKIE)
        await self._respond(response, scope, receive, send)

    @staticmethod
    async def _respond(response: Response, scope: Scope, receive: Receive,
                                send: Send) -> None:
        async def framed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *NO_FRAMING]}
            await send(message)

        await response(scope, receive, framed)

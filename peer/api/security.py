"""The rules of ARCHITECTURE "Local HTTP surface", as aiohttp middlewares.

On both ports, every request's ``Host`` must be ``127.0.0.1:<port>``, ``localhost:<port>`` or
``[::1]:<port>`` (defeats DNS rebinding); anything else is 403. On the UI/API port additionally
(credentials in :mod:`peer.api.auth`):

* every ``/api/`` request except ``GET /healthz`` needs a credential: the browser session cookie
  or the CLI bearer token;
* a state-changing request (any method but GET/HEAD) needs an ``Origin`` exactly equal to
  ``http://<the request's allowed Host>``, and either the CLI token or the session cookie plus the
  session's secret in ``X-Toktok-Secret`` (which a cross-site form cannot send), and a JSON body
  (``multipart/form-data`` only on routes declared as uploads);
* routes that take a local path accept only the CLI token, never the browser session;
* no CORS headers are ever sent; pages get a strict CSP.

The content port (``/ipfs/...``) sends ``X-Content-Type-Options: nosniff`` and
``Content-Security-Policy: sandbox`` on every response.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Middleware

from peer.api.auth import Access, ApiAuth
from peer.api.errors import (
    ApiError,
    CliOnly,
    ForbiddenHost,
    ForbiddenOrigin,
    MissingSecret,
    MissingSession,
    UnsupportedMediaType,
    describe,
)
from peer.api.headers import SECRET_HEADER, SESSION_COOKIE

__all__ = ["SECRET_HEADER", "SESSION_COOKIE"]

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD"})
PUBLIC_PATHS = frozenset({"/healthz", "/", "/login", "/static/{filename}"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class HostPolicy:
    """The port a server is bound to, known only once it is listening."""

    port: int | None = None

    def allowed_hosts(self) -> frozenset[str]:
        if self.port is None:
            return frozenset()
        return frozenset(f"{h}:{self.port}" for h in ("127.0.0.1", "localhost", "[::1]"))


@dataclass
class RoutePolicy:
    """What the security middleware needs to know about the routes (from the route table)."""

    # Canonical paths open without a credential: readiness, the page shells and their assets.
    # Everything else (every /api/ route, and any unknown path) needs one.
    public: set[str] = field(default_factory=lambda: set(PUBLIC_PATHS))
    cli_only: set[str] = field(default_factory=set)  # canonical paths taking a local path
    uploads: set[str] = field(default_factory=set)  # canonical paths accepting multipart


def error_response(exc: BaseException) -> web.Response:
    status, code, message = describe(exc)
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def host_middleware(policy: HostPolicy) -> Middleware:
    """403 for any Host outside the loopback allowlist of the bound port."""

    @web.middleware
    async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host", "")
        if host not in policy.allowed_hosts():
            return error_response(ForbiddenHost(host))
        return await handler(request)

    return check_host


def _canonical(request: web.Request) -> str:
    info = request.match_info
    route = getattr(info, "route", None)
    resource = getattr(route, "resource", None)
    return resource.canonical if resource is not None else request.path


def api_middleware(auth: ApiAuth, routes: RoutePolicy) -> Middleware:
    """Credentials for the API, Origin + secret + body type for mutations, errors as JSON."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            path = _canonical(request)
            _check(request, path, auth, routes)
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            body = {"error": {"code": exc.reason.lower().replace(" ", "_"), "message": exc.reason}}
            response = web.json_response(body, status=exc.status)
        except ApiError as exc:
            response = error_response(exc)
        except Exception as exc:
            _log_error(request, exc)
            response = error_response(exc)
        _page_headers(response)
        return response

    return guard


def _check(request: web.Request, path: str, auth: ApiAuth, routes: RoutePolicy) -> None:
    """Raise the refusal a request earns, if any (order: Origin, credential, route, body)."""
    mutation = request.method not in SAFE_METHODS
    if mutation:
        expected_origin = f"http://{request.headers.get('Host', '')}"
        origin = request.headers.get("Origin")
        if origin != expected_origin:
            raise ForbiddenOrigin(origin)
    if mutation or path not in routes.public:
        access = auth.access(request.headers, request.cookies)
        if access is Access.NONE:
            raise MissingSession()
        if access is Access.BROWSER and mutation and not auth.has_session_secret(request.headers):
            raise MissingSecret()
        if path in routes.cli_only and access is not Access.CLI:
            raise CliOnly()
    if mutation and (request.body_exists or "Content-Type" in request.headers):
        ctype = request.content_type
        if path in routes.uploads:
            if ctype != "multipart/form-data":
                raise UnsupportedMediaType("multipart/form-data")
        elif ctype != "application/json":
            raise UnsupportedMediaType("application/json")


def _log_error(request: web.Request, exc: Exception) -> None:
    """A domain error answered with a 4xx is the caller's mistake: one line at INFO. A peer,
    the chain or a timeout (502-504): one line at WARNING. Any other 5xx is ours: ERROR with
    the traceback."""
    status, code, message = describe(exc)
    where = f"{request.method} {request.path}"
    if status < 500:
        log.info("%s: %d %s: %s", where, status, code, message)
    elif status in (502, 503, 504):
        log.warning("%s: %d %s: %s", where, status, code, message)
    else:
        log.exception("%s: %d %s", where, status, code)


def _page_headers(response: web.StreamResponse) -> None:
    if response.prepared:
        return
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")


def page_csp(content_origin: str) -> str:
    """The CSP of UI pages: only our own scripts; media and images also from the content port."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob: {content_origin}",
            f"media-src 'self' blob: {content_origin}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def content_middleware() -> Middleware:
    """Headers every response of the content port carries; only GET/HEAD exist there."""

    @web.middleware
    async def content_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.method not in SAFE_METHODS:
                raise ApiError(405, "method_not_allowed", "the content port is read-only")
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            body = {"error": {"code": exc.reason.lower().replace(" ", "_"), "message": exc.reason}}
            response = web.json_response(body, status=exc.status)
        except ApiError as exc:
            response = error_response(exc)
        if not response.prepared:
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Content-Security-Policy"] = "sandbox"
        return response

    return content_headers

"""The fast path: a GET whose rendered response is in the cache is answered here, without CherryPy's request cycle.

Clients poll (Calamari's UIs every few seconds from every open browser), and a cached response costs a dict
lookup; CherryPy's cycle around it (config, tools, hooks, a Routes match) cost several times more.  So the WSGI
application the server runs is ``FastPath``: it answers a GET when, and only when, the full path would have answered
it from the cache, and hands every other request to CherryPy unchanged.

"Only when" is kept by sharing, not copying: the route comes from the dispatcher's ``RouteIndex`` (what Routes
resolved for the same path before: the fast path never matches URLs itself), the checks are the ``AccessGate``
both paths call, the cache key and the cache are the full path's, and the answers (refusals included) are the
``render`` functions the full path sends too.  A stale entry, HEAD, or a path the full path has not served yet goes
to the full path, which then answers exactly as it always did.
"""
from http.cookies import CookieError, SimpleCookie
from threading import Lock
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qs

from ..hub import Hub
from .gate import AccessGate
from .http import ApiError, ApiRequest
from .render import Answer, Renderer
from .response_cache import ResponseCache, cache_key
from .route_index import Resolved, RouteIndex

MAX_COOKIE_HEADERS = 1024   # parsed Cookie headers remembered (a polling client sends the same one every time)

StartResponse = Callable[[str, List[Tuple[str, str]]], Any]
Wsgi = Callable[[Dict[str, Any], StartResponse], Iterable[bytes]]


class FastPath:
    """WSGI application: cached GETs answered directly, everything else by ``full_path`` (CherryPy)."""

    def __init__(self, full_path: Wsgi, index: RouteIndex, gate: AccessGate, responses: ResponseCache,
                 renderer: Renderer, hub: Hub) -> None:
        self.full_path = full_path
        self._index = index
        self._gate = gate
        self._responses = responses
        self._renderer = renderer
        self._hub = hub
        self._cookies: Dict[str, Dict[str, str]] = {}
        self._header_names: Dict[str, str] = {}
        self._lock = Lock()
        self.hits = 0

    def __call__(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get('REQUEST_METHOD') == 'GET':
            resolved = self._index.get(environ.get('PATH_INFO', ''))
            if resolved is not None:
                answer = self._answer(environ, resolved)
                if answer is not None:
                    self.hits += 1
                    status, headers, body = answer
                    start_response(status, headers)
                    return [body]
        return self.full_path(environ, start_response)

    def _answer(self, environ: Dict[str, Any], resolved: Resolved) -> Optional[Answer]:
        """(status, headers, body) for a cache hit the full path would serve, or None to let it decide."""
        if self._hub.merges(resolved.route):
            return None                     # answered for every cluster now: by the full path
        try:
            request = request_from_environ(environ, self._parsed_cookies, self._header_name)
        except CookieError:
            return None
        # The cache first (no side effects): on a miss the full path runs every check, so none may run here twice
        # (a token's use is recorded, a failed one throttled).
        rendered = self._responses.peek(cache_key(resolved.route.action, request), resolved.route.cache)
        if rendered is None:
            return None
        try:
            user = self._gate.admit(request, resolved.endpoint, resolved.params)
        except ApiError as e:
            return self._renderer.refusal(e)        # as the full path would answer it
        return self._renderer.cached(rendered, request, resolved.endpoint.allow(user))

    def _header_name(self, environ_key: str) -> str:
        name = self._header_names.get(environ_key)
        if name is None:
            name = header_name(environ_key)
            if len(self._header_names) < MAX_COOKIE_HEADERS:       # (any client may invent header names)
                self._header_names[environ_key] = name
        return name

    def _parsed_cookies(self, header: str) -> Dict[str, str]:
        cookies = self._cookies.get(header)
        if cookies is None:
            cookies = {key: morsel.value for key, morsel in SimpleCookie(header).items()}
            with self._lock:
                if len(self._cookies) >= MAX_COOKIE_HEADERS:
                    self._cookies.clear()
                self._cookies[header] = cookies
        return dict(cookies)


def header_name(environ_key: str) -> str:
    """``HTTP_IF_NONE_MATCH`` → ``If-None-Match``, the names CherryPy's header map gives the full path."""
    return environ_key[5:].replace('_', '-').title()


def request_from_environ(environ: Dict[str, Any],
                         parse_cookies: Callable[[str], Dict[str, str]] = lambda header: {
                             key: morsel.value for key, morsel in SimpleCookie(header).items()},
                         name: Callable[[str], str] = header_name) -> ApiRequest:
    """The ApiRequest the full path would build for a GET (no body)."""
    headers = {name(key): value for key, value in environ.items() if key.startswith('HTTP_')}
    scheme = environ.get('wsgi.url_scheme', 'http')
    host = headers.get('Host') or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    request = ApiRequest(method='GET', path=environ.get('PATH_INFO', ''),
                         query=parse_qs(environ.get('QUERY_STRING', ''), keep_blank_values=True),
                         headers=headers, body=b'', base_url=f'{scheme}://{host}', scheme=scheme,
                         remote_addr=environ.get('REMOTE_ADDR', ''))
    if 'Cookie' in headers:
        request.cookies = parse_cookies(headers['Cookie'])
    return request

"""The fast path: a GET whose rendered response is in the cache is answered here, without CherryPy's request cycle.

Clients poll (Calamari's UIs every few seconds from every open browser), and a cached response costs a dict
lookup; CherryPy's cycle around it (config, tools, hooks, a Routes match) cost several times more.  So the WSGI
application the server runs is ``FastPath``: it answers a GET when, and only when, the full path would have answered
it from the cache, and hands every other request to CherryPy unchanged.

"Only when" is kept by running the same code, not a copy of it: the route comes from what Routes resolved for
the same path before (the fast path learns path → route from the full path and never matches URLs itself), and
authentication, the role check, the fsid check, the cache key and the responses (errors of those checks included)
are the full path's own functions.  A stale entry, HEAD, or a path the full path has not served yet goes to the full
path, which then answers exactly as it always did.
"""
from http.cookies import CookieError, SimpleCookie
from threading import Lock
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qs

from .http import ApiError, ApiRequest

MAX_LEARNED = 8192          # distinct paths remembered (an OSD list of 3000 OSDs has 3000 osd/<id> paths)
MAX_COOKIE_HEADERS = 1024   # parsed Cookie headers remembered (a polling client sends the same one every time)

StartResponse = Callable[[str, List[Tuple[str, str]]], Any]


class Learned:
    """What the full path resolved for one URL path: the endpoint, the GET route and the path parameters."""
    __slots__ = ('endpoint', 'route', 'handler', 'params')

    def __init__(self, endpoint: Any, route: Any, handler: Any, params: Dict[str, str]) -> None:
        self.endpoint = endpoint
        self.route = route
        self.handler = handler
        self.params = params


class FastPath:
    """WSGI application: cached GETs answered directly, everything else by ``app.full_path`` (CherryPy)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.full_path = app.full_path
        self._learned: Dict[str, Learned] = {}
        self._cookies: Dict[str, Dict[str, str]] = {}
        self._header_names: Dict[str, str] = {}
        self._lock = Lock()
        self.hits = 0

    def learn(self, path: str, endpoint: Any, route: Any, handler: Any, params: Dict[str, str]) -> None:
        """Called by the full path for each cacheable GET it dispatched."""
        with self._lock:
            if len(self._learned) >= MAX_LEARNED:
                self._learned.clear()
            self._learned[path] = Learned(endpoint, route, handler, dict(params))

    def __call__(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get('REQUEST_METHOD') == 'GET':
            learned = self._learned.get(environ.get('PATH_INFO', ''))
            if learned is not None:
                answer = self._answer(environ, learned)
                if answer is not None:
                    self.hits += 1
                    status, headers, body = answer
                    start_response(status, headers)
                    return [body]
        return self.full_path(environ, start_response)

    def _answer(self, environ: Dict[str, Any], learned: Learned) -> Optional[Tuple[str, List[Tuple[str, str]], bytes]]:
        """(status, headers, body) for a cache hit the full path would serve, or None to let it decide."""
        app = self.app
        try:
            request = request_from_environ(environ, self._parsed_cookies, self._header_name)
        except CookieError:
            return None
        # The cache first (no side effects): on a miss the full path runs every check, so none may run here twice
        # (a token's use is recorded, a failed one throttled).
        rendered = app.responses.peek(app.cache_key(learned.route, request), learned.handler.cache_deps)
        if rendered is None:
            return None
        try:
            user = app.check_access(learned.endpoint, learned.route, request, learned.params)
        except ApiError as e:
            status, headers, body = app.error_response(e)       # as the full path would answer it
        else:
            status, headers, body = app.rendered_response(rendered, request)
            headers.append(('Allow', learned.endpoint.allow(user)))
        headers.append(('Server', app.server_header))
        if body:
            headers.append(('Content-Length', str(len(body))))
        return status, headers, body

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

"""A tiny in-process HTTP client for a WSGI app, with a cookie jar and Calamari's login/XSRF dance."""
import io
import json
from http.cookies import SimpleCookie
from typing import Any, Dict, Optional
from urllib.parse import unquote, urlsplit


class Headers(dict):
    """Response headers, looked up case-insensitively (CherryPy title-cases names: Etag, Allow...)."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(str(key).lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        return super().setdefault(key.lower(), default)


class WsgiResponse:
    def __init__(self, status: str, headers: list, body: bytes) -> None:
        self.status_code = int(status.split()[0])
        self.headers = Headers()
        self.cookies: Dict[str, str] = {}
        for name, value in headers:
            if name.lower() == 'set-cookie':
                jar = SimpleCookie()
                jar.load(value)
                for key, morsel in jar.items():
                    self.cookies[key] = morsel.value
                self.headers.setdefault('Set-Cookie', []).append(value)
            else:
                self.headers[name] = value
        self.content = body

    def json(self) -> Any:
        return json.loads(self.content)


class ClientBase:
    """Verb helpers, a cookie jar and Calamari's login dance, over a ``request`` method.  With ``bearer`` set,
    every request carries ``Authorization: Bearer <bearer>`` (an API token)."""
    cookies: Dict[str, str]
    bearer: Optional[str] = None

    def request_headers(self, headers: Optional[Dict[str, str]]) -> Dict[str, str]:
        """The caller's headers, after the Authorization header of ``bearer``."""
        own = {'Authorization': f'Bearer {self.bearer}'} if self.bearer is not None else {}
        return {**own, **(headers or {})}

    def request(self, method: str, url: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
                raw: Optional[bytes] = None, csrf: bool = True) -> 'WsgiResponse':
        raise NotImplementedError

    def remember(self, response: 'WsgiResponse') -> 'WsgiResponse':
        for key, value in response.cookies.items():
            if value == '':
                self.cookies.pop(key, None)
            else:
                self.cookies[key] = value
        return response

    def get(self, url: str, **kw: Any) -> 'WsgiResponse':
        return self.request('GET', url, **kw)

    def post(self, url: str, body: Any = None, **kw: Any) -> 'WsgiResponse':
        return self.request('POST', url, body, **kw)

    def patch(self, url: str, body: Any = None, **kw: Any) -> 'WsgiResponse':
        return self.request('PATCH', url, body, **kw)

    def put(self, url: str, body: Any = None, **kw: Any) -> 'WsgiResponse':
        return self.request('PUT', url, body, **kw)

    def delete(self, url: str, body: Any = None, **kw: Any) -> 'WsgiResponse':
        return self.request('DELETE', url, body, **kw)

    def login(self, username: str, password: str, version: str = 'v2') -> 'WsgiResponse':
        self.get(f'/api/{version}/auth/login/')
        return self.post(f'/api/{version}/auth/login/', {'username': username, 'password': password})


class WsgiClient(ClientBase):
    def __init__(self, app: Any, host: str = 'localhost:8002', scheme: str = 'http', bearer: Optional[str] = None,
                 remote_addr: str = '127.0.0.1') -> None:
        self.app = app
        self.host = host
        self.scheme = scheme
        self.bearer = bearer
        self.remote_addr = remote_addr
        self.cookies: Dict[str, str] = {}

    def request(self, method: str, url: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
                raw: Optional[bytes] = None, csrf: bool = True) -> WsgiResponse:
        parts = urlsplit(url)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b'')
        env = {
            'REQUEST_METHOD': method, 'PATH_INFO': unquote(parts.path, 'latin-1'), 'QUERY_STRING': parts.query,
            'SERVER_NAME': 'localhost', 'SERVER_PORT': '8002', 'SERVER_PROTOCOL': 'HTTP/1.1',
            'HTTP_HOST': self.host, 'REMOTE_ADDR': self.remote_addr, 'REMOTE_PORT': '40000',
            'wsgi.url_scheme': self.scheme, 'wsgi.input': io.BytesIO(data), 'wsgi.errors': io.StringIO(),
            'wsgi.version': (1, 0), 'wsgi.multithread': True, 'wsgi.multiprocess': False,
            'wsgi.run_once': False, 'CONTENT_LENGTH': str(len(data)),
        }
        if data:
            env['CONTENT_TYPE'] = 'application/json'
        if self.cookies:
            env['HTTP_COOKIE'] = '; '.join(f'{k}={v}' for k, v in self.cookies.items())
        if csrf and method not in ('GET', 'HEAD', 'OPTIONS') and 'XSRF-TOKEN' in self.cookies:
            env['HTTP_X_XSRF_TOKEN'] = self.cookies['XSRF-TOKEN']
        for name, value in self.request_headers(headers).items():
            key = name.upper().replace('-', '_')
            env[key if key in ('CONTENT_TYPE', 'CONTENT_LENGTH') else 'HTTP_' + key] = value
        captured: Dict[str, Any] = {}

        def start_response(status: str, response_headers: list, exc_info: Any = None) -> None:
            captured['status'], captured['headers'] = status, response_headers

        chunks = self.app(env, start_response)
        body_bytes = b''.join(chunks)
        if hasattr(chunks, 'close'):
            chunks.close()
        return self.remember(WsgiResponse(captured['status'], captured['headers'], body_bytes))

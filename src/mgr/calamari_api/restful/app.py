"""The WSGI application of restful's listener: the route table, HTTP Basic keys, JSON as restful rendered it
(sorted keys, 4-space indent), errors as ``{"message": ...}``."""
import binascii
import json
import logging
import math
import traceback
from base64 import b64decode
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs

from ..audit import http_line
from ..web.gate import role_allows
from ..web.http import MAX_BODY_BYTES, SAFE_METHODS
from .controllers import Controllers, RestfulError
from .routes import ROUTES, Route

if TYPE_CHECKING:
    from ..services import Services
    from .service import Restful

log = logging.getLogger(__name__)

CHALLENGE = 'Basic realm="Login Required"'
NO_AUTH = 'auth: No HTTP username/password'
REASONS = {200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
           405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Request Entity Too Large',
           429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable'}


def render(body: Any) -> bytes:
    return json.dumps(body, sort_keys=True, indent=4, separators=(',', ': ')).encode('utf-8')


class Call:
    """One HTTP request as a controller sees it."""

    def __init__(self, method: str, path: str, query: Dict[str, List[str]], body: bytes, remote_addr: str) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.remote_addr = remote_addr
        self.role: Optional[str] = None
        self.key_name = '-'
        self.audit: Dict[str, str] = {}     # fields of the write's audit line (e.g. the commands it ran)

    def arg(self, name: str) -> Optional[str]:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode('utf-8') or 'null')
        except (ValueError, UnicodeDecodeError):
            raise RestfulError(400, 'Bad request: malformed JSON or wrong Content-Type')


def basic_credentials(header: str) -> Optional[Tuple[str, str]]:
    """(name, key) of an ``Authorization: Basic`` header, or None."""
    scheme, _, encoded = header.strip().partition(' ')
    if scheme.lower() != 'basic' or not encoded.strip():
        return None
    try:
        name, sep, key = b64decode(encoded.strip(), validate=True).decode('utf-8').partition(':')
    except (binascii.Error, ValueError):
        return None
    return (name, key) if sep else None


class RestfulApp:
    def __init__(self, services: 'Services', restful: 'Restful') -> None:
        self.services = services
        self.keys = restful.keys
        self.throttle = services.auth.throttle
        self.controllers = Controllers(services, restful.requests)
        self.routes: List[Tuple[Any, Dict[str, Route]]] = []
        by_pattern: Dict[str, Dict[str, Route]] = {}
        for route in ROUTES:
            if route.pattern not in by_pattern:
                by_pattern[route.pattern] = {}
                self.routes.append((route.regex, by_pattern[route.pattern]))
            by_pattern[route.pattern][route.method] = route

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> List[bytes]:
        headers: Dict[str, str] = {}
        try:
            status, body = self.handle(environ, headers)
        except RestfulError as e:
            status, body = e.status, {'message': e.message}
            headers.update(e.headers)
        except Exception:
            log.error('restful: unhandled error on %s %s:\n%s', environ.get('REQUEST_METHOD'),
                      environ.get('PATH_INFO'), traceback.format_exc())
            status, body = 500, {'message': 'Internal server error (the mgr log has the details)'}
        data = render(body)
        headers.update({'Content-Type': 'application/json', 'Content-Length': str(len(data))})
        start_response(f'{status} {REASONS.get(status, "Error")}', list(headers.items()))
        return [data] if environ.get('REQUEST_METHOD') != 'HEAD' else [b'']

    def handle(self, environ: Dict[str, Any], headers: Dict[str, str]) -> Tuple[int, Any]:
        method = environ.get('REQUEST_METHOD', 'GET')
        path = environ.get('PATH_INFO') or '/'
        for regex, methods in self.routes:
            match = regex.match(path)
            if match:
                break
        else:
            raise RestfulError(404, 'Not found')
        lookup = 'GET' if method == 'HEAD' else method
        if lookup not in methods:
            headers['Allow'] = ', '.join(sorted(methods))
            raise RestfulError(405, f'Method {method} not allowed')
        route = methods[lookup]
        call = Call(method, path, parse_qs(environ.get('QUERY_STRING') or '', keep_blank_values=True),
                    self.read_body(environ), environ.get('REMOTE_ADDR') or '')
        if not route.public:
            call.role = self.authenticate(environ, call)
            if not role_allows(call.role, lookup) and route.action != 'request_submit':   # (the API's rule)
                raise RestfulError(403, 'auth: this key is read-only')
        if lookup in SAFE_METHODS or route.public:
            return 200, getattr(self.controllers, route.action)(call, **match.groupdict())
        status = 500
        try:
            result = getattr(self.controllers, route.action)(call, **match.groupdict())
            status = 200
            return status, result
        except RestfulError as e:
            status = e.status
            raise
        finally:        # every write on the cluster log's audit channel, as the API's own (audit.py)
            self.services.audit.write(http_line(f'restful:{call.key_name}', call.remote_addr, method, path, status,
                                                call.audit))

    @staticmethod
    def read_body(environ: Dict[str, Any]) -> bytes:
        try:
            length = int(environ.get('CONTENT_LENGTH') or 0)
        except ValueError:
            raise RestfulError(400, 'Bad request: invalid Content-Length')
        if length > MAX_BODY_BYTES:
            raise RestfulError(413, 'Request Entity Too Large')
        stream = environ.get('wsgi.input')
        if stream is None:
            return b''
        chunked = 'chunked' in (environ.get('HTTP_TRANSFER_ENCODING') or '').lower()
        try:
            if chunked:
                data = stream.read(MAX_BODY_BYTES + 1)
                if len(data) > MAX_BODY_BYTES:
                    raise RestfulError(413, 'Request Entity Too Large')
                return data
            return stream.read(length) if length > 0 else b''
        except TimeoutError:
            raise RestfulError(408, 'Request Timeout')
        except (ValueError, OSError) as e:
            raise RestfulError(400, f'Bad request: malformed body: {e}')

    def authenticate(self, environ: Dict[str, Any], call: Call) -> str:
        """The key's role.  A right key is never refused, whatever others failed from the same address; a wrong
        one counts against the address and is answered 429 once it failed too often."""
        credentials = basic_credentials(environ.get('HTTP_AUTHORIZATION') or '')
        if credentials is None:
            raise RestfulError(401, NO_AUTH, headers={'WWW-Authenticate': CHALLENGE})
        name, key = credentials
        role = self.keys.verify(name, key)
        if role is not None:
            call.key_name = name
            return role
        throttle_key = (f'restful:{call.remote_addr}',)
        wait = self.throttle.wait(throttle_key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise RestfulError(429, f'auth: too many failed attempts, retry in {seconds} seconds',
                               headers={'Retry-After': str(seconds)})
        self.throttle.failed(throttle_key)
        known = self.keys.known(name)
        # (an unknown name is not logged: it may be a key pasted in the wrong place)
        log.warning('restful: failed authentication %s from %s', f'as {name!r}' if known else 'with an unknown name',
                    call.remote_addr)
        raise RestfulError(401, 'auth: Incorrect password' if known else 'auth: No such user',
                           headers={'WWW-Authenticate': CHALLENGE})

"""HTTP vocabulary shared by every controller: the request seen by a handler, typed errors that become
Calamari's error bodies, non-200 responses, JSON rendering and the pagination envelope."""
import json
from typing import Any, Dict, List, Mapping, Optional, Sequence
from urllib.parse import urlencode

SAFE_METHODS = ('GET', 'HEAD', 'OPTIONS')     # no CSRF check; a readonly role may use them
MAX_BODY_BYTES = 1024 * 1024

# -- errors -------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error with Calamari's status and body.  ``body`` is any JSON value, or None for an empty body."""

    def __init__(self, status: int, body: Any = None, headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(f'{status}: {body!r}')
        self.status = status
        self.body = body
        self.headers = headers or {}


def detail(status: int, message: Any) -> ApiError:
    """DRF-style ``{"detail": message}`` error."""
    return ApiError(status, {'detail': message})


def bad_request(message: Any) -> ApiError:
    return detail(400, message)


def not_found_object(kind: str, ident: Any) -> ApiError:
    """Calamari's backend NotFound: 404 with a bare JSON string body."""
    return ApiError(404, f'Object of type {kind} with id {ident} not found')


def not_found() -> ApiError:
    """Django's Http404 as DRF renders it."""
    return detail(404, 'Not found')


def permission_denied() -> ApiError:
    return detail(403, 'You do not have permission to perform this action.')


def unavailable(message: str = 'Service unavailable') -> ApiError:
    return detail(503, message)


def validation_error(errors: Dict[str, Any], status: int = 400) -> ApiError:
    """A serializer-style error dict ``{field: message or [messages]}``."""
    return ApiError(status, errors)


# -- responses ----------------------------------------------------------------------------------


class Response:
    """A handler result that is not a plain 200 with a JSON body."""

    def __init__(self, status: int, body: Any = None, headers: Optional[Dict[str, str]] = None,
                 empty: bool = False) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.empty = empty or status in (204, 304)


class RawResponse(Response):
    """A body that is not JSON (graphite's JSONP and text errors, the web apps' files)."""

    def __init__(self, raw: bytes, content_type: str, status: int = 200,
                 headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(status, None, headers)
        self.raw = raw
        self.content_type = content_type


def no_content() -> Response:
    return Response(204, empty=True)


def not_modified() -> Response:
    return Response(304, empty=True)


def render_json(value: Any) -> bytes:
    return json.dumps(value, separators=(', ', ': ')).encode('utf-8')


# -- the request a handler sees -----------------------------------------------------------------


class ApiRequest:
    """What a controller action needs to know about the HTTP request, without CherryPy objects."""

    def __init__(self, method: str, path: str, query: Mapping[str, List[str]], headers: Mapping[str, str],
                 body: bytes, base_url: str, scheme: str, user: Any = None,
                 remote_addr: str = '') -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.raw_body = body
        self.base_url = base_url      # scheme://host[:port], from the Host header
        self.scheme = scheme
        self.user = user              # set by the auth layer for authenticated routes
        self.remote_addr = remote_addr
        self.cookies: Dict[str, str] = {}
        self.set_cookies: List[Any] = []   # filled by handlers that set cookies (auth)
        self.audit: Dict[str, str] = {}    # fields a handler adds to its audit line (audit.py), values formatted

    def query_value(self, name: str, default: Optional[str] = None) -> Optional[str]:
        values = self.query.get(name)
        return values[-1] if values else default

    def has_query(self, name: str) -> bool:
        return name in self.query

    @property
    def url(self) -> str:
        return self.base_url + self.path

    @property
    def content_type(self) -> str:
        """The media type of the body, lower case, without parameters ('' when absent)."""
        return self.headers.get('Content-Type', '').split(';')[0].strip().lower()

    def json(self, default: Any = None) -> Any:
        """The body as JSON (form bodies become a dict); empty → default; malformed (whitespace only included, as
        DRF's JSON parser had it) → 400."""
        if not self.raw_body:
            return default
        if self.content_type == 'application/x-www-form-urlencoded':
            from urllib.parse import parse_qs
            form = parse_qs(self.raw_body.decode('utf-8', 'replace'), keep_blank_values=True)
            return {k: v[-1] for k, v in form.items()}
        try:
            value = json.loads(self.raw_body.decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as e:
            raise bad_request(f'JSON parse error - {e}')
        try:
            # JSON lets a string hold a lone surrogate ("\\ud800"), which is no Unicode text: passed on in a mon
            # command it crashed ceph-mgr (Pacific 16.2.15).  Such a body is refused here, before anything uses it.
            json.dumps(value, ensure_ascii=False).encode('utf-8')
        except UnicodeEncodeError:
            raise bad_request('JSON parse error - a string holds a lone surrogate (\\ud800-\\udfff), which is not '
                              'Unicode text')
        return value

    def json_object(self) -> Dict[str, Any]:
        """The body, which must be a JSON object ({} when empty)."""
        body = self.json(default={})
        if not isinstance(body, dict):
            raise bad_request('Expected a JSON object in the request body')
        return body


# -- pagination ---------------------------------------------------------------------------------

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000


def _int_param(text: str, what: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise bad_request(f'That {what} is not an integer')


def paginate(request: ApiRequest, items: Sequence[Any], max_page_size: int = MAX_PAGE_SIZE) -> Dict[str, Any]:
    """DRF 2.3's envelope ``{count, next, previous, results}`` over an already ordered sequence.

    ``page`` is 1-based; ``page_size`` defaults to 10.  Bad values get Django paginator's 400 messages
    (and, unlike Calamari, ``page_size`` <= 0 or above ``max_page_size`` is a 400 rather than a crash).
    """
    page_size = DEFAULT_PAGE_SIZE
    size_text = request.query_value('page_size')
    if size_text not in (None, ''):
        page_size = _int_param(size_text, 'page size')
        if page_size < 1:
            raise bad_request('That page size is less than 1')
        if page_size > max_page_size:
            raise bad_request(f'That page size is more than {max_page_size}')
    page_text = request.query_value('page')
    page = 1
    if page_text not in (None, ''):
        if page_text == 'last':
            page = max(1, -(-len(items) // page_size))
        else:
            page = _int_param(page_text, 'page number')
    if page < 1:
        raise bad_request('That page number is less than 1')
    count = len(items)
    pages = max(1, -(-count // page_size))
    if page > pages:
        raise bad_request('That page contains no results')
    start = (page - 1) * page_size
    return {
        'count': count,
        'next': _page_url(request, page + 1) if page < pages else None,
        'previous': _page_url(request, page - 1) if page > 1 else None,
        'results': list(items[start:start + page_size]),
    }


def _page_url(request: ApiRequest, page: int) -> str:
    pairs = [(k, v) for k, values in request.query.items() if k != 'page' for v in values]
    pairs.append(('page', str(page)))
    return f'{request.url}?{urlencode(pairs)}'

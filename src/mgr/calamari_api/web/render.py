"""The bytes of the answers both paths send without a handler's own response: a cached 200 (or its 304) and a
refusal (an ApiError raised before any handler ran)."""
from typing import List, Optional, Tuple

from cherrypy.lib import httputil

from .http import ApiError, ApiRequest, render_json
from .response_cache import GZIP_MIN_BYTES, Rendered

Answer = Tuple[str, List[Tuple[str, str]], bytes]       # (status line, headers, body)


def cached_response(rendered: Rendered, request: Optional[ApiRequest]) -> Answer:
    """A cached 200: 304 when the client has it already, gzip when it accepts it."""
    headers = [('ETag', rendered.etag), ('Vary', 'Accept-Encoding, Cookie, Authorization')]
    request_headers = request.headers if request else {}
    if rendered.etag in (request_headers.get('If-None-Match') or '').replace(' ', '').split(','):
        return '304 Not Modified', headers, b''
    headers.append(('Content-Type', 'application/json'))
    if len(rendered.body) >= GZIP_MIN_BYTES and 'gzip' in (request_headers.get('Accept-Encoding') or ''):
        headers.append(('Content-Encoding', 'gzip'))
        return '200 OK', headers, rendered.gzipped
    return '200 OK', headers, rendered.body


def error_response(error: ApiError) -> Answer:
    """What the full path sends for an ApiError raised before a handler ran."""
    status = '%d %s' % httputil.valid_status(error.status)[:2]
    headers = list(error.headers.items())
    if error.body is None:
        return status, headers, b''
    return status, headers + [('Content-Type', 'application/json')], render_json(error.body)


class Renderer:
    """The fast path's answers, with the headers CherryPy adds to the full path's (Server, Content-Length)."""

    def __init__(self, server_header: str) -> None:
        self.server_header = server_header

    def cached(self, rendered: Rendered, request: ApiRequest, allow: str) -> Answer:
        status, headers, body = cached_response(rendered, request)
        return self._finish(status, headers + [('Allow', allow)], body)

    def refusal(self, error: ApiError) -> Answer:
        return self._finish(*error_response(error))

    def _finish(self, status: str, headers: List[Tuple[str, str]], body: bytes) -> Answer:
        headers.append(('Server', self.server_header))
        if body:
            headers.append(('Content-Length', str(len(body))))
        return status, headers, body

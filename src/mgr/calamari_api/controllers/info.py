"""Calamari resource: info (and the API root)."""
import socket
from typing import Any, Dict, Optional

from . import BaseController
from ..openapi import build_document
from ..web.http import ApiRequest, bad_request
from ..web.response_cache import Rendered
from ..version import VERSION
from ..views.cluster import info_object


def _resolve(fn: Any) -> Optional[str]:
    try:
        return fn() or None
    except OSError:
        return None


class InfoController(BaseController):
    _document: Optional[Dict[str, Any]] = None
    _fixed: Dict[int, Rendered] = {}

    def get(self, request: ApiRequest) -> Any:
        try:
            ipaddr: Optional[str] = self.services.mgr.get_mgr_ip()
        except Exception:
            ipaddr = None
        return info_object(VERSION, _resolve(socket.gethostname), _resolve(socket.getfqdn), ipaddr,
                           request.base_url)

    def openapi(self, request: ApiRequest) -> Any:
        """The OpenAPI 3 document of this API, generated from the route table (no login needed)."""
        if self._document is None:
            self._document = build_document(self.registry)
        return self._document

    def bench_fixed(self, request: ApiRequest) -> Any:
        """Benchmark contrast (routed only when the module starts with bench_fixed_body on, see
        routes.BENCH_ROUTES): a fixed JSON body of ``?size=`` bytes, through the same dispatch, session and cache path
        as every GET."""
        try:
            size = min(max(int(request.query_value('size') or 100000), 2), 16 * 1024 * 1024)
        except ValueError:
            raise bad_request('size must be an integer')
        if size not in self._fixed:
            self._fixed = {size: Rendered('x' * (size - 2))}
        return self._fixed[size]

    def api_root(self, request: ApiRequest) -> Any:
        base = request.url.rstrip('/')          # .../api/v1 or .../api/v2
        return {'user': f'{base}/user', 'cluster': f'{base}/cluster'}


CONTROLLER = InfoController

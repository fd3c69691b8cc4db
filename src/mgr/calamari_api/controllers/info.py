"""Calamari resource: info (and the API root)."""
import socket
from typing import Any, Dict, Optional

from . import BaseController
from ..openapi import build_document
from ..http import ApiRequest
from ..version import VERSION
from ..views.cluster import info_object


def _resolve(fn: Any) -> Optional[str]:
    try:
        return fn() or None
    except OSError:
        return None


class InfoController(BaseController):
    _document: Optional[Dict[str, Any]] = None

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

    def api_root(self, request: ApiRequest) -> Any:
        base = f'{request.base_url}/api/v2'
        return {'user': f'{base}/user', 'cluster': f'{base}/cluster'}


CONTROLLER = InfoController

"""Calamari resource: grains (API-REFERENCE §4.2, §4.20): host facts in salt grain names."""
from typing import Any, Dict, List

from . import BaseController
from ..web.http import ApiError, ApiRequest
from ..local_host import local_grains
from ..views.server import metadata_grains


class GrainsController(BaseController):
    def local(self, request: ApiRequest) -> Any:
        """The mgr's own host, from the local system."""
        return local_grains(self.services.hosts.local_fqdn())

    def server(self, request: ApiRequest, fqdn: str) -> Any:
        hosts = self.services.hosts
        host = hosts.get(fqdn)
        metadata = self._metadata(host) if host else {}
        if not metadata:
            raise ApiError(404, None)          # Calamari: no grains → 404 with an empty body
        grains = metadata_grains(fqdn, metadata, self._addresses(host))
        if fqdn == hosts.local_fqdn():
            grains.update(local_grains(fqdn))   # the mgr's own host: the system knows more (num_cpus, ...)
        return grains

    def _metadata(self, host: Any) -> Dict[str, str]:
        """The first daemon on the host whose metadata the mgr has (mon, then osd, mds, mgr)."""
        for service in host.services:
            try:
                meta = self.services.mgr.get_metadata(service.type, service.id)
            except Exception:
                meta = None
            if meta:
                return meta
        return {}

    @staticmethod
    def _addresses(host: Any) -> List[str]:
        return [a for a in (host.frontend_addr, host.backend_addr) if a]


CONTROLLER = GrainsController

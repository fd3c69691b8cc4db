"""Calamari resource: server (API-REFERENCE §4.20): hosts known from daemon metadata and the OSD map."""
from typing import Any, Callable, Dict, List

from . import BaseController
from ..web.http import ApiRequest, no_content, not_found_object
from ..views import v1
from ..views.server import Host, cluster_server_object, server_object


class ServerController(BaseController):
    def _render(self, host: Host, make: Callable[..., Dict[str, Any]]) -> Dict[str, Any]:
        hosts = self.services.hosts
        managed = hosts.managed(host)
        return make(host, self.cluster.fsid, managed, hosts.last_contact(host.fqdn) if managed else None,
                    hosts.boot_time(host.fqdn) if managed else None)

    def _host(self, fqdn: str) -> Host:
        host = self.services.hosts.get(fqdn)
        if host is None:
            raise not_found_object('server', fqdn)
        return host

    def _all(self, make: Callable[..., Dict[str, Any]]) -> List[Dict[str, Any]]:
        return [self._render(host, make) for _, host in sorted(self.services.hosts.hosts().items())]

    def list(self, request: ApiRequest) -> Any:
        return self._all(server_object)

    def get(self, request: ApiRequest, fqdn: str) -> Any:
        return self._render(self._host(fqdn), server_object)

    def forget(self, request: ApiRequest, fqdn: str) -> Any:
        self._host(fqdn)
        self.services.hosts.forget(fqdn)
        self.services.event_generator.forget_server(fqdn)
        return no_content()

    def cluster_list(self, request: ApiRequest, fsid: str) -> Any:
        # One cluster per mgr: every host's services belong to this fsid.
        return self._all(cluster_server_object)

    def cluster_get(self, request: ApiRequest, fsid: str, fqdn: str) -> Any:
        return self._render(self._host(fqdn), cluster_server_object)

    def v1_cluster_list(self, request: ApiRequest, any_fsid: str) -> Any:
        """v1: each host's name (``addr``, which the graph wall uses in graphite paths) and its services; as in
        Calamari, an fsid that is not this cluster's gives ``[]``."""
        if any_fsid != self.cluster.fsid:
            return []
        return [v1.server_object(fqdn, [(s.type, s.id) for s in host.services])
                for fqdn, host in sorted(self.services.hosts.hosts().items())]


CONTROLLER = ServerController

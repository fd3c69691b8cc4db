"""Calamari resource: server."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class ServerController(BaseController):
    def list(self, request: ApiRequest) -> Any:
        raise pending('server.list')

    def get(self, request: ApiRequest, fqdn: str) -> Any:
        raise pending('server.get')

    def forget(self, request: ApiRequest, fqdn: str) -> Any:
        raise pending('server.forget')

    def cluster_list(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('server.cluster_list')

    def cluster_get(self, request: ApiRequest, fsid: str, fqdn: str) -> Any:
        raise pending('server.cluster_get')


CONTROLLER = ServerController

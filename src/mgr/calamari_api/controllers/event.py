"""Calamari resource: event."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class EventController(BaseController):
    def list(self, request: ApiRequest) -> Any:
        raise pending('event.list')

    def cluster_list(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('event.cluster_list')

    def server_list(self, request: ApiRequest, fqdn: str) -> Any:
        raise pending('event.server_list')


CONTROLLER = EventController

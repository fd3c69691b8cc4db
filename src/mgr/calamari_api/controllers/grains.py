"""Calamari resource: grains."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class GrainsController(BaseController):
    def local(self, request: ApiRequest) -> Any:
        raise pending('grains.local')

    def server(self, request: ApiRequest, fqdn: str) -> Any:
        raise pending('grains.server')


CONTROLLER = GrainsController

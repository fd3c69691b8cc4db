"""Calamari resource: osd_config."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class OsdConfigController(BaseController):
    def get(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('osd_config.get')

    def update(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('osd_config.update')


CONTROLLER = OsdConfigController

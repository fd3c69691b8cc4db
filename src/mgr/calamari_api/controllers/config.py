"""Calamari resource: config."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class ConfigController(BaseController):
    def list(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('config.list')

    def get(self, request: ApiRequest, fsid: str, key: str) -> Any:
        raise pending('config.get')


CONTROLLER = ConfigController

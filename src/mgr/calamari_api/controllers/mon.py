"""Calamari resource: mon."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class MonController(BaseController):
    def list(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('mon.list')

    def get(self, request: ApiRequest, fsid: str, mon_id: str) -> Any:
        raise pending('mon.get')

    def status(self, request: ApiRequest, fsid: str, mon_id: str) -> Any:
        raise pending('mon.status')


CONTROLLER = MonController

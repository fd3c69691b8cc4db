"""Calamari resource: sync_object."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class SyncObjectController(BaseController):
    def list(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('sync_object.list')

    def get(self, request: ApiRequest, fsid: str, sync_type: str) -> Any:
        raise pending('sync_object.get')


CONTROLLER = SyncObjectController

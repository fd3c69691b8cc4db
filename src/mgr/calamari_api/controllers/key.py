"""Calamari resource: key."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class KeyController(BaseController):
    def list(self, request: ApiRequest) -> Any:
        raise pending('key.list')

    def bulk_update(self, request: ApiRequest) -> Any:
        raise pending('key.bulk_update')

    def bulk_delete(self, request: ApiRequest) -> Any:
        raise pending('key.bulk_delete')

    def get(self, request: ApiRequest, minion_id: str) -> Any:
        raise pending('key.get')

    def update(self, request: ApiRequest, minion_id: str) -> Any:
        raise pending('key.update')

    def delete(self, request: ApiRequest, minion_id: str) -> Any:
        raise pending('key.delete')


CONTROLLER = KeyController

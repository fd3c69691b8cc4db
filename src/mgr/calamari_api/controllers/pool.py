"""Calamari resource: pool."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class PoolController(BaseController):
    def list(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('pool.list')

    def create(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('pool.create')

    def get(self, request: ApiRequest, fsid: str, pool_id: str) -> Any:
        raise pending('pool.get')

    def update(self, request: ApiRequest, fsid: str, pool_id: str) -> Any:
        raise pending('pool.update')

    def delete(self, request: ApiRequest, fsid: str, pool_id: str) -> Any:
        raise pending('pool.delete')


CONTROLLER = PoolController

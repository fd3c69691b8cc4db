"""Calamari resource: pool."""
from typing import Any, Dict

from . import BaseController, pending
from .maps import effective_config
from ..http import ApiRequest, accepted, not_found_object
from ..operations import pool as pool_ops


class PoolController(BaseController):
    def list(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('pool.list')

    def _write_context(self) -> pool_ops.PoolContext:
        return pool_ops.PoolContext(self.cluster.source('osd_map'), self.cluster.source('osd_map_crush'),
                                    effective_config(self.services) or self.cluster.source('config'))

    def _raw_pool(self, ctx: pool_ops.PoolContext, pool_id: str) -> Dict[str, Any]:
        pool = ctx.pool(int(pool_id))
        if pool is None:
            raise not_found_object('pool', pool_id)
        return pool

    def create(self, request: ApiRequest, fsid: str) -> Any:
        operation = pool_ops.create_operation(request.json_object(), self._write_context(), fsid)
        return accepted(self.services.requests.submit(operation))

    def get(self, request: ApiRequest, fsid: str, pool_id: str) -> Any:
        raise pending('pool.get')

    def update(self, request: ApiRequest, fsid: str, pool_id: str) -> Any:
        ctx = self._write_context()
        self._raw_pool(ctx, pool_id)
        operation = pool_ops.update_operation(int(pool_id), request.json_object(), ctx, fsid)
        return accepted(self.services.requests.submit(operation))

    def delete(self, request: ApiRequest, fsid: str, pool_id: str) -> Any:
        """A JSON body (Calamari's UI sends ``{"id": N}``) is accepted and ignored."""
        request.json(default=None)
        pool = self._raw_pool(self._write_context(), pool_id)
        return accepted(self.services.requests.submit(pool_ops.delete_operation(pool, fsid)))


CONTROLLER = PoolController

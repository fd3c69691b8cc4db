"""Calamari resource: pool."""
from typing import Any, Dict

from . import BaseController
from ..derived import effective_config, osd_map_view
from ..web.http import ApiError, ApiRequest, not_found_object
from ..operations import pool as pool_ops
from ..views import v1
from ..views.pool import NoCrushRules, pool_defaults


def find_pool(cluster: Any, pool_id: Any) -> Dict[str, Any]:
    """The pool object (views/pool.py) or Calamari's 404 ``"Object of type pool with id N not found"``."""
    pool = osd_map_view(cluster).pool_by_id.get(int(pool_id))
    if pool is None:
        raise not_found_object('pool', pool_id)
    return pool


class PoolController(BaseController):
    def list(self, request: ApiRequest, fsid: str) -> Any:
        """Every pool, by id; with ``?defaults`` (a presence flag) the defaults for a new pool instead."""
        if request.has_query('defaults'):
            return self.defaults()
        return osd_map_view(self.cluster).pools

    def defaults(self) -> Any:
        config = effective_config(self.services)
        if not config:
            raise ApiError(503, 'Cluster configuration unavailable')
        try:
            return pool_defaults(config, osd_map_view(self.cluster).rulesets)
        except NoCrushRules:
            raise ApiError(503, 'No CRUSH rules exist, pool creation is impossible')

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
        return operation

    def get(self, request: ApiRequest, fsid: str, pool_id: str) -> Any:
        return find_pool(self.cluster, pool_id)

    def update(self, request: ApiRequest, fsid: str, pool_id: str) -> Any:
        ctx = self._write_context()
        self._raw_pool(ctx, pool_id)
        operation = pool_ops.update_operation(int(pool_id), request.json_object(), ctx, fsid)
        return operation

    def delete(self, request: ApiRequest, fsid: str, pool_id: str) -> Any:
        """A JSON body (Calamari's UI sends ``{"id": N}``) is accepted and ignored."""
        request.json(default=None)
        pool = self._raw_pool(self._write_context(), pool_id)
        return pool_ops.delete_operation(pool, fsid)

    # -- v1 (Calamari 1.3: the dashboard's pool card) ----------------------------------------------
    def v1_list(self, request: ApiRequest, fsid: str) -> Any:
        """Each pool's id, name, quotas and usage (``used_bytes``/``used_objects`` from the PG map)."""
        return v1.pool_list((self.cluster.source('osd_map') or {}).get('pools', []),
                            self.cluster.source('pool_stats'), fsid)

    def v1_get(self, request: ApiRequest, fsid: str, pool_id: str) -> Any:
        pools = [p for p in (self.cluster.source('osd_map') or {}).get('pools', []) if p['pool'] == int(pool_id)]
        if not pools:
            raise not_found_object('pool', pool_id)
        return v1.pool_list(pools, self.cluster.source('pool_stats'), fsid)[0]


CONTROLLER = PoolController

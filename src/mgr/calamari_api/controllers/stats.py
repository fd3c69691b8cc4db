"""Calamari resource: pool and cluster statistics (Calamari master's ``pool/stats``, ``pool/<id>/stats``,
``stats``; Calamari 1.3's v1 ``space``), from the mgr's PG map instead of a librados job on a mon host or
graphite; see views/stats.py."""
from typing import Any

from . import BaseController
from ..web.http import ApiRequest, not_found_object, unavailable
from ..views import v1
from ..views.stats import cluster_stats, pool_stat_objects

UNAVAILABLE = 'Cluster statistics are not available yet (the mgr has no PG map)'


class StatsController(BaseController):
    def _sources(self) -> Any:
        pool_stats, df = self.cluster.source('pool_stats'), self.cluster.source('df')
        if not df or pool_stats is None:
            raise unavailable(UNAVAILABLE)
        return pool_stats, df

    def _osd_map_pools(self) -> Any:
        return (self.cluster.source('osd_map') or {}).get('pools', [])

    def pools(self, request: ApiRequest, fsid: str) -> Any:
        pool_stats, df = self._sources()
        return pool_stat_objects(self._osd_map_pools(), pool_stats, df)

    def pool(self, request: ApiRequest, fsid: str, pool_id: str) -> Any:
        pool = next((p for p in self._osd_map_pools() if p['pool'] == int(pool_id)), None)
        if pool is None:
            raise not_found_object('pool', pool_id)
        pool_stats, df = self._sources()
        return pool_stat_objects([pool], pool_stats, df)[0]

    def totals(self, request: ApiRequest, fsid: str) -> Any:
        pool_stats, df = self._sources()
        return cluster_stats(df, pool_stats)

    def space(self, request: ApiRequest, any_fsid: str) -> Any:
        """v1 ``space``: used, capacity and free bytes from ``ceph df``; as in Calamari, an fsid that is not this
        cluster's (or no PG map yet) gives nulls, not an error."""
        df = self.cluster.source('df') if any_fsid == self.cluster.fsid else None
        return v1.space_object(df)


CONTROLLER = StatsController

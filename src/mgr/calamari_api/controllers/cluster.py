"""Calamari resource: cluster."""
from typing import Any

from . import BaseController, cached_by, pending
from ..http import ApiRequest
from ..views.cluster import cluster_object


# update_time moves with every map notification
UPDATE_SOURCES = ('osd_map', 'mon_map', 'health', 'pg_summary', 'fs_map', 'config')


class ClusterController(BaseController):
    def _object(self) -> Any:
        cluster = self.cluster
        return cluster_object(cluster.fsid, cluster.name, cluster.update_time)

    @cached_by(*UPDATE_SOURCES)
    def list(self, request: ApiRequest) -> Any:
        return [self._object()]

    def get(self, request: ApiRequest, fsid: str) -> Any:
        return self._object()

    def forget(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('cluster.forget')


CONTROLLER = ClusterController

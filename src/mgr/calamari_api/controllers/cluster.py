"""Calamari resource: cluster."""
from typing import Any

from . import BaseController, cached_by
from ..http import ApiRequest, no_content
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
        """204: forget what was cached and recorded about the cluster (finished requests, events), then
        re-detect it from the live maps at once."""
        self.services.requests.forget_finished()
        events = getattr(self.services, 'events', None)
        if events is not None and hasattr(events, 'forget_cluster'):
            events.forget_cluster(fsid)
        self.cluster.invalidate_all()
        self.cluster.source('mon_map')
        return no_content()


CONTROLLER = ClusterController

"""Calamari resource: cluster."""
from typing import Any

from . import BaseController
from ..web.http import ApiRequest, no_content
from ..views import v1
from ..views.cluster import cluster_object


class ClusterController(BaseController):
    def _object(self) -> Any:
        cluster = self.cluster
        return cluster_object(cluster.fsid, cluster.name, cluster.update_time)

    def list(self, request: ApiRequest) -> Any:
        return [self._object()]

    def get(self, request: ApiRequest, fsid: str) -> Any:
        return self._object()

    # -- v1 (Calamari 1.3; the dashboard polls cluster/<fsid> as a heartbeat) -----------------------
    def _v1_object(self) -> Any:
        cluster = self.cluster
        return v1.cluster_object(cluster.fsid, cluster.name, cluster.update_timestamp)

    def v1_list(self, request: ApiRequest) -> Any:
        return [self._v1_object()]

    def v1_get(self, request: ApiRequest, fsid: str) -> Any:
        """``cluster_update_time_unix`` is in milliseconds (the dashboard compares it with ``Date.now()``)."""
        return self._v1_object()

    def forget(self, request: ApiRequest, fsid: str) -> Any:
        """204: forget what was cached and recorded about the cluster (finished requests, events), then
        re-detect it from the live maps at once."""
        self.services.requests.forget_finished()
        self.services.events.forget_cluster(fsid)
        self.cluster.invalidate_all()
        self.cluster.source('mon_map')
        return no_content()


CONTROLLER = ClusterController

"""Calamari resource: cluster."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest
from ..views.cluster import cluster_object


class ClusterController(BaseController):
    def _object(self) -> Any:
        cluster = self.cluster
        return cluster_object(cluster.fsid, cluster.name, cluster.update_time)

    def list(self, request: ApiRequest) -> Any:
        return [self._object()]

    def get(self, request: ApiRequest, fsid: str) -> Any:
        return self._object()

    def forget(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('cluster.forget')


CONTROLLER = ClusterController

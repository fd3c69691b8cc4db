"""Calamari resource: sync_object — the raw maps Calamari mirrored, in Ceph's own JSON.

``mds_map`` is Pacific's FSMap; ``osd_map`` carries Calamari's additions (tree, crush, crush_map_text,
osd_metadata); ``health`` gains Calamari's ``overall_status``; ``config`` is the merged configuration of
``config`` (see controllers/config.py); ``quorum_status`` is the mon command's output.  A map the mgr does
not hold yet is ``null``; an unknown type is a 404.
"""
from typing import Any, Callable, Dict, Optional

from . import BaseController
from ..derived import OSD_MAP_DEPS, CrushMapUnavailable, crush_map_text, effective_config, quorum_status
from ..web.http import ApiRequest, not_found
from ..views import sync_object as views
from ..views.config import redacted


class SyncObjectController(BaseController):
    def _osd_map(self) -> Optional[Dict[str, Any]]:
        cluster = self.cluster

        def build() -> Optional[Dict[str, Any]]:
            try:
                text: Optional[str] = crush_map_text(self.services)
            except CrushMapUnavailable:
                text = None
            osd_map, tree, crush, metadata = (cluster.source(name) for name in OSD_MAP_DEPS)
            return views.osd_map_object(osd_map, tree, crush, text, metadata)
        return cluster.derived('sync_object:osd_map', OSD_MAP_DEPS, build)

    def _getters(self) -> Dict[str, Callable[[], Any]]:
        source = self.cluster.source
        return {
            'mds_map': lambda: source('fs_map'),
            'osd_map': self._osd_map,
            'mon_map': lambda: source('mon_map'),
            'mon_status': lambda: source('mon_status'),
            'quorum_status': lambda: quorum_status(self.services),
            'pg_summary': lambda: source('pg_summary'),
            'health': lambda: views.health_object(source('health')),
            'config': lambda: redacted(effective_config(self.services)),       # secrets redacted
        }

    def list(self, request: ApiRequest, fsid: str) -> Any:
        return views.sync_type_names()

    def get(self, request: ApiRequest, fsid: str, sync_type: str) -> Any:
        getter = self._getters().get(sync_type)
        if getter is None:
            raise not_found()
        return getter()


CONTROLLER = SyncObjectController

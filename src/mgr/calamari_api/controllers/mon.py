"""Calamari resource: mon.

The list comes from the monmap, quorum membership from the mgr's ``mon_status``, the leader from
``quorum_status`` (cached per mon map/status change).  ``mon/<name>/status`` is built from the ``mon_status``
the mgr holds (views/mon.py ``mon_status_of``): Pacific does not let a mgr module ask a particular mon for its
own status (targeted commands are refused with EACCES).
"""
from typing import Any, Dict, List

from . import BaseController
from ..derived import quorum_status
from ..web.http import ApiRequest, not_found
from ..views.mon import mon_objects, mon_status_of


class MonController(BaseController):
    def _mons(self) -> List[Dict[str, Any]]:
        cluster = self.cluster
        if cluster.source('mon_status') is None:
            raise not_found()

        def build() -> List[Dict[str, Any]]:
            leader = (quorum_status(self.services) or {}).get('quorum_leader_name')
            hostnames = {name: (meta or {}).get('hostname')
                         for name, meta in (cluster.source('mon_metadata') or {}).items()}
            return mon_objects(cluster.source('mon_map'), cluster.source('mon_status'), leader, hostnames)
        return cluster.derived('mon_list', ('mon_map', 'mon_status', 'mon_metadata'), build)

    def _mon(self, mon_id: str) -> Dict[str, Any]:
        for mon in self._mons():
            if mon['name'] == mon_id:
                return mon
        raise not_found()

    def list(self, request: ApiRequest, fsid: str) -> Any:
        return self._mons()

    def get(self, request: ApiRequest, fsid: str, mon_id: str) -> Any:
        return self._mon(mon_id)

    def status(self, request: ApiRequest, fsid: str, mon_id: str) -> Any:
        mon = self._mon(mon_id)
        return mon_status_of(self.cluster.source('mon_status') or {}, mon)


CONTROLLER = MonController

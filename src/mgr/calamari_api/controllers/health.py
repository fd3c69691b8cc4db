"""Calamari resource: health (v1 only): ``cluster/<fsid>/health`` (the health report in Calamari 1.3's shape)
and ``cluster/<fsid>/health_counters`` (OSD, mon, MDS and PG states as ok/warn/critical), see views/v1.py."""
from typing import Any

from . import BaseController
from ..web.http import ApiRequest
from ..views import v1


class HealthController(BaseController):
    def report(self, request: ApiRequest, fsid: str) -> Any:
        """``report.overall_status`` and ``report.summary[{severity, summary}]`` from today's health checks
        (``report`` is null until the mgr has a health report)."""
        cluster = self.cluster
        return v1.health_object(cluster.source('health'), cluster.update_timestamp)

    def counters(self, request: ApiRequest, fsid: str) -> Any:
        """OSDs by up/in, mons by quorum membership, MDS daemons by up/in, PGs by Calamari's state classes."""
        cluster = self.cluster
        return v1.health_counters(cluster.source('osd_map'), cluster.source('mon_status'), cluster.source('fs_map'),
                                  cluster.source('pg_summary'), cluster.update_timestamp)


CONTROLLER = HealthController

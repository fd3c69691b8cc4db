"""Calamari resource: osd_config."""
from typing import Any

from . import BaseController, cached_by
from ..derived import OSD_MAP_DEPS, osd_map_view
from ..http import ApiRequest, accepted, not_modified
from ..operations.osd import flags_operation


class OsdConfigController(BaseController):
    @cached_by(*OSD_MAP_DEPS)
    def get(self, request: ApiRequest, fsid: str) -> Any:
        return osd_map_view(self.cluster).flags

    def update(self, request: ApiRequest, fsid: str) -> Any:
        operation = flags_operation(request.json_object(), self.cluster.source('osd_map'), self.cluster.name, fsid)
        if operation is None:
            return not_modified()
        return accepted(self.submit_request(request, operation))


CONTROLLER = OsdConfigController

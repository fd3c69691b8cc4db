"""Calamari resource: osd_config."""
from typing import Any

from . import BaseController
from ..derived import osd_map_view
from ..web.http import ApiRequest, not_modified
from ..operations.osd import flags_operation


class OsdConfigController(BaseController):
    def get(self, request: ApiRequest, fsid: str) -> Any:
        return osd_map_view(self.cluster).flags

    def update(self, request: ApiRequest, fsid: str) -> Any:
        operation = flags_operation(request.json_object(), self.cluster.source('osd_map'), self.cluster.name, fsid)
        if operation is None:
            return not_modified()
        return operation


CONTROLLER = OsdConfigController

"""Calamari resource: osd."""
from typing import Any, Dict

from . import BaseController, cached_by
from ..derived import OSD_MAP_DEPS, osd_map_view
from ..http import ApiError, ApiRequest, accepted, not_found_object, not_modified
from ..operations import osd as osd_ops
from ..views.osd import OSD_COMMANDS


def find_osd(cluster: Any, osd_id: Any) -> Dict[str, Any]:
    """The OSD object (views/osd.py) or Calamari's 404 ``"Object of type osd with id N not found"``."""
    osd = osd_map_view(cluster).osd_by_id.get(int(osd_id))
    if osd is None:
        raise not_found_object('osd', osd_id)
    return osd


class OsdController(BaseController):
    @cached_by(*OSD_MAP_DEPS)
    def list(self, request: ApiRequest, fsid: str) -> Any:
        """Filters: ``?pool=<id>`` (OSDs the pool's rule can use) and repeated ``?id__in[]=<id>``; always
        sorted by id (Calamari's UI relies on it)."""
        view = osd_map_view(self.cluster)
        osds = view.osds
        pool_text = request.query_value('pool')
        if pool_text:
            try:
                pool_id = int(pool_text)
            except ValueError:
                raise ApiError(400, 'Pool ID must be an integer')
            if pool_id not in view.pool_by_id:
                raise not_found_object('pool', pool_id)
            osds = view.osds_for_pool(pool_id)
        id_texts = request.query.get('id__in[]', []) + request.query.get('id__in', [])
        if id_texts:
            try:
                wanted = {int(text) for text in id_texts}
            except ValueError:
                raise ApiError(400, 'Invalid OSD ID in list')
            osds = [osd for osd in osds if osd['id'] in wanted]
        return osds

    def implemented_commands(self, request: ApiRequest, fsid: str) -> Any:
        return list(OSD_COMMANDS)

    @cached_by(*OSD_MAP_DEPS)
    def get(self, request: ApiRequest, fsid: str, osd_id: str) -> Any:
        osd = osd_map_view(self.cluster).osd_by_id.get(int(osd_id))
        if osd is None:
            raise not_found_object('osd_map', ['osds_by_id', int(osd_id)])
        return osd

    def update(self, request: ApiRequest, fsid: str, osd_id: str) -> Any:
        osd = osd_ops.find_osd(self.cluster.source('osd_map'), int(osd_id))
        if osd is None:
            raise not_found_object('osd', osd_id)
        operation = osd_ops.update_operation(osd, request.json_object(), self.cluster.name, fsid)
        if operation is None:
            return not_modified()
        return accepted(self.services.requests.submit(operation))

    @cached_by(*OSD_MAP_DEPS)
    def valid_commands(self, request: ApiRequest, fsid: str, osd_id: str) -> Any:
        osd = find_osd(self.cluster, osd_id)
        return {str(osd['id']): {'valid_commands': osd['valid_commands']}}

    def validate_command(self, request: ApiRequest, fsid: str, osd_id: str, command: str) -> Any:
        return {'valid': command in find_osd(self.cluster, osd_id)['valid_commands']}

    def apply_command(self, request: ApiRequest, fsid: str, osd_id: str, command: str) -> Any:
        osd = osd_ops.find_osd(self.cluster.source('osd_map'), int(osd_id))
        operation = osd_ops.command_operation(osd, int(osd_id), command, self.cluster.name)
        return accepted(self.services.requests.submit(operation))


CONTROLLER = OsdController

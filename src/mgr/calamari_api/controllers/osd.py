"""Calamari resource: osd."""
from typing import Any, Dict

from . import BaseController
from ..derived import osd_map_view
from ..web.http import ApiError, ApiRequest, not_found_object, not_modified
from ..operations import osd as osd_ops
from ..views import v1
from ..views.osd import OSD_COMMANDS


def find_osd(cluster: Any, osd_id: Any) -> Dict[str, Any]:
    """The OSD object (views/osd.py) or Calamari's 404 ``"Object of type osd with id N not found"``."""
    osd = osd_map_view(cluster).osd_by_id.get(int(osd_id))
    if osd is None:
        raise not_found_object('osd', osd_id)
    return osd


class OsdController(BaseController):
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
        return operation

    def valid_commands(self, request: ApiRequest, fsid: str, osd_id: str) -> Any:
        osd = find_osd(self.cluster, osd_id)
        return {str(osd['id']): {'valid_commands': osd['valid_commands']}}

    def validate_command(self, request: ApiRequest, fsid: str, osd_id: str, command: str) -> Any:
        return {'valid': command in find_osd(self.cluster, osd_id)['valid_commands']}

    def apply_command(self, request: ApiRequest, fsid: str, osd_id: str, command: str) -> Any:
        osd = osd_ops.find_osd(self.cluster.source('osd_map'), int(osd_id))
        operation = osd_ops.command_operation(osd, int(osd_id), command, self.cluster.name)
        return operation

    # -- v1 (Calamari 1.3: the dashboard's OSD poll and the workbench) -----------------------------
    def v1_list(self, request: ApiRequest, fsid: str) -> Any:
        """``{osds, pg_state_counts}``: each OSD with ``up``/``in`` as 0/1, its PG states (``pg_states``), the
        names of the pools it can hold and its host; ``pg_state_counts`` counts OSDs per PG state.  With no
        OSDs or no PG states yet: Calamari's ``202 []``."""
        view = osd_map_view(self.cluster)
        pool_names = {pool['id']: pool['name'] for pool in view.pools}
        result = v1.osd_list(view.osd_map.get('osds', []), (self.cluster.source('pg_summary') or {}).get('by_osd'),
                             {o['id']: [pool_names[p] for p in o['pools'] if p in pool_names] for o in view.osds},
                             {o['id']: o['server'] for o in view.osds})
        if result is None:
            raise ApiError(202, [])     # (raised, so that the response cache keeps no entry for it)
        return result

    def v1_get(self, request: ApiRequest, fsid: str, osd_id: str) -> Any:
        """``{"osd": <the OSD's entry in ceph osd dump>}``."""
        raw = next((o for o in osd_map_view(self.cluster).osd_map.get('osds', []) if o['osd'] == int(osd_id)), None)
        if raw is None:
            raise not_found_object('osd', osd_id)
        return {'osd': raw}


CONTROLLER = OsdController

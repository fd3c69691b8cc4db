"""Calamari resource: crush (map text, rules, rule sets, nodes, types).

Rules, nodes and types come from the CRUSH dump in the OSD map view (built once per map change).  The text
map is ``osd getcrushmap`` (through librados) decompiled with ``crushtool -d``, cached per OSD map change.
Device-class shadow buckets (``default~hdd``) are not listed as nodes.
Writes (nodes: operations/crush_node.py) become tracked requests.
"""
from typing import Any, List

from . import BaseController, cached_by
from ..derived import OSD_MAP_DEPS, CrushMapUnavailable, crush_map_text, osd_map_view
from ..http import ApiRequest, accepted, not_found_object, not_modified, unavailable
from ..operations import crush_node as node_ops
from ..views.crush import rule_set_objects


def _find(items: List[Any], key: str, ident: str, kind: str) -> Any:
    for item in items:
        if str(item[key]) == ident:
            return item
    raise not_found_object(kind, ident)


class CrushController(BaseController):
    @cached_by(*OSD_MAP_DEPS)
    def map_text(self, request: ApiRequest, fsid: str) -> Any:
        try:
            return crush_map_text(self.services)
        except CrushMapUnavailable as e:
            raise unavailable(f'CRUSH map unavailable: {e}')

    @cached_by(*OSD_MAP_DEPS)
    def rule_sets(self, request: ApiRequest, fsid: str) -> Any:
        return rule_set_objects(osd_map_view(self.cluster).rules)

    @cached_by(*OSD_MAP_DEPS)
    def rules(self, request: ApiRequest, fsid: str) -> Any:
        return osd_map_view(self.cluster).rules

    @cached_by(*OSD_MAP_DEPS)
    def rule(self, request: ApiRequest, fsid: str, rule_id: str) -> Any:
        return _find(osd_map_view(self.cluster).rules, 'id', str(int(rule_id)), 'crush_rule')

    @cached_by(*OSD_MAP_DEPS)
    def nodes(self, request: ApiRequest, fsid: str) -> Any:
        return osd_map_view(self.cluster).nodes

    @cached_by(*OSD_MAP_DEPS)
    def node(self, request: ApiRequest, fsid: str, node_id: str) -> Any:
        return _find(osd_map_view(self.cluster).nodes, 'id', str(int(node_id)), 'crush_node')

    def _node_context(self) -> node_ops.CrushContext:
        return node_ops.CrushContext(self.cluster.source('osd_map_crush'))

    def create_node(self, request: ApiRequest, fsid: str) -> Any:
        """Body ``{"name", "bucket_type", "items": [{"id", "weight"}]}``: a new bucket holding those items."""
        operation = node_ops.create_operation(request.json_object(), self._node_context(), self.cluster.name, fsid)
        return accepted(self.services.requests.submit(operation))

    def update_node(self, request: ApiRequest, fsid: str, node_id: str) -> Any:
        """Body as for POST (all three fields): rename, and move items in or unlink them; 304 if nothing changes."""
        operation = node_ops.update_operation(int(node_id), request.json_object(), self._node_context(),
                                              self.cluster.name, fsid)
        return not_modified() if operation is None else accepted(self.services.requests.submit(operation))

    def delete_node(self, request: ApiRequest, fsid: str, node_id: str) -> Any:
        """Only an empty bucket (409 otherwise)."""
        operation = node_ops.delete_operation(int(node_id), self._node_context(), self.cluster.name, fsid)
        return accepted(self.services.requests.submit(operation))

    @cached_by(*OSD_MAP_DEPS)
    def types(self, request: ApiRequest, fsid: str) -> Any:
        return osd_map_view(self.cluster).types

    @cached_by(*OSD_MAP_DEPS)
    def type(self, request: ApiRequest, fsid: str, type_id: str) -> Any:
        return _find(osd_map_view(self.cluster).types, 'id', str(int(type_id)), 'crush_type')


CONTROLLER = CrushController

"""Calamari resource: crush."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class CrushController(BaseController):
    def map_text(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('crush.map_text')

    def rule_sets(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('crush.rule_sets')

    def rules(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('crush.rules')

    def rule(self, request: ApiRequest, fsid: str, rule_id: str) -> Any:
        raise pending('crush.rule')

    def nodes(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('crush.nodes')

    def node(self, request: ApiRequest, fsid: str, node_id: str) -> Any:
        raise pending('crush.node')

    def types(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('crush.types')

    def type(self, request: ApiRequest, fsid: str, type_id: str) -> Any:
        raise pending('crush.type')


CONTROLLER = CrushController

"""Calamari resource: osd."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest, accepted, not_found_object, not_modified
from ..operations import osd as osd_ops


class OsdController(BaseController):
    def list(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('osd.list')

    def implemented_commands(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('osd.implemented_commands')

    def get(self, request: ApiRequest, fsid: str, osd_id: str) -> Any:
        raise pending('osd.get')

    def update(self, request: ApiRequest, fsid: str, osd_id: str) -> Any:
        osd = osd_ops.find_osd(self.cluster.source('osd_map'), int(osd_id))
        if osd is None:
            raise not_found_object('osd', osd_id)
        operation = osd_ops.update_operation(osd, request.json_object(), self.cluster.name, fsid)
        if operation is None:
            return not_modified()
        return accepted(self.services.requests.submit(operation))

    def valid_commands(self, request: ApiRequest, fsid: str, osd_id: str) -> Any:
        raise pending('osd.valid_commands')

    def validate_command(self, request: ApiRequest, fsid: str, osd_id: str, command: str) -> Any:
        raise pending('osd.validate_command')

    def apply_command(self, request: ApiRequest, fsid: str, osd_id: str, command: str) -> Any:
        osd = osd_ops.find_osd(self.cluster.source('osd_map'), int(osd_id))
        operation = osd_ops.command_operation(osd, int(osd_id), command, self.cluster.name)
        return accepted(self.services.requests.submit(operation))


CONTROLLER = OsdController

"""Calamari resource: osd."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class OsdController(BaseController):
    def list(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('osd.list')

    def implemented_commands(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('osd.implemented_commands')

    def get(self, request: ApiRequest, fsid: str, osd_id: str) -> Any:
        raise pending('osd.get')

    def update(self, request: ApiRequest, fsid: str, osd_id: str) -> Any:
        raise pending('osd.update')

    def valid_commands(self, request: ApiRequest, fsid: str, osd_id: str) -> Any:
        raise pending('osd.valid_commands')

    def validate_command(self, request: ApiRequest, fsid: str, osd_id: str, command: str) -> Any:
        raise pending('osd.validate_command')

    def apply_command(self, request: ApiRequest, fsid: str, osd_id: str, command: str) -> Any:
        raise pending('osd.apply_command')


CONTROLLER = OsdController

"""Calamari resource: log."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class LogController(BaseController):
    def cluster_tail(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('log.cluster_tail')

    def server_files(self, request: ApiRequest, fqdn: str) -> Any:
        raise pending('log.server_files')

    def server_tail(self, request: ApiRequest, fqdn: str, log_path: str) -> Any:
        raise pending('log.server_tail')


CONTROLLER = LogController

"""Calamari resource: cli."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class CliController(BaseController):
    def run(self, request: ApiRequest, fsid: str) -> Any:
        raise pending('cli.run')


CONTROLLER = CliController

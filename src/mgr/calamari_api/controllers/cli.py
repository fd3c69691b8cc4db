"""Calamari resource: cli (superusers only; see operations/cli.py)."""
from typing import Any

from . import BaseController
from ..http import ApiRequest, permission_denied
from ..operations.cli import CliRunner, command_words


class CliController(BaseController):
    def __init__(self, services: Any) -> None:
        super().__init__(services)
        self.runner = CliRunner(services)

    def run(self, request: ApiRequest, fsid: str) -> Any:
        """200 ``{out, err, status}`` even when the command fails (check ``status``)."""
        if request.user is None or not request.user.superuser:
            raise permission_denied()
        return self.runner.run(command_words(request.json_object()))


CONTROLLER = CliController

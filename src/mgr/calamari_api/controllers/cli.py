"""Calamari resource: cli (superusers only; see operations/cli.py).  Commands that reveal or change cluster
secrets are refused unless the option ``allow_secret_commands`` is on (``command_policy.py``)."""
from typing import Any

from . import BaseController
from ..audit import cli_summary, quoted
from ..command_policy import OPTION, refusal
from ..web.http import ApiRequest, detail
from ..operations.cli import CliRunner, command_words


class CliController(BaseController):
    def __init__(self, services: Any) -> None:
        super().__init__(services)
        self.runner = CliRunner(services)

    def run(self, request: ApiRequest, fsid: str) -> Any:
        """200 ``{out, err, status}`` even when the command fails (check ``status``); 403 when refused."""
        command, answer = self.runner.parse(command_words(request.json_object()))
        if command is None:
            request.audit['cmd'] = '"?"'                # unparsed words may hold anything: not logged
            request.audit['rc'] = str(answer['status'])
            return answer
        request.audit['cmd'] = quoted(cli_summary(command))
        message = refusal(command, bool(self.services.option(OPTION)))
        if message:
            raise detail(403, message)
        answer = self.runner.execute(command)
        request.audit['rc'] = str(answer['status'])
        return answer


CONTROLLER = CliController

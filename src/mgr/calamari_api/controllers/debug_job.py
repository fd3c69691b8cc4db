"""Calamari resource: debug_job."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class DebugJobController(BaseController):
    def submit(self, request: ApiRequest, fqdn: str) -> Any:
        raise pending('debug_job.submit')


CONTROLLER = DebugJobController

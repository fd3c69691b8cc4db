"""Calamari resource: debug_job (the self tests that exercise the request engine)."""
from typing import Any

from . import BaseController
from ..http import ApiRequest, accepted
from ..operations.selftest import selftest_operation


class DebugJobController(BaseController):
    def submit(self, request: ApiRequest, fqdn: str) -> Any:
        return accepted(self.services.requests.submit(selftest_operation(request.json_object())))


CONTROLLER = DebugJobController

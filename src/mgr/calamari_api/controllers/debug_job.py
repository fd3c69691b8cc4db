"""Calamari resource: debug_job (the self tests that exercise the request engine)."""
from typing import Any

from . import BaseController
from ..http import ApiRequest, accepted, permission_denied
from ..operations.selftest import selftest_operation


class DebugJobController(BaseController):
    def submit(self, request: ApiRequest, fqdn: str) -> Any:
        """Superusers only: a self test can hold a request open for as long as it likes."""
        if not request.user.superuser:
            raise permission_denied()
        return accepted(self.submit_request(request, selftest_operation(request.json_object())))


CONTROLLER = DebugJobController

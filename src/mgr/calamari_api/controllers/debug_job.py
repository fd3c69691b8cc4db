"""Calamari resource: debug_job (the self tests that exercise the request engine)."""
from typing import Any

from . import BaseController
from ..web.http import ApiRequest
from ..operations.selftest import selftest_operation


class DebugJobController(BaseController):
    def submit(self, request: ApiRequest, fqdn: str) -> Any:
        """Superusers only: a self test can hold a request open for as long as it likes."""
        return selftest_operation(request.json_object())


CONTROLLER = DebugJobController

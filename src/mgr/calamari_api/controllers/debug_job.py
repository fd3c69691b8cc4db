"""Calamari resource: debug_job (the self tests that exercise the request engine)."""
from typing import Any

from . import BaseController
from ..web.http import ApiRequest, permission_denied
from ..operations.selftest import selftest_operation


class DebugJobController(BaseController):
    def submit(self, request: ApiRequest, fqdn: str) -> Any:
        """Superusers only: a self test can hold a request open for as long as it likes."""
        if not request.user.superuser:
            raise permission_denied()
        return selftest_operation(request.json_object())


CONTROLLER = DebugJobController

"""Calamari resource: request."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class RequestController(BaseController):
    def list(self, request: ApiRequest) -> Any:
        raise pending('request.list')

    def get(self, request: ApiRequest, request_id: str) -> Any:
        raise pending('request.get')

    def cancel(self, request: ApiRequest, request_id: str) -> Any:
        raise pending('request.cancel')


CONTROLLER = RequestController

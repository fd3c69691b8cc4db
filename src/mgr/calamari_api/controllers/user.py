"""Calamari resource: user."""
from typing import Any

from . import BaseController, pending
from ..http import ApiRequest


class UserController(BaseController):
    def list(self, request: ApiRequest) -> Any:
        raise pending('user.list')

    def create(self, request: ApiRequest) -> Any:
        raise pending('user.create')

    def get(self, request: ApiRequest, user_id: str) -> Any:
        raise pending('user.get')

    def update(self, request: ApiRequest, user_id: str) -> Any:
        raise pending('user.update')

    def delete(self, request: ApiRequest, user_id: str) -> Any:
        raise pending('user.delete')


CONTROLLER = UserController

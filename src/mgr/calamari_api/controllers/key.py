"""Calamari resource: key (API-REFERENCE §4.19): each host's admission state, pre/accepted/rejected."""
from typing import Any, Dict, List

from . import BaseController
from ..hosts import KeyStateError
from ..http import ApiError, ApiRequest, bad_request, no_content, not_found_object, validation_error

ALLOWED_STATUS = ('accepted', 'rejected')


class KeyController(BaseController):
    def _status(self, minion_id: str) -> str:
        keys = self.services.hosts.keys()
        if minion_id not in keys:
            raise not_found_object('server', minion_id)
        return keys[minion_id]

    def _patch_one(self, minion_id: str, body: Any) -> None:
        if not isinstance(body, dict):
            raise bad_request('Expected a JSON object in the request body')
        if 'status' not in body:
            raise validation_error({'status': ['This field is required.']})
        if body['status'] not in ALLOWED_STATUS:
            raise bad_request({'status': f"Must be one of {','.join(ALLOWED_STATUS)}"})
        self._status(minion_id)
        try:
            self.services.hosts.set_key(minion_id, body['status'])
        except KeyStateError as e:
            raise bad_request(e.body)

    def _bulk(self, request: ApiRequest, verb: str) -> List[Dict[str, Any]]:
        items = request.json(default=None)
        if not isinstance(items, list):
            raise bad_request(f'Bulk {verb} must send a list')
        for item in items:
            if not isinstance(item, dict) or 'id' not in item:
                raise bad_request(f"Items in bulk {verb} must have 'id' attribute")
        return items

    def list(self, request: ApiRequest) -> Any:
        return [{'id': fqdn, 'status': status} for fqdn, status in self.services.hosts.keys().items()]

    def get(self, request: ApiRequest, minion_id: str) -> Any:
        return {'id': minion_id, 'status': self._status(minion_id)}

    def update(self, request: ApiRequest, minion_id: str) -> Any:
        self._patch_one(minion_id, request.json_object())
        return no_content()

    def bulk_update(self, request: ApiRequest) -> Any:
        for item in self._bulk(request, 'PATCH'):     # in order; an error part-way leaves earlier ones applied
            self._patch_one(str(item['id']), {k: v for k, v in item.items() if k != 'id'})
        return no_content()

    def delete(self, request: ApiRequest, minion_id: str) -> Any:
        self._status(minion_id)
        self._delete(minion_id)
        return no_content()

    def bulk_delete(self, request: ApiRequest) -> Any:
        for item in self._bulk(request, 'DELETE'):
            self._status(str(item['id']))
            self._delete(str(item['id']))
        return no_content()

    def _delete(self, minion_id: str) -> None:
        try:
            self.services.hosts.delete_key(minion_id)
        except KeyStateError as e:
            raise ApiError(400, {'detail': e.body})


CONTROLLER = KeyController

"""Calamari resource: key (API-REFERENCE §4.19): each host's admission state, pre/accepted/rejected."""
from typing import Any, Dict, List

from . import BaseController
from ..hosts import KeyStateError
from ..web.http import ApiError, ApiRequest, bad_request, no_content, not_found_object, validation_error

ALLOWED_STATUS = ('accepted', 'rejected')


class KeyController(BaseController):
    def _status(self, minion_id: str) -> str:
        keys = self.services.hosts.keys()
        if minion_id not in keys:
            raise not_found_object('server', minion_id)
        return keys[minion_id]

    def _checked_patch(self, minion_id: str, body: Any) -> str:
        """The new status, once the body, the host and the transition are all valid (else 4xx)."""
        if not isinstance(body, dict):
            raise bad_request('Expected a JSON object in the request body')
        if 'status' not in body:
            raise validation_error({'status': ['This field is required.']})
        if body['status'] not in ALLOWED_STATUS:
            raise bad_request({'status': f"Must be one of {','.join(ALLOWED_STATUS)}"})
        self._status(minion_id)
        try:
            self.services.hosts.check_transition(minion_id, body['status'])
        except KeyStateError as e:
            raise bad_request(e.body)
        return body['status']

    def _apply(self, minion_id: str, status: str) -> None:
        try:
            self.services.hosts.set_key(minion_id, status)
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
        self._apply(minion_id, self._checked_patch(minion_id, request.json_object()))
        return no_content()

    def bulk_update(self, request: ApiRequest) -> Any:
        """Every item is checked before any is applied: a bad item changes nothing."""
        items = self._bulk(request, 'PATCH')
        ids = [str(item['id']) for item in items]
        if len(set(ids)) != len(ids):
            raise bad_request('Bulk PATCH lists the same id more than once')
        changes = [(minion_id, self._checked_patch(minion_id, {k: v for k, v in item.items() if k != 'id'}))
                   for minion_id, item in zip(ids, items)]
        for minion_id, status in changes:
            self._apply(minion_id, status)
        return no_content()

    def delete(self, request: ApiRequest, minion_id: str) -> Any:
        self._status(minion_id)
        self._delete(minion_id)
        return no_content()

    def bulk_delete(self, request: ApiRequest) -> Any:
        """Every id is checked before any key is deleted: an unknown id deletes nothing."""
        ids = [str(item['id']) for item in self._bulk(request, 'DELETE')]
        for minion_id in ids:
            self._status(minion_id)
        for minion_id in dict.fromkeys(ids):
            self._delete(minion_id)
        return no_content()

    def _delete(self, minion_id: str) -> None:
        try:
            self.services.hosts.delete_key(minion_id)
        except KeyStateError as e:
            raise ApiError(400, {'detail': e.body})


CONTROLLER = KeyController

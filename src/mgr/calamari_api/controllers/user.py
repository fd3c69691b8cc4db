"""Calamari resource: user (``user`` and ``user/<id|me>``).

Fields ``id``, ``username``, ``email``; ``password`` is write-only.  Who may do what:
- any user with a role reads the list and single users (as in Calamari);
- creating (POST) and deleting (DELETE) users needs the ``superuser`` role (403 for the others;
  Calamari let read/write users do it too);
- PUT/PATCH change only your own account, superusers included (Calamari's tested behaviour:
  403 ``{"detail": "Permission denied"}``, and 404 for a user that does not exist); an administrator resets
  another user's password with ``ceph calamari-api user-set-password``.  Roles are not an API field:
  ``ceph calamari-api user-set-role``.
- PATCH without ``password`` keeps it (Calamari answered 500); PUT needs ``username`` and ``password``.
- A password change ends the user's other sessions and keeps the one that made it.
- An API token is no account: with one, ``user/me`` is a 404 (its role still governs the other actions).
"""
from typing import Any, Dict, List

from . import BaseController
from ..auth.users import User, email_errors, username_errors
from ..web.http import ApiRequest, Response, detail, no_content, not_found, validation_error
from ..schemas import RESOURCES

TAKEN = 'User with this Username already exists.'
REQUIRED = 'This field is required.'
WRITABLE = tuple(f.name for f in RESOURCES['user'] if f.modify)      # username, password, email
REQUIRED_FIELDS = tuple(f.name for f in RESOURCES['user'] if f.required)   # on POST and PUT


def _password_errors(value: Any) -> List[str]:
    if not isinstance(value, str):
        return ['Not a valid string.'] if value is not None else [REQUIRED]
    return [] if value else [REQUIRED]


def _field_errors(body: Dict[str, Any], required: tuple, auth: Any) -> Dict[str, List[str]]:
    """DRF serializer errors for the writable fields present in ``body`` (or required); a password also meets the
    length rule (option password_min_length)."""
    checks = {'username': username_errors,
              'password': lambda value: _password_errors(value) or auth.password_errors(value),
              'email': email_errors}
    errors = {}
    for field, check in checks.items():
        if field in body or field in required:
            messages = check(body.get(field))
            if messages:
                errors[field] = messages
    return errors


def _user_number(user_id: str) -> int:
    """The numeric id of a ``\\d+`` path segment; absurdly long ones are simply no user (-1)."""
    return int(user_id) if len(user_id) <= 18 else -1


class UserController(BaseController):
    def _target(self, request: ApiRequest, user_id: str) -> User:
        user = request.user if user_id == 'me' else self.services.auth.user_by_id(_user_number(user_id))
        if user is None or user.id is None:         # an API token is no account: it has no "me"
            raise not_found()
        return user

    def list(self, request: ApiRequest) -> Any:
        return [user.to_api() for user in self.services.auth.users()]

    def get(self, request: ApiRequest, user_id: str) -> Any:
        return self._target(request, user_id).to_api()

    def create(self, request: ApiRequest) -> Any:
        body = request.json_object()
        errors = _field_errors(body, REQUIRED_FIELDS, self.services.auth)
        if errors:
            raise validation_error(errors)
        try:
            user = self.services.auth.create_user(body['username'], body['password'], email=body.get('email') or '',
                                                  role='read/write')
        except KeyError:
            raise validation_error({'username': [TAKEN]})
        return Response(201, user.to_api())

    def update(self, request: ApiRequest, user_id: str) -> Any:
        """PUT (username and password required) or PATCH (any subset) of your own account; another user's is a 403,
        a user that does not exist a 404 (Calamari looked the user up first)."""
        target = self._target(request, user_id)
        if target.id != request.user.id:
            raise detail(403, 'Permission denied')
        if request.user.id is None:                 # an API token: no account to change
            raise not_found()
        body = request.json_object()
        required = REQUIRED_FIELDS if request.method == 'PUT' else ()
        errors = _field_errors(body, required, self.services.auth)
        if errors:
            raise validation_error(errors)
        changes = {field: body[field] for field in WRITABLE if field in body}
        if 'email' in changes and changes['email'] is None:
            changes['email'] = ''
        auth = self.services.auth
        try:
            user = auth.update_user(request.user.id, keep_session=auth.session_key(request), **changes)
        except KeyError:
            raise not_found()
        except FileExistsError:
            raise validation_error({'username': [TAKEN]})
        return user.to_api()

    def delete(self, request: ApiRequest, user_id: str) -> Any:
        user = self._target(request, user_id)
        self.services.auth.delete_user(user.id)
        return no_content()


CONTROLLER = UserController

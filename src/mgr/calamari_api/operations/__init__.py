"""Writes: request validation (Calamari's messages) and the mon commands each operation runs.

Pure functions of the request body and the cluster maps; they return ``requests.Operation`` objects (or
raise ``http.ApiError``).  The controllers submit them to the request engine."""
import math
import re
from typing import Any, Dict, List, Optional

from ..web.http import ApiError
from ..schemas import RESOURCES

INT_MAX = 2 ** 63 - 1
CRUSH_NAME = re.compile(r'^[A-Za-z0-9_.-]+$')


def field_number(value: Any, kind: type = int, minimum: Optional[float] = None,
                 maximum: Optional[float] = None) -> Any:
    """DRF 2.3 Integer/FloatField: kind(str(value)); returns the number or a list of messages."""
    message = ['Enter a whole number.'] if kind is int else ['A valid number is required.']
    if isinstance(value, (bool, list, dict)):
        return message
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)          # JSON makes no difference between 8 and 8.0
    try:
        number = kind(str(value).strip())
    except (TypeError, ValueError):
        return message
    if not math.isfinite(number):
        return message
    if minimum is not None and number < minimum:
        return [f'Ensure this value is greater than or equal to {minimum}.']
    if maximum is not None and number > maximum:
        return [f'Ensure this value is less than or equal to {maximum}.']
    return number


def field_int(value: Any, minimum: int = 0) -> Any:
    return field_number(value, int, minimum, INT_MAX)


def field_bool(value: Any) -> Optional[bool]:
    """A JSON boolean or the usual spellings of one (form bodies send strings); None if it is neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ('true', 't', '1', 'yes'):
            return True
        if text in ('false', 'f', '0', 'no'):
            return False
    return None


def writable_fields(resource: str, method: str) -> List[str]:
    """The fields a client may send with ``method`` (POST: create, else modify), from ``schemas.RESOURCES``."""
    return [f.name for f in RESOURCES[resource] if (f.create if method == 'POST' else f.modify)]


def required_fields(resource: str) -> List[str]:
    return [f.name for f in RESOURCES[resource] if f.required]


def check_allowed(body: Dict[str, Any], allowed: List[str], method: str) -> Dict[str, Any]:
    """Calamari's allowed check: ``{"<field>": "Not allowed during <METHOD>"}`` (plain strings)."""
    return {key: f'Not allowed during {method}' for key in body if key not in allowed}


def crush_name_error(value: Any) -> Optional[List[str]]:
    """The field error for a name CRUSH would refuse (buckets and rules alike), else None."""
    if isinstance(value, str) and CRUSH_NAME.match(value):
        return None
    return ['Enter a valid CRUSH name (letters, digits, "-", "_" and "." only).']


def raise_if(errors: Dict[str, Any], status: int = 400) -> None:
    if errors:
        raise ApiError(status, errors)

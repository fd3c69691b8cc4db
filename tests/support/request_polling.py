"""Shared by the write tests of the integration and package tiers: a 202's request polled until it is complete."""
from typing import Any, Dict

from tests.support.cluster import wait_for

REQUEST_TIMEOUT = 120


def finished(client: Any, response: Any, expect_error: bool = False) -> Dict[str, Any]:
    """The 202's request, polled to ``complete``; asserts it succeeded (or failed, with expect_error)."""
    assert response.status_code == 202, (response.status_code, response.content)
    request_id = response.json()['request_id']

    def complete() -> Any:
        request = client.get(f'/api/v2/request/{request_id}').json()
        return request if request['state'] == 'complete' else None
    request = wait_for(complete, REQUEST_TIMEOUT, f'request {request_id}')
    assert request['error'] is expect_error, request
    return request


def pool_detail(cluster: Any, name: str) -> Any:
    """The pool as the ceph CLI sees it (None if absent)."""
    return next((p for p in cluster.ceph_json('osd', 'pool', 'ls', 'detail') if p['pool_name'] == name), None)

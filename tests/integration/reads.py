"""Helpers shared by the cluster-read integration tests (test_reads_*.py)."""
import pytest


@pytest.fixture
def base(fsid):
    """The cluster's URL prefix."""
    return f'/api/v2/cluster/{fsid}'


def get(client, url):
    """GET that must succeed: the JSON body."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content)
    return response.json()

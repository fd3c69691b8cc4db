"""Shared by the unit write tests (a fixture to import): the request engine drained synchronously after each submit.

In ceph-mgr every ``send_command`` is made from the engine's own thread; here each ``submit`` is followed
by a synchronous drain (``tick()``) in the test's thread, and the fake mgr completes commands inside
``send_command``, so a request is as far as it can get when ``submit`` returns."""
import pytest


@pytest.fixture(autouse=True)
def drained(services, monkeypatch):
    engine = services.requests
    submit = engine.submit

    def submit_and_drain(operation, **who):
        request_id = submit(operation, **who)
        engine.tick()
        return request_id
    monkeypatch.setattr(engine, 'submit', submit_and_drain)
    return engine


def sent(module):
    """The mon commands the request engine sent (not the reads' queries)."""
    return [cmd for _, _, cmd, tag in module.sent_commands if tag.startswith('calamari_api:')]

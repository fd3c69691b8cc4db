"""Mon commands made for HTTP requests are sent from the module's own long-lived thread, with a timeout."""
import threading

from calamari_api.mon_queries import STOPPED, TIMED_OUT, MonQueries


def test_queries_are_sent_from_the_query_thread(module, services):
    senders = []
    module.command_handler = lambda cmd: (senders.append(threading.current_thread().name) or
                                          (0, '{"ok": 1}', cmd['prefix']))
    assert services.mon_queries.query({'prefix': 'quorum_status'}, 5) == (0, '{"ok": 1}', 'quorum_status')
    assert senders == ['calamari-mon-queries']
    svc_type, svc_id, cmd, tag = module.sent_commands[-1]
    assert (svc_type, svc_id, cmd) == ('mon', '', {'prefix': 'quorum_status'})
    assert tag.startswith('calamari_api-read:')     # not a request engine tag: the engine ignores it


def test_an_unanswered_query_times_out_and_the_answer_may_come_later(module, services):
    module.hold_commands = True
    assert services.mon_queries.query({'prefix': 'config dump'}, 0.2) == TIMED_OUT
    module.hold_commands = False
    module.release_held()               # the late answer is harmless
    assert services.mon_queries.query({'prefix': 'config dump'}, 5)[0] == 0


def test_stop_waits_briefly_for_answers_due_then_refuses(module):
    queries = MonQueries(module, grace=0.5)
    queries.start()
    module.hold_commands = True
    assert queries.query({'prefix': 'log last'}, 0.1) == TIMED_OUT
    stopper = threading.Thread(target=queries.stop)
    stopper.start()
    stopper.join(0.2)
    assert stopper.is_alive()           # still waiting for the held answer ...
    module.hold_commands = False
    module.release_held()
    stopper.join(2)
    assert not stopper.is_alive()       # ... and ends once it arrived
    assert queries.query({'prefix': 'log last'}, 1) == STOPPED


def test_a_send_failure_is_an_error_not_a_hang(module, services):
    def broken(*args, **kwargs):
        raise TypeError('bad argument')
    module._ceph_send_command = broken
    r, _, outs = services.mon_queries.query({'prefix': 'quorum_status'}, 5)
    assert r == -22 and 'bad argument' in outs

import gc

from centrex.config import Settings
from centrex.server import SwitchWorker, people_options, ready_to_serve, switch_options


def test_workers_leave_what_they_loaded_out_of_full_collections():
    gc.unfreeze()
    app = object()
    try:
        assert ready_to_serve(app) is app
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_freeswitch_side_runs_sync_workers_with_a_read_timeout_on_its_port():
    options = switch_options(Settings(host="127.0.0.2", port=9090, workers=3))
    assert options["bind"] == "127.0.0.2:9090"
    assert options["workers"] == 3 and options["worker_class"] is SwitchWorker


def test_people_side_runs_gevent_workers_on_a_port_of_its_own():
    options = people_options(
        Settings(host="127.0.0.2", port=9090, panel_port=9092, panel_workers=2)
    )
    assert options["bind"] == "127.0.0.2:9092"
    assert options["workers"] == 2
    assert options["worker_class"] == "centrex.people_worker.PeopleWorker"
    assert options["keepalive"] > 0  # bounds the time a client takes to send its headers

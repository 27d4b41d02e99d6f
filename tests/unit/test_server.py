import gc

from centrex.config import Settings
from centrex.server import gunicorn_options, ready_to_serve


def test_workers_leave_what_they_loaded_out_of_full_collections():
    gc.unfreeze()
    app = object()
    try:
        assert ready_to_serve(app) is app
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_gunicorn_runs_sync_workers_on_the_configured_address():
    options = gunicorn_options(Settings(host="127.0.0.2", port=9090, workers=3))
    assert options["bind"] == "127.0.0.2:9090"
    assert options["workers"] == 3 and options["worker_class"] == "sync"

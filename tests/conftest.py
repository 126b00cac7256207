import os

# Keep MindSpore quiet and on the CPU in tests.
os.environ.setdefault("GLOG_v", "3")
os.environ.setdefault("MS_SUBMODULE_LOG_v", "{ME:3}")


def pytest_configure(config):
    try:
        import mindspore
    except ImportError:
        return
    # Run kernels synchronously: an op that fails raises at that op, not at a later
    # one (which, asynchronous, also poisons every later op in the same worker).
    mindspore.runtime.launch_blocking()

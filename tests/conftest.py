import os

# Keep MindSpore quiet and on the CPU in tests.
os.environ.setdefault("GLOG_v", "3")
os.environ.setdefault("MS_SUBMODULE_LOG_v", "{ME:3}")

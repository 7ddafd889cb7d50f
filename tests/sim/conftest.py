"""The simulation tests (hallq.sim: scenarios, policies, queueing theory, simulated days,
wait prediction, `hallq simulate`). They use only the shared fixtures of tests/conftest.py."""

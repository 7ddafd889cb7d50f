"""Helpers the tests import (`from support.x import y`; pyproject.toml puts tests/ on
pytest's pythonpath), and the pytest plugins that share fixtures across the layers
(registered in tests/conftest.py). Fixtures of one layer live in that layer's conftest.py;
no test imports another test module or a conftest."""

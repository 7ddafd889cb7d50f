"""The project's own checks: the docs say what the code does, the house rules of the
source, every benchmark's smoke run, and the screenshot tool."""

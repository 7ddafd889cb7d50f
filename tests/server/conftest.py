"""The server as a program: the `hallq` command line, settings, schema migrations, the
served process, several processes on one database (scale-out) and `hallq demo`.
`cli` and `env` are the plugin support/cli_plugin.py (the MQTT and web tests use them too)."""

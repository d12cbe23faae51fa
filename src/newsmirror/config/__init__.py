"""Configuration: the settings (each declared once, with its default, type, check
and help) and the sources, read from ``newsmirror.toml`` over the built-in defaults;
OPML in and out. Gives a frozen Config."""

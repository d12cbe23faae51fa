"""The command's exit codes (see the README's table): loaded by ``--version`` too, so
nothing else is here."""

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3

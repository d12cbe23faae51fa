"""Article HTML sanitised and normalised (an allowlist, span soup unwrapped,
boilerplate removed, white space normalised), its text derived; pure and
deterministic, linear in its input."""

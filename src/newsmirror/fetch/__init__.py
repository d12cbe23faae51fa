"""The HTTP client every request goes through: conditional GETs, limits, retries,
proxies, the connection policy, charsets. Takes requests, gives answers (or a
FetchError), and a log line of every exchange."""

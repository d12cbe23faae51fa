"""The jobs over one archive (fetch, watch, publish, import, export, reading): objects
given what they use (the store, the configuration, the network, a clock); the Archive
opens a home and makes them."""

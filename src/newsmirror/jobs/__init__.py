"""The jobs (fetch, watch, publish, import) over one archive: the store, the fetcher
and the clock they are given, and the Archive that holds them."""

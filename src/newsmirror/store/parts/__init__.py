"""The store's parts, one per concern (sources, articles, reading, logs, evidence, feed
memory, site views, watch, archive files, export, imports), written once for every
backend: each is given the connection they share (:class:`~.db.Db`, whose
:class:`~.db.Dialect` says where the backends' SQL differs) and the parts it uses;
:class:`~.store.PartsStore` composes them. A backend brings its connection, schema and
search index."""

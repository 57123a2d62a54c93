"""The OpenAI-compatible proxy behind ``llmctl serve`` (install ``llmctl[proxy]``).

``config.py`` reads config.yaml, ``models.py`` maps public model names to calls, ``app.py``
holds the routes, ``schemas.py`` the request bodies, ``auth.py`` the master key, ``guard.py``
the timeouts and disconnects, ``sse.py`` the event streams, ``shapes.py`` the answers the core
does not build, ``errors.py`` the error bodies, ``tracing.py`` the request ids and
``server.py`` the start-up. Nothing here is imported by ``import llmctl``.
"""

"""The gateway's OpenAPI 3.1 document, built from this package (``GET /openapi.json``).

``python scripts/gen_openapi.py`` writes ``document.render()`` to ``docs/openapi.json``
and ``tests/serve/test_openapi.py`` fails when the file is stale, when a route of
``app.build()`` is missing from the document (or the other way round), and when a real
answer of the gateway does not match it. The handler serves the same bytes, rendered
once per process: a wheel install has no ``docs/`` to read.

Generated rather than hand-written because most of the document is the same few facts
repeated: each of the ~30 operations lists its error statuses, each status its error
shape (Anthropic's, or OpenAI's on the chat route) and the headers that come with it.
Here each fact is written once, and where the code has a table (error types by status,
OpenAI's error mapping, the chat fields the translator accepts) it is taken from there.
"""

"""``leadscore serve``: the real-time scoring service (FastAPI over a local SQLite store).

Needs the ``server`` extra (``pip install 'leadscore[server]'``). ``import leadscore`` never
imports this package; ``leadscore.server.app.create_app(settings)`` builds the application.
"""

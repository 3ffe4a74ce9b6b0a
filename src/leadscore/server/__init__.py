"""``leadscore serve``: the real-time scoring service (FastAPI over a local SQLite store, or Postgres).

Needs the ``server`` extra (``pip install 'leadscore[server]'``; a Postgres store also needs
``postgres``). ``import leadscore`` never imports this package;
``leadscore.server.app.create_app(settings)`` builds the application.
"""

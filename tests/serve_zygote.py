"""A fork server for the crash test: imports the service once, then forks one server per request.

Starting ``leadscore serve`` costs a couple of seconds of imports; the crash test kills the server
twenty times and more, so it asks this process instead: each line ``STORE MODEL PORT FROZEN_NOW``
(STORE: a SQLite file or a ``postgresql://`` URL)
on stdin forks a child that runs exactly what ``leadscore serve`` runs (``create_app(settings)``
under uvicorn) and answers with the child's pid. The test kills the children with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path


def main() -> None:
    import uvicorn

    from leadscore.server.app import create_app
    from leadscore.server.settings import Settings

    create_app(Settings())  # import and build everything once, before the first fork
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    for line in sys.stdin:
        store, model, port, frozen = line.split()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            sys.stdin.close()
            settings = Settings(store=store, model=Path(model), port=int(port),  # a file or a postgresql:// URL
                                frozen_now=datetime.fromisoformat(frozen + "+00:00"),
                                webhook_secret="test-webhook-secret")
            uvicorn.run(create_app(settings), host="127.0.0.1", port=int(port), log_level="warning")
            os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    main()

"""Dependencies of the routes, as ``Annotated`` aliases: the service, the settings and API keys.

Tests can swap any of them through ``app.dependency_overrides``. Every function here is ``async``
so FastAPI calls it on the event loop, the only thread that uses the service's store connection.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from leadscore.server.keys import ApiKey, KeyCache, Scope
from leadscore.server.service import ScoringService
from leadscore.server.settings import Settings
from leadscore.server.versions import Rebuilder

API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="A key from 'leadscore keys create --scope read|write|admin'.")


async def get_service(request: Request) -> ScoringService:
    """The service, following a model switch another worker process made (one small read)."""
    service: ScoringService = request.app.state.service
    service.sync_models(service.con)
    return service


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_rebuilder(request: Request) -> Rebuilder:
    rebuilder: Rebuilder = request.app.state.rebuilder
    return rebuilder


ServiceDep = Annotated[ScoringService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
RebuilderDep = Annotated[Rebuilder, Depends(get_rebuilder)]


def _require(scope: Scope):  # type: ignore[no-untyped-def]  # returns FastAPI's dependency callable
    async def check(request: Request, presented: Annotated[str | None, Security(API_KEY_HEADER)] = None
                    ) -> ApiKey:
        cache: KeyCache = request.app.state.keys
        service: ScoringService = request.app.state.service
        key = cache.check(service.con, presented)
        if key is None:
            raise HTTPException(401, "missing or invalid API key: send it in the X-API-Key header",
                                headers={"WWW-Authenticate": "ApiKey"})
        if not key.allows(scope):
            raise HTTPException(403, f"this API key has scope '{key.scope}'; this endpoint needs '{scope}'")
        return key

    return check


ReadKey = Annotated[ApiKey, Depends(_require("read"))]
WriteKey = Annotated[ApiKey, Depends(_require("write"))]
AdminKey = Annotated[ApiKey, Depends(_require("admin"))]

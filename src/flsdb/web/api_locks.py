"""The JSON API of sign-off and locks: what would be locked (a preview), the lock once confirmed,
and lifting with a reason. Access is decided in `flsdb.services.policy`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from flsdb.services import locks
from flsdb.services.policy import check, decided
from flsdb.web.api_records import MAX_INT
from flsdb.web.common import ActorDep, engine_of

router = APIRouter(prefix="/api", tags=["api"])


class LockRequest(BaseModel):
    period: str = Field(max_length=20, description="A quarter (sign-off) or a year (lock).")
    service: str | None = Field(
        default=None, max_length=12, description="The FLS signing off; none for a national lock."
    )
    note: str | None = Field(default=None, max_length=500)
    confirm: bool = Field(
        default=False,
        description="false (the default): what would be locked, nothing changed (200); true: "
        "lock it (201).",
    )


class LiftRequest(BaseModel):
    reason: str = Field(max_length=2000, description="Why the lock is lifted (kept, audited).")


@router.get("/locks")
@decided("signed_in")
def list_locks(request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    """National locks and the sign-offs of the FLSs in the caller's scope, lifted ones too."""
    return locks.list_locks(engine_of(request), actor)


@router.post("/locks", status_code=201)
@decided("sign_off", "lock_year")
def create_lock(body: LockRequest, request: Request, actor: ActorDep) -> Any:
    """With `service`: the FLS signs off a quarter that has ended. Without: the national team
    locks a year that has ended. Without `"confirm": true` the answer is what would be locked
    (records, those missing key fields) and nothing changes (200); with it, the lock (201).
    A signed-off record's index episode then cannot change (423); its follow-up can, until
    its window closes."""
    service = body.service.upper() if body.service else None
    if not body.confirm:
        return JSONResponse(locks.preview(engine_of(request), actor, service, body.period))
    if service:
        return locks.sign_off(engine_of(request), actor, service, body.period, body.note)
    return locks.lock_year(engine_of(request), actor, body.period, body.note)


LockId = Annotated[int, Path(ge=1, le=MAX_INT)]


@router.post("/locks/{lock_id}/lift")
@decided("lift_lock")
def lift_lock(
    lock_id: LockId, body: LiftRequest, request: Request, actor: ActorDep
) -> dict[str, Any]:
    """An administrator lifts a sign-off or lock, saying why (kept on the lock and audited)."""
    return locks.lift(engine_of(request), actor, lock_id, body.reason)


@router.delete("/locks/{lock_id}")
@decided("lift_lock")
def delete_lock(lock_id: LockId, request: Request, actor: ActorDep) -> Response:
    """Refused: a lock is lifted with `POST /api/locks/{id}/lift` and a reason."""
    check(actor, "lift_lock")
    return JSONResponse(
        {
            "detail": f"A lock is lifted with POST /api/locks/{lock_id}/lift, giving the "
            'reason ({"reason": "..."}); DELETE does not lift it.'
        },
        status_code=405,
    )

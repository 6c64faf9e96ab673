"""/api/v1/surveys/{survey}/invitations and /triggers: how surveys reach customers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from cxm.core.auth import Designer, Reader, SessionDep, Writer
from cxm.core.errors import InvalidInput
from cxm.core.schemas import Page
from cxm.customers import service as customers_service
from cxm.feedback import service
from cxm.feedback.schemas import InvitationCreate, InvitationRead, TriggerCreate, TriggerRead
from cxm.interactions import service as interactions_service

router = APIRouter(tags=["distribution"])
Limit = Annotated[int, Query(ge=1, le=500)]
InvitationStatus = Literal["scheduled", "issued", "sent", "skipped", "failed", "answered"]


@router.post("/surveys/{survey}/invitations", response_model=InvitationRead, status_code=201)
def create_invitation(
    survey: str, body: InvitationCreate, session: SessionDep, who: Writer, request: Request, response: Response
) -> InvitationRead:
    """Invite a customer by e-mail or personal link; the answer holds the link. The same request again answers 200."""
    found = service.get_survey(session, survey)
    customer_id = _customer(session, body, who.actor)
    invitee = service.Invitee(
        customer_id=customer_id, interaction_id=body.interaction_id, channel=body.channel, send_at=body.send_at
    )
    invitation, created = service.invite(session, found, invitee)
    response.status_code = 201 if created else 200
    return service.read_invitation(session, invitation, settings=request.app.state.settings, with_link=True)


def _customer(session: SessionDep, body: InvitationCreate, actor: str) -> int:
    claim = customers_service.Claim(keys=tuple(sorted(body.identities.items())), customer_id=body.customer_id)
    [owner] = customers_service.resolve(session, [claim], actor=actor)
    if body.interaction_id is not None:
        interaction = interactions_service.get_interaction(session, body.interaction_id)
        if interaction.customer_id not in customers_service.cluster(session, owner):
            raise InvalidInput(f"interaction {body.interaction_id} is not this customer's")
    return owner


@router.get("/surveys/{survey}/invitations", response_model=Page[InvitationRead])
def list_invitations(
    survey: str,
    session: SessionDep,
    _: Reader,
    status: InvitationStatus | None = None,
    limit: Limit = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[InvitationRead]:
    """A survey's invitations, newest first (without their links: those let one answer)."""
    found = service.get_survey(session, survey)
    return service.list_invitations(session, found, status=status, limit=limit, offset=offset)


@router.post("/surveys/{survey}/triggers", response_model=TriggerRead, status_code=201)
def create_trigger(survey: str, body: TriggerCreate, session: SessionDep, _: Designer) -> TriggerRead:
    """Invite the customer of each interaction of a type that arrives from now on, after a delay."""
    trigger = service.create_trigger(session, service.get_survey(session, survey), body)
    return TriggerRead.model_validate(trigger)


@router.get("/surveys/{survey}/triggers", response_model=list[TriggerRead])
def list_triggers(survey: str, session: SessionDep, _: Reader) -> list[TriggerRead]:
    """A survey's triggers."""
    return service.list_triggers(session, service.get_survey(session, survey))


@router.delete("/surveys/{survey}/triggers/{trigger_id}", response_model=TriggerRead)
def stop_trigger(survey: str, trigger_id: int, session: SessionDep, _: Designer) -> TriggerRead:
    """Stop a trigger (it is kept, inactive, so its invitations still name it)."""
    trigger = service.stop_trigger(session, service.get_survey(session, survey), trigger_id)
    return TriggerRead.model_validate(trigger)

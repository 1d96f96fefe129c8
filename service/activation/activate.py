"""Activating a saved segment to a destination: evaluate, apply consent, send, record the delta."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from service.activation import formats, webhook
from service.activation.addresses import check_webhook_url
from service.database import Graph
from service.errors import AccountGraphError, ErrorCode
from service.limits import RetryPolicy
from service.queries import Q
from service.segments import engine


class DestinationKind(StrEnum):
    MARKETO = "MARKETO"
    LINKEDIN = "LINKEDIN"
    LINKEDIN_COMPANIES = "LINKEDIN_COMPANIES"  # a company list (account targeting): the members' companies
    WEBHOOK = "WEBHOOK"


class DeliveryMode(StrEnum):
    DELTA = "DELTA"
    FULL = "FULL"


KINDS = tuple(kind.value for kind in DestinationKind)
MODES = (DeliveryMode.FULL.value, DeliveryMode.DELTA.value)  # in the order the CLI and messages have always had


class ActivationError(AccountGraphError, ValueError):
    """Destination settings refused, or a destination that is not there."""

    default_code = ErrorCode.VALIDATION_FAILED


@dataclass(frozen=True)
class DestinationSettings:
    name: str
    kind: str
    instance: str | None = None  # MARKETO: the Marketo source instance, e.g. "Marketo 1"
    url: str | None = None  # WEBHOOK
    secret: str | None = None  # WEBHOOK signing secret; stored, never shown
    mode: str = DeliveryMode.DELTA.value  # WEBHOOK: DELTA sends changes since the last send, FULL the whole audience

    def check(self) -> None:
        if not self.name.strip() or len(self.name) > 200:
            raise ActivationError("a destination name must have 1 to 200 characters")
        for label, value, most in (("instance", self.instance, 200), ("url", self.url, 2048),
                                   ("secret", self.secret, 1024)):
            if value is not None and len(value) > most:
                raise ActivationError(f"a destination's {label} may have at most {most} characters")
        if self.kind not in KINDS:
            raise ActivationError(f"kind must be one of {', '.join(KINDS)}")
        if self.kind == DestinationKind.MARKETO and not (self.instance and self.instance.strip()):
            raise ActivationError("a MARKETO destination names its instance (the source name, e.g. 'Marketo 1')")
        if self.kind == DestinationKind.WEBHOOK:
            if not (self.url and re.match(r"^https?://", self.url)):
                raise ActivationError("a WEBHOOK destination needs an http(s) url")
            if not self.secret or len(self.secret) < 16:
                raise ActivationError("a WEBHOOK destination needs a signing secret of at least 16 characters")
            if self.mode not in MODES:
                raise ActivationError(f"mode must be one of {', '.join(MODES)}")


async def add_destination(graph: Graph, settings: DestinationSettings) -> dict[str, Any]:
    settings.check()
    if settings.url and settings.kind == DestinationKind.WEBHOOK:
        await check_webhook_url(settings.url)
    if await graph.run(Q.DESTINATION_BY_NAME, name=settings.name):
        raise ActivationError(f"a destination named {settings.name!r} exists already", code=ErrorCode.CONFLICT)
    rows = await graph.run(Q.DESTINATION_CREATE, name=settings.name, kind=settings.kind, instance=settings.instance,
                           url=settings.url, secret=settings.secret, mode=settings.mode)
    created: dict[str, Any] = rows[0]["destination"]
    return created


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "destination"


async def activate(graph: Graph, segment_id: str, destination: str, out_dir: Path,
                   policy: RetryPolicy = RetryPolicy()) -> dict[str, Any]:
    """Evaluate the segment, send its consenting members to the destination and record it. (Live
    changes reach DELTA webhooks through the outbox: service.realtime.outbox.)"""
    found = await graph.run(Q.DESTINATION_BY_NAME, name=destination)
    if not found:
        raise ActivationError(f"no destination named {destination!r}", code=ErrorCode.NOT_FOUND)
    settings = found[0]["destination"]
    await engine.evaluate(graph, segment_id)
    activation_id = str(uuid.uuid4())
    files: list[str] = []
    batches: list[str] = []
    members: list[dict[str, Any]] = []
    company_list: str | None = None
    if settings["kind"] == DestinationKind.LINKEDIN_COMPANIES:
        # Companies, not people: no consent applies and nobody is recorded as sent; the whole list each time.
        companies = await graph.run(Q.ACTIVATION_COMPANIES, segmentId=segment_id)
        content = formats.linkedin_company_csv(companies)
        company_list = content.decode("utf-8")
        _write_copy(out_dir / activation_id, {COMPANY_LIST: content})
        files, sent = [COMPANY_LIST], len(companies)
        audience: dict[str, Any] = {"withoutConsent": 0, "unknownToDestination": 0, "entered": [], "left": []}
    else:
        # People: a segment's members, or the people of an account audience's companies, with consent.
        [audience] = await graph.run(Q.ACTIVATION_AUDIENCE, segmentId=segment_id, destination=destination,
                                     emails=None)
    if settings["kind"] == DestinationKind.WEBHOOK:
        bodies = webhook_bodies(segment_id, destination, settings["mode"], audience)
        batches = await webhook.deliver(settings["url"], settings["secret"], bodies.bodies, policy)
        sent = bodies.sent
    elif settings["kind"] != DestinationKind.LINKEDIN_COMPANIES:
        # The record is the graph: the people sent, kept with the activation, from which activation_file
        # makes the files again. The copy under EXPORTS_DIR is a convenience.
        members = [{"email": m["email"], "leadId": m["leadId"]} for m in audience["send"]]
        outputs = file_outputs(settings["kind"], settings.get("instance"), members)
        _write_copy(out_dir / activation_id, outputs)
        files = list(outputs)
        sent = len(audience["send"])
    rows = await graph.run(
        Q.ACTIVATION_RECORD, id=activation_id, segmentId=segment_id, destination=destination, sent=sent,
        withoutConsent=audience["withoutConsent"], unknownToDestination=audience["unknownToDestination"],
        entered=[m["email"] for m in audience["entered"]], left=audience["left"], files=files, batches=batches,
        members=members, companyList=company_list,
    )
    activation: dict[str, Any] = rows[0]["activation"]
    return activation


COMPANY_LIST = "linkedin-company-list.csv"


def _write_copy(folder: Path, outputs: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in outputs.items():
        (folder / name).write_bytes(content)


def file_outputs(kind: str, instance: str | None, members: list[dict[str, Any]]) -> dict[str, bytes]:
    """The files of an activation to a file destination, by name, from the people sent (email and the
    Marketo instance's lead id), in email order."""
    if kind == DestinationKind.MARKETO:
        return {f"marketo-{_slug(instance or '')}.csv": formats.marketo_list_csv(members),
                f"marketo-{_slug(instance or '')}-requests.json": formats.marketo_list_requests(members)}
    return {"linkedin-matched-audience.csv": formats.linkedin_audience_csv(members)}


async def activation_file(graph: Graph, activation_id: str, name: str) -> bytes | None:
    """One file of a stored activation, made from the people kept with it (so without anyone erased
    since); None when there is no such activation or file."""
    rows = await graph.run(Q.ACTIVATION_MEMBERS, id=activation_id)
    if not rows or name not in (rows[0]["files"] or []):
        return None
    if rows[0]["kind"] == DestinationKind.LINKEDIN_COMPANIES:
        return str(rows[0]["companyList"]).encode("utf-8")
    return file_outputs(rows[0]["kind"], rows[0]["instance"], rows[0]["members"])[name]


@dataclass(frozen=True)
class WebhookBodies:
    """What one send to a webhook carries: its batches and how many people they name; and the
    segment's sent set at the destination after it (the people entered into it, and left)."""

    bodies: list[bytes]
    sent: int
    entered: list[str]
    left: list[str]


def webhook_bodies(segment_id: str, destination: str, mode: str, audience: dict[str, Any]) -> WebhookBodies:
    """The batches for a webhook from an activation audience (activation/activation_audience): the
    changes since the last send (DELTA), or every consenting member (FULL)."""
    full = mode == DeliveryMode.FULL
    header = {"segmentId": segment_id, "segment": audience["segmentName"], "destination": destination, "mode": mode}
    entered = audience["send"] if full else audience["entered"]
    left = [] if full else audience["left"]
    return WebhookBodies(webhook.batches(header, [_public(m) for m in entered], left), len(entered) + len(left),
                         [m["email"] for m in audience["entered"]], audience["left"])


def _public(member: dict[str, Any]) -> dict[str, Any]:
    return {"email": member["email"], "ids": member["ids"]}

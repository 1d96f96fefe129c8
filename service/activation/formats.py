"""The files each destination accepts, byte for byte (UTF-8, LF line ends, sorted by email)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from typing import Any

MARKETO_BATCH = 300  # leads per request of Marketo's add-to-list call
LINKEDIN_HEADER = ["email", "firstname", "lastname", "jobtitle", "employeecompany", "country", "googleaid"]
# The columns of LinkedIn's company list template (Matched Audiences, account targeting), in its order.
LINKEDIN_COMPANY_HEADER = ["companyname", "companywebsite", "companyemaildomain", "linkedincompanypageurl",
                           "stocksymbol", "industry", "city", "state", "companycountry", "zipcode"]

Member = dict[str, Any]


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _lead_id(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def marketo_list_csv(members: list[Member]) -> bytes:
    """A static list import: the instance's own lead id and the email, one lead a line."""
    return csv_bytes(["id", "email"], [[m["leadId"], m["email"]] for m in members])


def marketo_list_requests(members: list[Member]) -> bytes:
    """The bodies of Marketo's add-leads-to-list call, 300 lead ids each, as one JSON array."""
    return marketo_requests_bytes([{"id": _lead_id(m["leadId"])} for m in members])


def marketo_requests_bytes(ids: list[dict[str, Any]]) -> bytes:
    """`{"id": ...}` entries cut into bodies of MARKETO_BATCH, as one JSON array."""
    bodies = [{"input": ids[start:start + MARKETO_BATCH]} for start in range(0, len(ids), MARKETO_BATCH)]
    return (json.dumps(bodies, indent=2) + "\n").encode("utf-8")


def sha256_email(email: str) -> str:
    """LinkedIn's hashed email: SHA-256 of the trimmed, lower-cased address, as lower-case hex."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def linkedin_audience_csv(members: list[Member]) -> bytes:
    """LinkedIn Matched Audiences contact list: hashed emails only; no plain PII leaves."""
    return csv_bytes(LINKEDIN_HEADER, [[sha256_email(m["email"])] + [""] * (len(LINKEDIN_HEADER) - 1) for m in members])


def domain_of(website: str | None) -> str:
    """A website's domain, as the company list's email-domain column takes it: no scheme, path or www."""
    if not website:
        return ""
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", website.strip().lower()).split("/")[0].split(":")[0]
    return host.removeprefix("www.")


def linkedin_company_csv(companies: list[dict[str, Any]]) -> bytes:
    """LinkedIn Matched Audiences company list: one company a row (name, website and its domain,
    industry, country); the columns the graph does not hold are left empty."""
    return csv_bytes(LINKEDIN_COMPANY_HEADER, [
        [c["name"] or "", c["website"] or "", domain_of(c["website"]), "", "", c["industry"] or "", "", "",
         c["country"] or "", ""] for c in companies])

"""Per-request context: the graph, the API key the request was made with, and DataLoaders that
batch each lookup into one query."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from service.auth.keys import ApiKey
from service.auth.store import KeyChecker
from service.database import Graph
from service.ingest.group_commit import GroupCommit
from service.queries import Q
from service.realtime.live import LiveAudiences
from service.request_id import new_request_id
from service.segments.buying_group import configured_roles, normalised

AccountKey = tuple[str, str]  # (source, sourceKey)
RecordKey = tuple[str, str]  # (source, sourceKey) of an opportunity, a campaign or a list
# A page of a company's opportunities: company id, status (WON, LOST, OPEN, ANY), page size, the key it starts after.
OpportunityPageKey = tuple[str, str, int, tuple[float | None, str, str] | None]
# A page of a campaign's or a list's members: (source, sourceKey), page size, the email it starts after.
MemberPageKey = tuple[RecordKey, int, str | None]
EMPTY_PAGE: dict[str, Any] = {"totalCount": 0, "rows": []}


def _by_key(rows: list[dict[str, Any]], key: str, value: str) -> dict[Any, Any]:
    return {_hashable(row[key]): row[value] for row in rows}


def _hashable(key: Any) -> Any:
    return (key["source"], key["sourceKey"]) if isinstance(key, dict) else key


def _key_maps(keys: list[AccountKey]) -> list[dict[str, str]]:
    return [{"source": source, "sourceKey": source_key} for source, source_key in keys]


def _after_map(after: tuple[float | None, str, str] | None) -> dict[str, Any] | None:
    return None if after is None else {"amount": after[0], "source": after[1], "sourceKey": after[2]}


class Loaders:
    """One instance per request, so nothing is cached across requests."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.person = DataLoader(self._people)
        self.account = DataLoader(self._accounts)
        self.known_as_of_account = DataLoader(self._known_as_of_accounts)
        self.accounts_of_person = DataLoader(self._accounts_of_people)
        self.visits_of_person = DataLoader(self._visits_of_people)
        self.company = DataLoader(self._companies)
        self.links_of_company = DataLoader(self._links_of_companies)
        self.segments_of_person = DataLoader(self._segments_of_people)
        self.opportunities_of_company = DataLoader(self._opportunities_of_companies)
        self.contact_roles_of_opportunity = DataLoader(self._contact_roles_of_opportunities)
        self.account_of_opportunity = DataLoader(self._accounts_of_opportunities)
        self.known_as_of_opportunity = DataLoader(self._known_as_of_opportunities)
        self.contact_roles_of_person = DataLoader(self._contact_roles_of_people)
        self.campaigns_of_person = DataLoader(self._campaigns_of_people)
        self.lists_of_person = DataLoader(self._lists_of_people)
        self.campaign = DataLoader(self._campaigns)
        self.marketing_list = DataLoader(self._lists)
        self.members_of_campaign = DataLoader(self._members_of_campaigns)
        self.members_of_list = DataLoader(self._members_of_lists)
        self.buying_group_of_company = DataLoader(self._buying_groups_of_companies)
        self.hierarchy_of_company = DataLoader(self._hierarchy_of_companies)
        self.family_of_company = DataLoader(self._families_of_companies)

    async def _people(self, emails: list[str]) -> list[dict[str, Any] | None]:
        found = _by_key(await self.graph.run(Q.PEOPLE_BY_EMAIL, emails=emails), "email", "person")
        for email, person in found.items():  # the same query brought their accounts: no second round trip
            self.accounts_of_person.prime(email, person["accounts"])
        return [found.get(email) for email in emails]

    async def _accounts(self, keys: list[AccountKey]) -> list[dict[str, Any] | None]:
        found = _by_key(await self.graph.run(Q.ACCOUNTS_BY_KEY, keys=_key_maps(keys)), "key", "account")
        return [found.get(key) for key in keys]

    async def _known_as_of_accounts(self, keys: list[AccountKey]) -> list[list[dict[str, str]]]:
        found = _by_key(await self.graph.run(Q.KEYS_OF_ACCOUNTS, keys=_key_maps(keys)), "key", "knownAs")
        return [found.get(key, []) for key in keys]

    async def _accounts_of_people(self, emails: list[str]) -> list[list[dict[str, Any]]]:
        found = _by_key(await self.graph.run(Q.ACCOUNTS_OF_PEOPLE, emails=emails), "email", "accounts")
        return [found.get(email, []) for email in emails]

    async def _visits_of_people(self, emails: list[str]) -> list[list[dict[str, Any]]]:
        found = _by_key(await self.graph.run(Q.VISITS_OF_PEOPLE, emails=emails), "email", "visits")
        return [found.get(email, []) for email in emails]

    async def _companies(self, ids: list[str]) -> list[dict[str, Any] | None]:
        found = {row["id"]: row for row in await self.graph.run(Q.COMPANIES_BY_ID, ids=ids)}
        return [found.get(id) for id in ids]

    async def _segments_of_people(self, emails: list[str]) -> list[dict[str, Any]]:
        found = {row["email"]: row for row in await self.graph.run(Q.SEGMENTS_OF_PEOPLE, emails=emails)}
        return [found.get(email, {"current": [], "history": []}) for email in emails]

    async def _links_of_companies(self, ids: list[str]) -> list[list[dict[str, Any]]]:
        found = _by_key(await self.graph.run(Q.LINKS_OF_COMPANIES, ids=ids), "id", "links")
        return [found.get(id, []) for id in ids]

    async def _opportunities_of_companies(self, keys: list[OpportunityPageKey]) -> list[dict[str, Any]]:
        """Each page with one opportunity more than asked for (so the caller knows whether more follow)."""
        requests = [{"index": index, "id": id, "status": status, "first": first + 1, "after": _after_map(after)}
                    for index, (id, status, first, after) in enumerate(keys)]
        found = {row["index"]: {"totalCount": row["totalCount"], "rows": row["opportunities"]}
                 for row in await self.graph.run(Q.OPPORTUNITIES_OF_COMPANIES, requests=requests)}
        return [found.get(index, EMPTY_PAGE) for index in range(len(keys))]

    async def _hierarchy_of_companies(self, ids: list[str]) -> list[dict[str, Any]]:
        """Each company's parents, children and ultimate parents, by id."""
        found = {row["id"]: row for row in await self.graph.run(Q.HIERARCHY_OF_COMPANIES, ids=ids)}
        return [found.get(id, {"parents": [], "children": [], "ultimateParents": []}) for id in ids]

    async def _families_of_companies(self, keys: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
        """The family figures of each (company id, scope FAMILY or ULTIMATE): one query for every scope."""
        rows = await self.graph.run(Q.FAMILIES_OF_COMPANIES, ids=sorted({id for id, _ in keys}))
        found = {(row["id"], row["scope"]): row for row in rows}
        return [found.get(key) for key in keys]

    async def _buying_groups_of_companies(self, keys: list[tuple[str, int]]) -> list[list[dict[str, Any]]]:
        """The role holders of each (company id, engagement days): one query per distinct window."""
        found: dict[tuple[str, int], list[dict[str, Any]]] = {}
        roles = [normalised(role) for role in configured_roles()]
        for days in sorted({days for _, days in keys}):
            ids = sorted({id for id, d in keys if d == days})
            for row in await self.graph.run(Q.BUYING_GROUPS_OF_COMPANIES, ids=ids, roles=roles, days=days):
                found[(row["id"], days)] = row["members"]
        return [found.get(key, []) for key in keys]

    async def _contact_roles_of_opportunities(self, keys: list[RecordKey]) -> list[list[dict[str, Any]]]:
        rows = await self.graph.run(Q.CONTACT_ROLES_OF_OPPORTUNITIES, keys=_key_maps(keys))
        found = _by_key(rows, "key", "contactRoles")
        return [found.get(key, []) for key in keys]

    async def _accounts_of_opportunities(self, keys: list[RecordKey]) -> list[dict[str, Any] | None]:
        found = _by_key(await self.graph.run(Q.ACCOUNTS_OF_OPPORTUNITIES, keys=_key_maps(keys)), "key", "account")
        return [found.get(key) for key in keys]

    async def _known_as_of_opportunities(self, keys: list[RecordKey]) -> list[list[dict[str, str]]]:
        found = _by_key(await self.graph.run(Q.KEYS_OF_OPPORTUNITIES, keys=_key_maps(keys)), "key", "knownAs")
        return [found.get(key, []) for key in keys]

    async def _contact_roles_of_people(self, emails: list[str]) -> list[list[dict[str, Any]]]:
        found = _by_key(await self.graph.run(Q.CONTACT_ROLES_OF_PEOPLE, emails=emails), "email", "contactRoles")
        return [found.get(email, []) for email in emails]

    async def _campaigns_of_people(self, emails: list[str]) -> list[list[dict[str, Any]]]:
        found = _by_key(await self.graph.run(Q.CAMPAIGNS_OF_PEOPLE, emails=emails), "email", "memberships")
        return [found.get(email, []) for email in emails]

    async def _lists_of_people(self, emails: list[str]) -> list[list[dict[str, Any]]]:
        found = _by_key(await self.graph.run(Q.LISTS_OF_PEOPLE, emails=emails), "email", "memberships")
        return [found.get(email, []) for email in emails]

    async def _campaigns(self, keys: list[RecordKey]) -> list[dict[str, Any] | None]:
        found = _by_key(await self.graph.run(Q.CAMPAIGNS_BY_KEY, keys=_key_maps(keys)), "key", "campaign")
        return [found.get(key) for key in keys]

    async def _lists(self, keys: list[RecordKey]) -> list[dict[str, Any] | None]:
        found = _by_key(await self.graph.run(Q.LISTS_BY_KEY, keys=_key_maps(keys)), "key", "list")
        return [found.get(key) for key in keys]

    async def _members_of_campaigns(self, keys: list[MemberPageKey]) -> list[dict[str, Any]]:
        return await self._member_pages(Q.MEMBERS_OF_CAMPAIGNS, keys)

    async def _members_of_lists(self, keys: list[MemberPageKey]) -> list[dict[str, Any]]:
        return await self._member_pages(Q.MEMBERS_OF_LISTS, keys)

    async def _member_pages(self, query: Q, keys: list[MemberPageKey]) -> list[dict[str, Any]]:
        """Each page with one member more than asked for (so the caller knows whether more follow)."""
        requests = [{"index": index, "source": source, "sourceKey": source_key, "first": first + 1, "after": after}
                    for index, ((source, source_key), first, after) in enumerate(keys)]
        found = {row["index"]: {"totalCount": row["totalCount"], "rows": row["members"]}
                 for row in await self.graph.run(query, requests=requests)}
        return [found.get(index, EMPTY_PAGE) for index in range(len(keys))]


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    graph: Graph
    live: LiveAudiences | None = None  # the service's live loop; absent when the schema runs in-process
    # The key that authenticated the request; its scopes decide which root fields may run
    # (service.api.permissions). None grants nothing.
    key: ApiKey | None = None
    # The service's key checker, told when a key is revoked here; absent when the schema runs in-process.
    keys: KeyChecker | None = None
    # The service's group commit, which the upserts write through; absent in-process (each writes alone).
    writes: GroupCommit | None = None
    # A WebSocket's connection_init payload, where a subscription presents its key.
    connection_params: dict[str, Any] | None = None
    # Names the request in the log line of an internal error, and in its answer (service.request_id).
    request_id: str = field(default_factory=new_request_id)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.graph)

"""Corporate families: the parent/subsidiary hierarchy, checked for cycles before an import writes.

The hierarchy's source of truth is on accounts, `(:Account)-[:SUBSIDIARY_OF]->(:Account)`: a
source's `ParentId` (one parent per account and source) and MDM's `parents` links (by link id).
Companies are regrouped from SAME_COMPANY and may be re-created, so the company-level hierarchy,
`(:Company)-[:CHILD_OF]->(:Company)`, is derived from the accounts' links whenever either side
changes (`ingest/families_derive`), in the transaction of the change. A company is a subsidiary
of every company one of its accounts' parents is in.

A hierarchy must have no cycle, and an account's parent may not be in its own company (a
subsidiary is a different company, not a duplicate). `check_families` looks at what the import
would make of the graph's hierarchy before anything is written (a large import commits in
several transactions, so a check while writing would come too late for its first ones):
the graph's links, less those the import replaces, plus the import's own, over the companies
as the import's SAME_COMPANY links would join them. `rederive_families` guards again after
writing, in the write's transaction, against an import that raced this one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from service.database import Graph, Transaction
from service.ingest.batch import Batch, Row, Table
from service.ingest.errors import ImportRejected, RowError
from service.queries import Q

AccountKey = tuple[str, str]


@dataclass(frozen=True)
class _Link:
    """A parent link the import writes: the child and parent as the row names them."""

    table: Table
    row: Row
    column: str  # the column naming the parent
    child: AccountKey
    parent: AccountKey


class _Union:
    """Companies joined by the import's SAME_COMPANY links; each set is named by its smallest id."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, company: str) -> str:
        root = company
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while company != root:  # path compression
            company, self.parent[company] = self.parent.get(company, company), root
        return root

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            low, high = sorted((ra, rb))
            self.parent[high] = low


def _links(batch: Batch) -> list[_Link]:
    links: list[_Link] = []
    accounts = batch.tables.get("accounts")
    if accounts:
        links += [_Link(accounts, row, "ParentId", (batch.source, row["sourceKey"]), (batch.source, row["parentKey"]))
                  for row in accounts.upserts if row.get("parentKey")]
    parents = batch.tables.get("parents")
    if parents:
        links += [_Link(parents, row, "AccountIdParent", (row["sourceChild"], row["keyChild"]),
                        (row["sourceParent"], row["keyParent"])) for row in parents.upserts]
    return links


def _identity(batch: Batch, row: Row) -> AccountKey:
    """The account an accounts row writes: its original's key for a synced copy."""
    return (row.get("syncedFromSource") or batch.source, row.get("syncedFromKey") or row["sourceKey"])


async def check_families(runner: Graph | Transaction, batch: Batch, errors: list[RowError]) -> None:
    """Errors for the import's parent links that would make a cycle, or join a company to itself; and for
    its SAME_COMPANY links that would put a parent and its subsidiary in one company. Reads only."""
    links = _links(batch)
    joins = batch.tables["same-company"].upserts if "same-company" in batch.tables else []
    if not links and not joins:
        return
    existing = await runner.run(Q.PARENTS_ALL)
    if not links and not existing:
        return
    accounts = batch.tables.get("accounts")
    account_rows = (accounts.upserts + accounts.deletions) if accounts else []
    own = {(batch.source, row["sourceKey"]): _identity(batch, row) for row in account_rows}
    wanted = {key for link in links for key in (link.child, link.parent)}
    wanted |= {key for row in joins for key in ((row["sourceA"], row["keyA"]), (row["sourceB"], row["keyB"]))}
    wanted |= set(own) | set(own.values())
    found: dict[AccountKey, tuple[AccountKey, str]] = {}
    keys = [{"source": s, "sourceKey": k} for s, k in sorted(wanted)]
    for record in await runner.run(Q.ACCOUNTS_COMPANIES, keys=keys):
        account = record["account"]
        found[(record["key"]["source"], record["key"]["sourceKey"])] = (
            (account["source"], account["sourceKey"]), record["companyId"])

    def account_of(key: AccountKey) -> AccountKey:
        if key in found:
            return found[key][0]
        return own.get(key, key)

    def company_of(key: AccountKey) -> str:
        if key in found:
            return found[key][1]
        identity = own.get(key, key)
        return found[identity][1] if identity in found else f"{identity[0]}/{identity[1]}"  # a new account's own

    # The graph's links that stay: not this source's ParentId of an account the import sends again (or
    # deletes), not an MDM link the import sends again (or deletes).
    replaced_accounts = {account_of(key) for key in own}
    mdm_ids = {row["mdmId"] for table in (batch.tables.get("parents"),) if table
               for row in table.upserts + table.deletions}
    kept = [row for row in existing if not _replaced(row, batch.source, replaced_accounts, mdm_ids)]
    union = _Union()
    for row in joins:
        union.join(company_of((row["sourceA"], row["keyA"])), company_of((row["sourceB"], row["keyB"])))
    edges: dict[str, set[str]] = {}
    inner: set[str] = set()  # companies the graph's links make their own parent once the import joins them

    def add(child: str, parent: str) -> None:
        edges.setdefault(child, set()).add(parent)

    for row in kept:
        child, parent = union.find(row["childCompany"]), union.find(row["parentCompany"])
        if child == parent:
            inner.add(child)
        else:
            add(child, parent)
    new: list[tuple[_Link, str, str]] = []
    for link in links:
        child, parent = union.find(company_of(link.child)), union.find(company_of(link.parent))
        if child == parent:
            errors.append(_error(link, f"the parent {link.parent[1]!r} of {link.parent[0]!r} is in the same company "
                                       f"as the account ({child}): a subsidiary is another company, not one "
                                       "SAME_COMPANY joins to it"))
        else:
            new.append((link, child, parent))
            add(child, parent)
    component = _components(edges)
    for link, child, parent in new:
        if component.get(child) is not None and component.get(child) == component.get(parent):
            cycle = [child, *_path(edges, parent, child)]
            errors.append(_error(link, f"the parent {link.parent[1]!r} of {link.parent[0]!r} would make a cycle in "
                                       f"the corporate hierarchy: companies {' -> '.join(cycle)} (each a "
                                       "subsidiary of the next)"))
    if joins:
        table = batch.tables["same-company"]
        for row in joins:
            root = union.find(company_of((row["sourceA"], row["keyA"])))
            if root in inner or component.get(root) is not None:
                errors.append(RowError(table.origin, row["_line"], "AccountIdB", id=table.spec.row_id(row),
                                       reason="the link would join into one company a parent and its subsidiary "
                                              f"in the corporate hierarchy (company {root}): a subsidiary is "
                                              "another company"))


def _replaced(row: dict[str, Any], source: str, accounts: set[AccountKey], mdm_ids: set[str]) -> bool:
    if row["mdmId"] is not None:
        return bool(row["mdmId"] in mdm_ids)
    return row["source"] == source and (row["child"]["source"], row["child"]["sourceKey"]) in accounts


def _error(link: _Link, reason: str) -> RowError:
    return RowError(link.table.origin, link.row["_line"], link.column, id=link.table.spec.row_id(link.row),
                    reason=reason)


def _components(edges: dict[str, set[str]]) -> dict[str, int]:
    """The companies on a cycle, each with the number of its strongly connected component (Tarjan's,
    without recursion); companies on no cycle are left out."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: dict[str, int] = {}
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(edges.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(edges.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    result.update({member: index[node] for member in members})
    return result


def _path(edges: dict[str, set[str]], start: str, end: str) -> list[str]:
    """The shortest chain of parents from `start` up to `end` (both included)."""
    before: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == end:
            break
        for nxt in sorted(edges.get(node, ())):
            if nxt not in before:
                before[nxt] = node
                queue.append(nxt)
    path: list[str] = []
    step: str | None = end
    while step is not None:
        path.append(step)
        step = before.get(step)
    return path[::-1]


async def rederive_families(tx: Transaction, keys: set[AccountKey]) -> None:
    """Derive the company hierarchy of these accounts' companies again, then refuse (rolling the
    transaction back) a hierarchy with a cycle: the guard behind check_families."""
    key_maps = [{"source": s, "sourceKey": k} for s, k in sorted(keys)]
    await tx.run(Q.FAMILIES_DERIVE, keys=key_maps)
    cycles = await tx.run(Q.PARENTS_CYCLES, keys=key_maps)
    if cycles:
        companies = ", ".join(sorted(row["companyId"] for row in cycles))
        raise ImportRejected([RowError("-", 0, "ParentId", reason=(
            f"the corporate hierarchy would have a cycle through companies {companies} (an import written since "
            "this one was checked may have added a link); nothing of this transaction was written"))])

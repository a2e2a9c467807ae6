"""Publishing many notifications at once: up to ``MAX_BATCH`` of one account in one transaction, all or nothing.

A client with a backlog (an import, a replay, a load test) pays one request, one parse and one commit for the lot
instead of one per notification. All or nothing, because a client that is told "some went in" must then find out
which and send the rest again, and a second send of one that went in is a second webhook: so every document is
checked first, every problem of every document is reported (its pointer prefixed by the document's index in the
array), and nothing is stored unless all of them are good. The answer lists, per notification and in the order
sent, the deliveries it made, as ``publish`` does for one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from appinstall.errors import Invalid, Problem
from appinstall.registry import service as registry
from appinstall.store import Store
from appinstall.webhooks.envelope import MAX_BATCH, EnvelopeError, Routed, route
from appinstall.webhooks.models import PublishedDelivery
from appinstall.webhooks.publishing import MAX_CONVERSATION_ID, PUBLISH_MANY, Publication, overlong_conversation


def _routed(documents: list[Any]) -> tuple[list[Routed], list[int]]:
    """Every envelope of every document, in order, and the index of the document each came from; ``Invalid``
    with the problems of every bad document when there is one."""
    envelopes: list[Routed] = []
    owners: list[int] = []
    problems: list[Problem] = []
    bad = 0
    for index, document in enumerate(documents):
        try:
            routed = route(document)
        except EnvelopeError as error:
            bad += 1
            problems += [replace(problem, pointer=f"/{index}{problem.pointer}") for problem in error.problems]
            continue
        too_long = overlong_conversation(routed)
        if too_long is not None:
            bad += 1
            problems.append(
                Problem(
                    f"/{index}/body/changes",
                    "maxLength",
                    f"conversation ids are at most {MAX_CONVERSATION_ID} characters; "
                    f"one of these changes has {len(too_long)}",
                )
            )
            continue
        envelopes += routed
        owners += [index] * len(routed)
    if problems:
        verb = "is" if bad == 1 else "are"
        raise Invalid(
            "invalid-notification",
            f"{bad} of the {len(documents)} notifications {verb} not in the platform's envelope; none was published",
            problems=problems,
        )
    return envelopes, owners


def check_batch(documents: Any) -> list[Any]:
    """The documents of a batch body, or ``Invalid`` saying why it is not one: not an array, empty, too long."""
    if not isinstance(documents, list):
        raise Invalid(
            "invalid-batch",
            "the body must be a JSON array of notifications",
            problems=[Problem("", "type", "must be an array")],
        )
    if not documents:
        raise Invalid(
            "invalid-batch",
            f"the batch is empty: send 1 to {MAX_BATCH} notifications",
            problems=[Problem("", "minItems", "must hold at least one notification")],
        )
    if len(documents) > MAX_BATCH:
        raise Invalid(
            "invalid-batch",
            f"a batch holds at most {MAX_BATCH} notifications and this one has {len(documents)}: split it",
            problems=[Problem("", "maxItems", f"must hold at most {MAX_BATCH} notifications")],
        )
    return documents


async def publish_batch(
    store: Store, account_id: str, documents: Any, *, installation_id: str | None = None
) -> list[list[PublishedDelivery]]:
    """Publish every notification of ``documents`` (a list) in one transaction: per notification, in order, the
    deliveries it made (none when nobody subscribes). ``installation_id`` restricts the fan-out as in ``publish``."""
    envelopes, owners = _routed(check_batch(documents))
    if installation_id is not None:
        await registry.get(store, account_id, installation_id, include_deleted=False, with_secret=False)
    # A batched unit like a single publish: batches and single publishes arriving together share a transaction.
    published = await store.run_batched(
        PUBLISH_MANY, Publication(account_id, envelopes, store.clock(), installation_id)
    )
    answer: list[list[PublishedDelivery]] = [[] for _ in documents]
    for owner, deliveries in zip(owners, published, strict=True):
        answer[owner] += deliveries
    return answer


__all__ = ["MAX_BATCH", "check_batch", "publish_batch"]

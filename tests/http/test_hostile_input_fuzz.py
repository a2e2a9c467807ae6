"""Every route of the app, fed each class of hostile input in each place it reads input, answers below 500.

Complements ``tests/registry/test_openapi_fuzz.py`` (schemathesis from the OpenAPI document, random shapes, one
engine, operator credentials only): this walks ``app.routes`` itself, so routes outside the document count too,
reaches the handlers with the credentials each one needs (an AppJWT and a ConsumerJWS for the Send API, client
credentials for the token grants, real ids in the path) and feeds the classes a probe found 500s with (NUL, lone
surrogates, deep nesting, huge integers, over-long digit strings, malformed cursors) on both engines. A sweep puts
every class in every place once; hypothesis then mixes classes, places and neighbouring values.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Mount, Route

from appinstall.settings import Settings
from tests.http.fuzz_world import FORM, OPERATOR, PLACEHOLDER, QUERY_VALUES, World, build_world, form_body, json_body
from tests.http.hostile import BAD_KEYS, CURSOR_VALUES, JSON_VALUES, URL_VALUES, url_encoded

# --- The routes, walked -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]


def _leaf_routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _leaf_routes(list(included.routes))
        else:
            yield route


def _query_names(dependant: Dependant) -> Iterator[str]:
    for param in dependant.query_params:
        yield str(param.alias)
    for sub in dependant.dependencies:
        yield from _query_names(sub)


def _documented_query_names(route: APIRoute) -> Iterator[str]:
    """Query parameters a route reads by hand (a ``PlainRoute``) and documents in its ``openapi_extra``."""
    for parameter in (route.openapi_extra or {}).get("parameters", []):
        if parameter.get("in") == "query":
            yield str(parameter["name"])


def targets(routes: list[BaseRoute]) -> list[Target]:
    """Every method of every route, the ones that delete or rotate last (so the others still find their ids); a
    mounted folder of files (the API reference's) as one route whose file name is a path parameter."""
    found = []
    for route in _leaf_routes(routes):
        if isinstance(route, Mount):
            found.append(Target("GET", route.path + "/{asset}", ("asset",), ()))
            continue
        assert isinstance(route, Route), f"a route the walk does not know: {route!r}"
        query: tuple[str, ...] = ()
        if isinstance(route, APIRoute):
            query = tuple(dict.fromkeys([*_query_names(route.dependant), *_documented_query_names(route)]))
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            found.append(Target(method, route.path, tuple(route.param_convertors), query))
    return sorted(found, key=_last_if_destructive)


def _last_if_destructive(target: Target) -> tuple[bool, bool]:
    """Deleting or rotating last, so the others still find their ids; signing out of the console after all."""
    return target.path.endswith("/sign-out"), target.method == "DELETE" or target.path.endswith("/secret")


# --- Requests -------------------------------------------------------------------------------------------------


@dataclass
class Probe:
    """One request: a target with one hostile value in one place."""

    target: Target
    where: str  # "path:account_id", "query:cursor", "json:/a/0/b", "json-key", "form:client_id"
    what: str  # the class of hostile value
    value: bytes | str


def _json_leaves(document: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(document, dict):
        for key, item in document.items():
            yield from _json_leaves(item, (*path, key))
    elif isinstance(document, list):
        for index, item in enumerate(document):
            yield from _json_leaves(item, (*path, index))
    else:
        yield path


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def _with_raw_json(document: Any, path: tuple[Any, ...], raw: str) -> bytes:
    changed = copy.deepcopy(document)
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = PLACEHOLDER
    text = json.dumps(changed, ensure_ascii=False).replace(json.dumps(PLACEHOLDER, ensure_ascii=False), raw, 1)
    return text.encode("utf-8", "surrogatepass")


def _with_raw_key(document: Any, raw: str) -> bytes:
    changed = copy.deepcopy(document)
    holder = changed
    while isinstance(holder, list) and holder:
        holder = holder[0]
    if not isinstance(holder, dict):
        return json.dumps(changed).encode()
    holder[PLACEHOLDER] = 1
    return json.dumps(changed, ensure_ascii=False).replace(json.dumps(PLACEHOLDER, ensure_ascii=False), raw, 1).encode()


async def send(http: httpx.AsyncClient, world: World, probe: Probe) -> int:
    target = probe.target
    headers = dict(world.console if target.path.startswith("/console/") else OPERATOR)
    if "/messaging/consumer/" in target.path or target.path.endswith("/consumer"):
        headers = {"Authorization": world.app_jwt, "X-LP-ON-BEHALF": world.consumer_jws}
    if target.method in ("PUT", "PATCH", "DELETE"):
        headers["If-Match"] = "*"
    kind, _, name = probe.where.partition(":")
    path = target.path
    for param in target.path_params:
        raw = probe.value if kind == "path" and name == param else world.ids[param].encode()
        assert isinstance(raw, bytes)
        path = path.replace("{" + param + "}", url_encoded(raw))
    query = [(param, QUERY_VALUES[param]) for param in target.query_params if QUERY_VALUES.get(param)]
    query_text = urlencode(query)
    if kind == "query":
        assert isinstance(probe.value, bytes)
        others = urlencode([(param, value) for param, value in query if param != name])
        query_text = "&".join(part for part in (others, f"{name}={url_encoded(probe.value)}") if part)
    content: bytes | None = None
    form = form_body(target.path, world)
    document = json_body(target.method, target.path, world)
    if form is not None and kind == "basic":
        assert isinstance(probe.value, bytes)
        headers = {
            "Content-Type": FORM,
            "Authorization": "Basic " + _b64(probe.value + b":" + world.client_secret.encode()),
        }
        content = b"grant_type=client_credentials"
    elif form is not None:
        headers = {"Content-Type": FORM}  # the client authenticates with the form, nothing else
        pairs = [
            (key, probe.value if kind == "form" and key == name else value.encode()) for key, value in form.items()
        ]
        content = "&".join(f"{key}={url_encoded(value)}" for key, value in pairs).encode()  # type: ignore[arg-type]
    elif document is not None:
        headers["Content-Type"] = "application/merge-patch+json" if target.method == "PATCH" else "application/json"
        if kind == "json":
            assert isinstance(probe.value, str)
            content = _with_raw_json(document, tuple(json.loads(name)), probe.value)
        elif kind == "json-key":
            assert isinstance(probe.value, str)
            content = _with_raw_key(document, probe.value)
        else:
            content = json.dumps(document).encode()
    url = path + (f"?{query_text}" if query_text else "")
    return (await http.request(target.method, url, content=content, headers=headers)).status_code


EVERY_LEAF_GETS = ("nul escape", "lone high surrogate escape")


def sweep(target: Target, world: World) -> Iterator[Probe]:
    """Every class in every place the target reads, once."""
    for param in target.path_params:
        for what, value in URL_VALUES.items():
            yield Probe(target, f"path:{param}", what, value)
    for param in (*target.query_params, "unknown"):
        for what, value in URL_VALUES.items():
            yield Probe(target, f"query:{param}", what, value)
        if param == "cursor":
            for what, value in CURSOR_VALUES.items():
                yield Probe(target, "query:cursor", what, value)
    form = form_body(target.path, world)
    for key in form or ():
        for what, value in URL_VALUES.items():
            yield Probe(target, f"form:{key}", what, value)
    for what, value in URL_VALUES.items() if form else ():
        yield Probe(target, "basic:client_id", what, value)  # client_secret_basic: base64, out of the edge's sight
        yield Probe(target, "basic:client_id", what + ", form-encoded", url_encoded(value).encode())
    document = json_body(target.method, target.path, world)
    if document is None:
        return
    leaves = list(_json_leaves(document))
    for index, leaf in enumerate(leaves):
        classes = JSON_VALUES if index == 0 else {key: JSON_VALUES[key] for key in EVERY_LEAF_GETS}
        if isinstance(_at(document, leaf), int | float):  # a BIGINT holds it; does the column it goes to?
            classes = {**classes, "2**62": str(2**62), "-2**62": str(-(2**62))}
        for what, raw in classes.items():
            yield Probe(target, f"json:{json.dumps(list(leaf))}", what, raw)
    for what, raw in BAD_KEYS.items():
        yield Probe(target, "json-key", what, raw)


def _probes_of(targets_: list[Target], world: World) -> list[Probe]:
    return [probe for target in targets_ for probe in sweep(target, world)]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Limits the probes would reach long before they are done, and then meet 429 instead of the handler: the
    Send API's budget per consumer, and failed client authentications per client and per address."""
    unlimited = {"sandbox_send_per_second": 1e6, "sandbox_send_burst": 10**6}
    unlimited |= {"auth_failures_per_client": 10**6, "auth_failures_per_address": 10**6}
    return settings.model_copy(update=unlimited)


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[tuple[httpx.AsyncClient, World, list[Target]]]:
    """A client with no credentials of its own (each probe brings the ones its route needs), and the world."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a 500 is counted, not raised
    async with httpx.AsyncClient(transport=transport, base_url="http://appinstall.test") as http:
        yield http, await build_world(http), targets(app.routes)


def _mixed(probes: list[Probe], count: int) -> list[Probe]:
    """``count`` probes drawn by hypothesis: a swept probe, its hostile value put after random text."""
    drawn: list[Probe] = []

    @given(probe=st.sampled_from(probes), prefix=st.text(max_size=8))
    @hypothesis_settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def draw(probe: Probe, prefix: str) -> None:
        value = probe.value
        if isinstance(value, bytes):
            value = prefix.encode("utf-8", "surrogatepass") + value
        elif probe.where.startswith("json:") and value.startswith('"'):
            value = json.dumps(prefix)[:-1] + value[1:]
        drawn.append(Probe(probe.target, probe.where, probe.what, value))

    draw()
    return drawn


@pytest.mark.anyio
async def test_every_route_answers_hostile_input_below_500(
    served: tuple[httpx.AsyncClient, World, list[Target]],
) -> None:
    http, world, all_targets = served
    started = time.monotonic()
    swept = _probes_of(all_targets, world)
    probes = swept + _mixed(swept, 200)
    failures = []
    console_answers = set()
    for probe in probes:
        status = await send(http, world, probe)
        if probe.target.path.startswith("/console/") and probe.target.method == "GET":
            console_answers.add(status)
        if status >= 500:
            failures.append(f"{status} {probe.target.method} {probe.target.path} {probe.where} ← {probe.what}")
    elapsed = time.monotonic() - started
    assert 200 in console_answers, "the console's probes reached no page: was the session lost?"
    assert not failures, f"{len(failures)} of {len(probes)} probes failed in {elapsed:.1f} s:\n" + "\n".join(failures)

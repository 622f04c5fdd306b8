"""Hostile input against the HTTP service: every route, header, token and body.

Two generators feed the same checks:

* schemathesis, from the service's own OpenAPI document (cases that fit the schema and cases
  that break it);
* hand-written strategies for what a schema cannot say: raw and invalid UTF-8 bytes, deeply
  nested or truncated JSON, bodies over the size limit, bodies in pieces, lying
  ``Content-Length``, hostile header bytes, forged/expired/alg-less shopper tokens, signed
  tokens with hostile claims, SQL and prompt injection in every field, and threads of
  another integrator or another shopper.

Requests go in-process straight to the ASGI app (raw scope, any header bytes) and, in a
smaller run, over raw sockets to a real uvicorn server. Every answer is checked
(:meth:`Service.check`): never a 5xx or an error logged, an exception or a hang; every error
is the JSON error shape; streams end with ``final``/``error``/``[DONE]``; a refused request
leaves the store, the checkpoints and the thread table unchanged; no request changes another
customer's orders, returns or handoffs; no answer carries another customer's data, a secret
or a stack trace, and no thread of another key or shopper answers.

``SHOPAGENT_FUZZ_EXAMPLES`` scales the example counts; ``benchmarks/fuzz.py`` runs the same
properties with 10,000+ inputs.
"""

from __future__ import annotations

import fuzz_http_service_common
from fuzz_common import fuzz_settings
from fuzz_http_common import EXAMPLES, Spec
from fuzz_http_strategies_common import hand_specs, schema_specs
from hypothesis import given
from hypothesis import strategies as st

# shared fixtures
real_service = fuzz_http_service_common.real_service
service = fuzz_http_service_common.service


@fuzz_settings(EXAMPLES * 5)
@given(spec=hand_specs())
def test_hostile_requests_get_clear_errors_and_change_nothing(service, spec: Spec) -> None:
    outcome = service.run(spec)
    assert not outcome.problems, outcome.explain(repr(spec)[:600])


@fuzz_settings(EXAMPLES * 3)
@given(spec=schema_specs())
def test_openapi_cases_positive_and_negative(service, spec: Spec) -> None:
    outcome = service.run(spec)
    assert not outcome.problems, outcome.explain(repr(spec)[:600])


@fuzz_settings(max(10, EXAMPLES))
@given(spec=st.one_of(hand_specs(), schema_specs()))
def test_real_server_over_sockets(real_service, spec: Spec) -> None:
    outcome = real_service.run(spec)
    assert not outcome.problems, outcome.explain(repr(spec)[:600])

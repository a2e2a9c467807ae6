"""How fast is manifest validation? Validations per second of the seed example, three ways, in one run.

The platform validates a manifest on every upload, every registry write and every CLI call, and integrators are
invited to validate with the published JSON Schema instead; both are only worth offering if our validator is
cheap. So this measures, on the same machine and in the same process:

* ``validate_document`` on the parsed seed: the validator's core (the pydantic model plus error translation);
* ``validate_manifest`` on the seed's raw bytes: what an upload costs, strict parsing (duplicate keys) included;
* ``jsonschema`` (``Draft202012Validator(manifest_schema()).validate``) on the parsed seed, with the validator
  built once outside the loop: the reference point, the cost of the generic route.

Each is warmed up, then timed with ``timeit`` over several repeats; the best repeat counts, since slower ones
measure interference from the rest of the machine, not the code. The targets: ``validate_document`` at least
25,000 validations per second and at least 20 times as fast as ``jsonschema``.

Run ``python bench/manifest_validation.py``; add ``--check`` to exit 1 when a target is missed (for CI).
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from rich.console import Console
from rich.table import Table

from appinstall import validate_document, validate_manifest
from appinstall.manifest.schema import manifest_schema

TARGET_OPS_PER_SECOND = 25_000
TARGET_RATIO_TO_JSONSCHEMA = 20.0
REPEATS = 7
WARMUP_CALLS = 2_000
MIN_SECONDS_PER_REPEAT = 0.2


@dataclass(frozen=True, slots=True)
class Measurement:
    name: str
    seconds_per_op: float

    @property
    def ops_per_second(self) -> float:
        return 1.0 / self.seconds_per_op


def measure(name: str, operation: Callable[[], object]) -> Measurement:
    """Best time per call over ``REPEATS`` runs, each long enough (``autorange``) to swamp timer resolution."""
    for _ in range(WARMUP_CALLS):
        operation()
    timer = timeit.Timer(operation)
    number, elapsed = timer.autorange()
    if elapsed < MIN_SECONDS_PER_REPEAT:
        number = max(number, int(number * MIN_SECONDS_PER_REPEAT / max(elapsed, 1e-9)))
    best = min(timer.repeat(repeat=REPEATS, number=number))
    return Measurement(name, best / number)


def seed_bytes() -> bytes:
    return resources.files("appinstall.manifest").joinpath("examples", "seed.json").read_bytes()


def run() -> tuple[Measurement, Measurement, Measurement]:
    raw = seed_bytes()
    document: Any = json.loads(raw)
    schema_validator = Draft202012Validator(manifest_schema())

    # A validator that fails fast would look fast: make sure all three accept the seed before timing them.
    assert validate_document(document).valid, "the seed must be valid"
    assert validate_manifest(raw).valid, "the seed must be valid"
    schema_validator.validate(document)

    return (
        measure("validate_document (parsed seed)", lambda: validate_document(document)),
        measure("validate_manifest (raw bytes)", lambda: validate_manifest(raw)),
        measure("jsonschema Draft202012Validator.validate", lambda: schema_validator.validate(document)),
    )


def report(measurements: tuple[Measurement, Measurement, Measurement], console: Console) -> bool:
    """Print the table and the verdict; return whether both targets are met."""
    core, _, reference = measurements
    table = Table(title="Validating the seed manifest")
    table.add_column("name")
    table.add_column("ops/s", justify="right")
    table.add_column("µs/op", justify="right")
    table.add_column("vs jsonschema", justify="right")
    for measurement in measurements:
        ratio = reference.seconds_per_op / measurement.seconds_per_op
        table.add_row(
            measurement.name,
            f"{measurement.ops_per_second:,.0f}",
            f"{measurement.seconds_per_op * 1e6:,.1f}",
            f"{ratio:,.1f}x",
        )
    console.print(table)

    ratio = reference.seconds_per_op / core.seconds_per_op
    passed = core.ops_per_second >= TARGET_OPS_PER_SECOND and ratio >= TARGET_RATIO_TO_JSONSCHEMA
    verdict = "PASS" if passed else "FAIL"
    console.print(
        f"{verdict}: validate_document {core.ops_per_second:,.0f}/s (target ≥ {TARGET_OPS_PER_SECOND:,}/s), "
        f"{ratio:,.1f}x jsonschema (target ≥ {TARGET_RATIO_TO_JSONSCHEMA:g}x)",
        highlight=False,
        soft_wrap=True,
    )
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    arguments = parser.parse_args(argv)
    passed = report(run(), Console())
    return 1 if arguments.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())

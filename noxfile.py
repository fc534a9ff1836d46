"""Developer sessions: `nox -l` lists them. CI runs `bash .ci/run`, which runs the same checks."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck", "codegen_check", "docs"]

PYTHON = "3.11"
# The versions the classifiers in pyproject.toml name. `nox -s tests` runs each one found on
# the PATH and skips (says so) the others; `nox -s tests-3.12` runs one.
PYTHONS = ["3.11", "3.12", "3.13"]


def _install(session: nox.Session) -> None:
    session.install("-e", ".[dev]")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the whole test suite (conformance included) on each supported Python."""
    _install(session)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def coverage(session: nox.Session) -> None:
    """The test suite under coverage, subprocesses (the `trio-feeds` commands) included.

    ``[tool.coverage]`` in pyproject.toml: each process writes its own data file, combined
    here; ``coverage html`` afterwards writes ``htmlcov/``.
    """
    _install(session)
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs)
    session.run("coverage", "combine", "-q")
    session.run("coverage", "report")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the docs site into docs/_build/html; any warning (a broken reference too) fails it."""
    # What the documented modules import: the command's (cli), the servers' (testing), the
    # Redis Streams module's (redis), pytest for the pytest plugin.
    session.install("-e", ".[cli,testing,redis,docs]", "pytest")
    session.run("sphinx-build", "-n", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """Schema conformance: document examples, generated cases and bad input, with counts."""
    _install(session)
    session.run("pytest", "tests/test_conformance.py", "-q", "-s", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff lint and format check; the import contracts of pyproject.toml (lint-imports)."""
    _install(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package and the examples."""
    _install(session)
    session.run("mypy")


@nox.session(python=PYTHON)
def codegen(session: nox.Session) -> None:
    """Regenerate trio_feeds/models/ from schemas/."""
    _install(session)
    session.run("python", "codegen/generate.py")


@nox.session(python=PYTHON)
def codegen_check(session: nox.Session) -> None:
    """Fail when trio_feeds/models/ differs from what the schemas generate."""
    _install(session)
    session.run("python", "codegen/generate.py", "--check")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks (not part of CI): decode, JSON libraries, conform, Redis Streams publish and
    consume, then WebSocket throughput, latency, reconnect and memory.

    ``nox -s bench -- --quick`` shortens the throughput run (the memory test runs 15 s, not 60).
    """
    _install(session)
    session.run("python", "benchmarks/decode.py")
    session.run("python", "benchmarks/json_libs.py")
    session.run("python", "benchmarks/conform.py")
    session.run("python", "benchmarks/books.py")
    session.run("python", "benchmarks/normalize.py")
    session.run("python", "benchmarks/cryptology_xdr.py")
    session.run("python", "benchmarks/recording.py", "--quick")
    session.run("python", "benchmarks/redis_streams.py")
    session.run("python", "benchmarks/throughput.py", *session.posargs)


@nox.session(python=PYTHON)
def soak(session: nox.Session) -> None:
    """Soak (not part of the default run): 30 min of every protocol under random faults; checks
    RSS growth, latency creep, losses, duplicates and gaps; exits 1 when a check fails.

    ``nox -s soak -- --duration 10m --output soak.json`` runs a shorter one (CI runs 60 s).
    """
    _install(session)
    session.run("python", "benchmarks/soak.py", *session.posargs)


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """Codec fuzzing: 10^5 mutated frames per protocol, then a live feed through 1000 bad ones.

    ``nox -s fuzz -- --seed 7`` fuzzes with another seed; a failure prints the command that
    makes its frame again (``python -m tests.fuzz --protocol P --seed S --start I --count 1``).
    """
    _install(session)
    session.run("python", "-m", "tests.fuzz", "--per-protocol", "100000", "--live", "1000", *session.posargs)

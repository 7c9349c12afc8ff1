"""``chainright verify``: read a bundle, verify it offline, print the verdict (exit code out)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

from chain.errors import ChainError

REEXPORT = "re-export with 'chainright provenance export'"
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _address(value: str | None, option: str) -> str | None:
    if value is not None and not ADDRESS.match(value):
        raise ChainError(f"{option} takes a contract address (0x and 40 hex digits), not {value!r}")
    return value


def _validator_sets(validators: str | None) -> dict[int, set[str]]:
    if not validators:
        return {}
    chain_id, _, members = validators.partition("=")
    if not chain_id.isdigit() or not members:
        raise ChainError("--validators takes CHAIN_ID=0xA,0xB,...")
    return {int(chain_id): {m.strip() for m in members.split(",") if m.strip()}}


def run_verify(bundle_file: Path, content: Path | None, validators: str | None,
               identity_registry: str | None, rights_registry: str | None) -> int:
    """Verify ``bundle_file`` and print the verdict; the exit code (0: verified, 1: not)."""
    from chain.provenance import verify_bundle

    sets = _validator_sets(validators)
    identity_registry = _address(identity_registry, "--identity-registry")
    rights_registry = _address(rights_registry, "--rights-registry")
    try:
        text = bundle_file.read_text()
    except FileNotFoundError:
        raise ChainError(f"no bundle at {bundle_file}") from None
    try:
        bundle = json.loads(text)
    except ValueError as exc:
        typer.echo(f"{bundle_file} is not a bundle: not JSON ({exc}); {REEXPORT}")
        return 1
    data = None
    if content is not None:
        try:
            data = content.read_bytes()
        except FileNotFoundError:
            raise ChainError(f"no file at {content}") from None
    verdict = verify_bundle(bundle, content=data, validators=sets, identity_registry=identity_registry,
                            rights_registry=rights_registry)
    shape = next((c for c in verdict.checks if c.what == "bundle shape" and not c.ok), None)
    if shape is not None:
        typer.echo(f"{bundle_file} is not a valid bundle: {shape.detail}; {REEXPORT}")
        return 1
    subject = bundle["subject"]
    typer.echo(f"bundle for token {subject.get('token_id')} of {subject.get('collection')} "
               f"on chain {subject.get('chain_id')}: {len(bundle['events'])} events")
    passed = sum(c.ok for c in verdict.checks)
    typer.echo(f"{passed} of {len(verdict.checks)} checks passed")
    story = next((c for c in verdict.checks if c.what == "story" and c.ok), None)
    if story:
        typer.echo(f"story: {story.detail}")
    for check in verdict.checks:
        if check.ok and (check.what in ("rights registry", "identity registry", "escrow contract",
                                        "creator KYC at registration")
                         or ("state proof" in check.what and ("proves" in check.detail
                                                               or "not available" in check.detail))):
            typer.echo(f"{check.what}: {check.detail}")
    if verdict.ok and verdict.owner_proven:
        typer.echo("VERIFIED: every header, receipt proof, event and link checks out, and a storage proof "
                   "proves the current owner")
        return 0
    if verdict.ok:
        typer.echo(f"VERIFIED, but the current owner is not state-proven: {verdict.owner_state}")
        return 0
    broken = verdict.first_break
    assert broken is not None
    typer.echo(f"BROKEN at {broken.what}: {broken.detail}")
    return 1

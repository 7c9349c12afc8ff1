"""``chainright verify``: read a provenance bundle, verify it offline, print the verdict (exit code out)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from chain.errors import ChainError

if TYPE_CHECKING:  # record.provenance is heavy to import: `chainright -h` does not load it
    from record.provenance.verify import TrustedHead

REEXPORT = "re-export with 'chainright provenance export'"
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
SHOWN = ("work", "rights registry", "identity registry", "escrow contract", "creator KYC at registration",
         "completeness of the proven transactions", "freshness")
"""Passed checks whose detail the verdict prints (what was established, and from which contract)."""

app = typer.Typer()  # root-level commands: registered without a group name in chainright/cli.py


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


def _trusted_heads(values: list[str]) -> list[TrustedHead]:
    from record.provenance.verify import TrustedHead

    heads = []
    for value in values:
        parts = value.split(":")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts[:-1]) \
                or not HASH.match(parts[-1]):
            raise ChainError("--trusted-head takes [CHAIN_ID:]BLOCK:HASH (a 0x and 64 hex digits block "
                             f"hash), not {value!r}")
        chain_id = int(parts[0]) if len(parts) == 3 else None
        heads.append(TrustedHead(block=int(parts[-2]), hash=parts[-1].lower(), chain_id=chain_id))
    return heads


def _at(place: dict[str, object]) -> str:
    from record.provenance.verify import when_text

    return (f"chain {place['chain_id']} block {place['block']} ({place['hash']}, "
            f"{when_text(int(str(place['time'])))})")


def run_verify(bundle_file: Path, content: Path | None, validators: str | None,
               identity_registry: str | None, rights_registry: str | None,
               trusted_head: list[str] | None = None, max_age: int | None = None) -> int:
    """Verify ``bundle_file`` and print the verdict; the exit code (0: verified, 1: not, 2: the checks
    that could be made pass, but the bundle marks some as not available on its chain's engine)."""
    from record.provenance import verify_bundle

    heads = _trusted_heads(trusted_head or [])
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
                            rights_registry=rights_registry, trusted_heads=heads, now=int(time.time()),
                            max_age=max_age)
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
        if check.ok and (check.what in SHOWN or check.what.endswith("trusted head")
                         or ("state proof" in check.what and ("proves" in check.detail
                                                               or "not available" in check.detail))):
            typer.echo(f"{check.what}: {check.detail}")
    for line in verdict.completeness:
        typer.echo(f"completeness beyond them: {line}")
    for chain_id, chain_headers in sorted(bundle.get("headers", {}).items(), key=lambda kv: int(kv[0])):
        if chain_headers:
            last = max(chain_headers, key=int)
            typer.echo(f"the bundle's last header on chain {chain_id}: block {last} "
                       f"{chain_headers[last].get('hash')}: compare it with a source you trust")
    for line in verdict.pinned:
        typer.echo(f"pinned: {line}")
    for line in verdict.unpinned:
        typer.echo(f"not pinned: {line}")
    unpinned = f" Not pinned: {len(verdict.unpinned)} (listed above)." if verdict.unpinned else ""
    for line in verdict.unavailable:
        typer.echo(f"not checked (not available on this engine): {line}")
    if verdict.ok and verdict.unavailable:
        owner = f"; the owner is not state-proven: {verdict.owner_state}" if verdict.owner_state else ""
        typer.echo("PARTLY CHECKED (exit code 2): the receipt proofs, events and story check out against the "
                   "bundle's own headers, but those headers could not be checked (listed above), so nothing "
                   "here is proven to be on the chain: compare each event block's receiptsRoot with a source "
                   f"you trust{owner}.{unpinned}")
        return 2
    if verdict.ok and verdict.owner_proven:
        at = verdict.owner_at
        assert at is not None
        checked = "VERIFIED: every header, receipt proof, event and link checks out;"
        if verdict.owner_current:
            head = {**at["head"], "chain_id": at["chain_id"]}
            typer.echo(f"{checked} {at['owner']} is the owner at the trusted head, {_at(head)} (a storage "
                       f"proof at block {at['block']}, and no transfer of the token in the headers since)."
                       f"{unpinned}")
        else:
            typer.echo(f"{checked} a storage proof proves {at['owner']} was the owner at {_at(at)}. Not "
                       "proven: that it still is (no trusted head: give --trusted-head BLOCK:HASH from a "
                       f"source you trust).{unpinned}")
        return 0
    if verdict.ok:
        typer.echo(f"VERIFIED, but no owner is state-proven: {verdict.owner_state}.{unpinned}")
        return 0
    broken = verdict.first_break
    assert broken is not None
    typer.echo(f"BROKEN at {broken.what}: {broken.detail}")
    return 1


@app.command("verify")
def verify_cmd(
    bundle_file: Annotated[Path, typer.Argument(help="A bundle from 'provenance export' or the API.")],
    content: Annotated[Path | None, typer.Option(help="The work's file: its hash must match.")] = None,
    validators: Annotated[str | None, typer.Option(
        help="CHAIN_ID=0xA,0xB,...: check Clique seals of that chain against this validator set.")] = None,
    identity_registry: Annotated[str | None, typer.Option(
        help="The IdentityRegistry address whose events count as KYC evidence.")] = None,
    rights_registry: Annotated[str | None, typer.Option(
        help="The RightsRegistry address whose registrations count.")] = None,
    trusted_head: Annotated[list[str] | None, typer.Option(
        help="[CHAIN_ID:]BLOCK:HASH from a source you trust (repeatable; no chain id: the chain the token "
             "ends on): the bundle's headers must link to it and the owner is then proven at it.")] = None,
    max_age: Annotated[int | None, typer.Option(
        help="Fail when the owner proof (or the trusted head) is older than this many seconds.")] = None,
) -> None:
    """Verify a provenance bundle with no network at all; exit 1 on any broken link, 2 when every check
    made passes but the bundle marks some as not available on its chain's engine (PARTLY CHECKED)."""
    code = run_verify(bundle_file, content, validators, identity_registry, rights_registry,
                      trusted_head or [], max_age)
    if code:
        raise typer.Exit(code)

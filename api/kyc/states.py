"""The KYC review state machine (pure).

    submitted --approve--> approved --revoke--> revoked
        |                     |
        +--reject--> rejected +--expire--> expired

A rejected, revoked or expired applicant submits a new application; nothing moves backwards.
"""

from __future__ import annotations

from enum import StrEnum


class KycState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REVOKED = "revoked"


class KycAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    EXPIRE = "expire"
    REVOKE = "revoke"


TRANSITIONS: dict[tuple[KycState, KycAction], KycState] = {
    (KycState.SUBMITTED, KycAction.APPROVE): KycState.APPROVED,
    (KycState.SUBMITTED, KycAction.REJECT): KycState.REJECTED,
    (KycState.APPROVED, KycAction.REVOKE): KycState.REVOKED,
    (KycState.APPROVED, KycAction.EXPIRE): KycState.EXPIRED,
}

OPEN_STATES = frozenset({KycState.SUBMITTED, KycState.APPROVED})


class KycTransitionError(ValueError):
    """Raised when an action does not apply to the application's current state."""


def next_state(state: KycState, action: KycAction) -> KycState:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s == state)
        raise KycTransitionError(
            f"cannot {action.value} an application that is {state.value}"
            + (f"; possible: {', '.join(allowed)}" if allowed else "; it is final")
        ) from None

"""KYC: applications with encrypted personal data, a review state machine, sanctions screening,
pluggable providers, and the identity registry on every chain kept in step.

- ``pii``        AES-256-GCM encryption of personal data at rest (key from settings)
- ``states``     the state machine (pure, table-tested)
- ``sanctions``  screening against a sanctions list file (format documented there)
- ``providers``  the provider interface; manual review is the default provider
- ``registry``   writing address -> (level, country, expiry) to the on-chain identity registry
- ``service``    the flow: submit, review, approve (credential + chain), reject, revoke, expire
"""

__all__ = ["pii", "providers", "registry", "sanctions", "service", "states", "sync"]

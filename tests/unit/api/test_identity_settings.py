"""Identity settings checked when the API starts (no chain needed): the development issuer key is
refused in production, and the KYC provider must be one of the registered ones."""

from __future__ import annotations

import pytest

from api import create_app
from api.errors import ApiSettingsError
from api.settings import ApiSettings
from did.keys import generate_ed25519_jwk
from did.settings import DidSettings

pytestmark = pytest.mark.unit

PRODUCTION_SECRETS = {"session_secret": "s" * 48, "kyc_encryption_key": "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="}


def test_production_api_refuses_the_development_issuer_key(tmp_path, database):
    settings = ApiSettings(environment="production", data_dir=tmp_path, **PRODUCTION_SECRETS)
    with pytest.raises(ApiSettingsError, match=r"public development issuer key.*CHAINRIGHT_DID_ISSUER_KEY"):
        create_app(settings, db=database, did_settings=DidSettings())  # DID environment left unset
    app = create_app(settings, db=database, did_settings=DidSettings(issuer_key=generate_ed25519_jwk()))
    assert app.state.did_settings.uses_development_key is False


def test_unknown_kyc_provider_is_refused_listing_the_registered_ones(api_settings, database):
    settings = api_settings.model_copy(update={"kyc_provider": "nosuchvendor"})
    with pytest.raises(ApiSettingsError, match=r"unknown KYC provider 'nosuchvendor'.*manual"):
        create_app(settings, db=database)

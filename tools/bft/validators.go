package main

import (
	"context"

	"cosmossdk.io/core/address"
	evmaddress "github.com/cosmos/evm/encoding/address"

	sdk "github.com/cosmos/cosmos-sdk/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
)

// authorityValidators answers the EVM's few questions about validators without a staking
// module. The validator set is fixed in genesis, so a validator is known by its consensus
// address alone; its "operator" is that same 20-byte address, which makes block.coinbase (and
// the miner field of blocks) the proposer's consensus address.
type authorityValidators struct {
	valCodec address.Codec
}

func newAuthorityValidators() authorityValidators {
	return authorityValidators{valCodec: evmaddress.NewEvmCodec(sdk.GetConfig().GetBech32ValidatorAddrPrefix())}
}

func (v authorityValidators) GetValidatorByConsAddr(_ context.Context, consAddr sdk.ConsAddress) (stakingtypes.Validator, error) {
	if len(consAddr) == 0 {
		return stakingtypes.Validator{}, stakingtypes.ErrNoValidatorFound
	}
	operator, err := v.valCodec.BytesToString(consAddr)
	if err != nil {
		return stakingtypes.Validator{}, err
	}
	return stakingtypes.Validator{OperatorAddress: operator, Status: stakingtypes.Bonded}, nil
}

// GetHistoricalInfo: no historical validator sets are kept (cosmos/evm v0.7 serves BLOCKHASH
// from its own EIP-2935 history, not from this).
func (v authorityValidators) GetHistoricalInfo(context.Context, int64) (stakingtypes.HistoricalInfo, error) {
	return stakingtypes.HistoricalInfo{}, stakingtypes.ErrNoHistoricalInfo
}

func (v authorityValidators) ValidatorAddressCodec() address.Codec { return v.valCodec }

func (v authorityValidators) BondDenom(context.Context) (string, error) { return baseDenom, nil }

package main

import (
	"github.com/cosmos/gogoproto/proto"

	errorsmod "cosmossdk.io/errors"
	evmante "github.com/cosmos/evm/ante"
	evmanteevm "github.com/cosmos/evm/ante/evm"
	evmtypes "github.com/cosmos/evm/x/vm/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	errortypes "github.com/cosmos/cosmos-sdk/types/errors"
	authante "github.com/cosmos/cosmos-sdk/x/auth/ante"
)

// newEthereumOnlyAnteHandler checks a transaction before it enters the mempool or a block.
// Only Ethereum transactions (wrapped in MsgEthereumTx) pass; they get cosmos/evm's checks
// (signature and chain id, nonce, balance for gas, fee market). Every native Cosmos
// transaction is refused: with no module that would act on one, refusing is the whole policy.
func newEthereumOnlyAnteHandler(app *ChainApp, maxTxGasWanted uint64) sdk.AnteHandler {
	ethereumTx := "/" + proto.MessageName(&evmtypes.ExtensionOptionsEthereumTx{})
	return func(ctx sdk.Context, tx sdk.Tx, simulate bool) (sdk.Context, error) {
		withExt, ok := tx.(authante.HasExtensionOptionsTx)
		if !ok || len(withExt.GetExtensionOptions()) == 0 || withExt.GetExtensionOptions()[0].GetTypeUrl() != ethereumTx {
			return ctx, errorsmod.Wrap(errortypes.ErrUnknownRequest,
				"this network accepts Ethereum transactions only (eth_sendRawTransaction)")
		}
		evmParams := app.EVMKeeper.GetParams(ctx)
		feeParams := app.FeeMarketKeeper.GetParams(ctx)
		return sdk.ChainAnteDecorators(
			evmanteevm.NewEVMMonoDecorator(app.AccountKeeper, app.FeeMarketKeeper, app.EVMKeeper,
				maxTxGasWanted, &evmParams, &feeParams),
			evmante.NewTxListenerDecorator(app.onPendingTx),
		)(ctx, tx, simulate)
	}
}

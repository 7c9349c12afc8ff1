package main

// The application behind bftd: a Cosmos SDK state machine that holds nothing but accounts,
// balances, consensus parameters, the fee market and the EVM. There is no staking, governance,
// minting, IBC or native (Cosmos) transaction path: the validator set is the one written in
// genesis (a consortium's members), and the only transactions accepted are signed Ethereum
// transactions. Consensus is CometBFT: a block is final once committed, and 3f+1 validators
// tolerate f faulty ones.

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/ethereum/go-ethereum/common"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/spf13/cast"

	// Registers geth's tracers for debug_traceTransaction.
	_ "github.com/ethereum/go-ethereum/eth/tracers/js"
	_ "github.com/ethereum/go-ethereum/eth/tracers/native"

	"cosmossdk.io/log/v2"
	dbm "github.com/cosmos/cosmos-db"

	evmante "github.com/cosmos/evm/ante"
	evmencoding "github.com/cosmos/evm/encoding"
	evmaddress "github.com/cosmos/evm/encoding/address"
	evmmempool "github.com/cosmos/evm/mempool"
	cosmosevmserver "github.com/cosmos/evm/server"
	srvflags "github.com/cosmos/evm/server/flags"
	"github.com/cosmos/evm/x/feemarket"
	feemarketkeeper "github.com/cosmos/evm/x/feemarket/keeper"
	feemarkettypes "github.com/cosmos/evm/x/feemarket/types"
	"github.com/cosmos/evm/x/vm"
	evmkeeper "github.com/cosmos/evm/x/vm/keeper"
	evmtypes "github.com/cosmos/evm/x/vm/types"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	"github.com/cosmos/cosmos-sdk/client/grpc/node"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/server/api"
	"github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkmempool "github.com/cosmos/cosmos-sdk/types/mempool"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/cosmos-sdk/version"
	"github.com/cosmos/cosmos-sdk/x/auth"
	authante "github.com/cosmos/cosmos-sdk/x/auth/ante"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/bank"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/consensus"
	consensuskeeper "github.com/cosmos/cosmos-sdk/x/consensus/keeper"
	consensustypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
)

const appName = "bftd"

// authorityName names the module account that may change parameters (nothing sends from it:
// no governance is wired, so parameters change only at genesis).
const authorityName = "authority"

// moduleAccountPermissions: the EVM mints and burns when it moves value between its own
// accounting and bank balances; the fee collector only receives.
var moduleAccountPermissions = map[string][]string{
	authtypes.FeeCollectorName: nil,
	evmtypes.ModuleName:        {authtypes.Minter, authtypes.Burner},
	feemarkettypes.ModuleName:  nil,
}

// ChainApp is the state machine. It satisfies cosmos/evm's server.Application, so the
// EVM-aware start command (CometBFT in process + Ethereum JSON-RPC) can run it.
type ChainApp struct {
	*baseapp.BaseApp

	legacyAmino       *codec.LegacyAmino
	appCodec          codec.Codec
	interfaceRegistry codectypes.InterfaceRegistry
	txConfig          client.TxConfig

	keys  map[string]*storetypes.KVStoreKey
	oKeys map[string]*storetypes.ObjectStoreKey

	AccountKeeper   authkeeper.AccountKeeper
	BankKeeper      bankkeeper.BaseKeeper
	ConsensusKeeper consensuskeeper.Keeper
	FeeMarketKeeper feemarketkeeper.Keeper
	EVMKeeper       *evmkeeper.Keeper
	EVMMempool      sdkmempool.ExtMempool

	ModuleManager      *module.Manager
	BasicModuleManager module.BasicManager

	pendingTxListeners []evmante.PendingTxListener
}

var _ cosmosevmserver.Application = (*ChainApp)(nil)

// NewChainApp wires the keepers and modules, and loads the latest state when loadLatest is set.
func NewChainApp(logger log.Logger, db dbm.DB, loadLatest bool, appOpts servertypes.AppOptions,
	baseAppOptions ...func(*baseapp.BaseApp),
) *ChainApp {
	evmChainID := cast.ToUint64(appOpts.Get(srvflags.EVMChainID))
	enc := evmencoding.MakeConfig(evmChainID)

	bApp := baseapp.NewBaseApp(appName, logger, db, enc.TxConfig.TxDecoder(), baseAppOptions...)
	bApp.SetVersion(version.Version)
	bApp.SetInterfaceRegistry(enc.InterfaceRegistry)
	bApp.SetTxEncoder(enc.TxConfig.TxEncoder())
	// The EVM meters gas per transaction against the block gas limit itself.
	bApp.SetDisableBlockGasMeter(true)

	keys := storetypes.NewKVStoreKeys(
		authtypes.StoreKey, banktypes.StoreKey, consensustypes.StoreKey,
		evmtypes.StoreKey, feemarkettypes.StoreKey,
	)
	oKeys := storetypes.NewObjectStoreKeys(banktypes.ObjectStoreKey, evmtypes.ObjectKey)
	var allKeys []storetypes.StoreKey
	for _, k := range keys {
		allKeys = append(allKeys, k)
	}
	for _, k := range oKeys {
		allKeys = append(allKeys, k)
	}

	app := &ChainApp{
		BaseApp:           bApp,
		legacyAmino:       enc.Amino,
		appCodec:          enc.Codec,
		interfaceRegistry: enc.InterfaceRegistry,
		txConfig:          enc.TxConfig,
		keys:              keys,
		oKeys:             oKeys,
	}

	authority := authtypes.NewModuleAddress(authorityName)
	accountPrefix := sdk.GetConfig().GetBech32AccountAddrPrefix()

	app.ConsensusKeeper = consensuskeeper.NewKeeper(app.appCodec,
		runtime.NewKVStoreService(keys[consensustypes.StoreKey]), authority.String(), runtime.EventService{})
	bApp.SetParamStore(app.ConsensusKeeper.ParamsStore)

	app.AccountKeeper = authkeeper.NewAccountKeeper(app.appCodec,
		runtime.NewKVStoreService(keys[authtypes.StoreKey]), authtypes.ProtoBaseAccount,
		moduleAccountPermissions, evmaddress.NewEvmCodec(accountPrefix), accountPrefix, authority.String())

	app.BankKeeper = bankkeeper.NewBaseKeeper(app.appCodec,
		runtime.NewKVStoreService(keys[banktypes.StoreKey]), app.AccountKeeper,
		blockedAddresses(), authority.String(), logger).WithObjStoreKey(oKeys[banktypes.ObjectStoreKey])

	txConfig, err := authtx.NewTxConfigWithOptions(app.appCodec, authtx.ConfigOptions{EnabledSignModes: authtx.DefaultSignModes})
	if err != nil {
		panic(err)
	}
	app.txConfig = txConfig

	app.FeeMarketKeeper = feemarketkeeper.NewKeeper(app.appCodec, authority, keys[feemarkettypes.StoreKey])

	app.EVMKeeper = evmkeeper.NewKeeper(
		app.appCodec, keys[evmtypes.StoreKey], oKeys[evmtypes.ObjectKey], allKeys, authority,
		app.AccountKeeper, app.BankKeeper, newAuthorityValidators(), app.FeeMarketKeeper,
		&app.ConsensusKeeper,
		nil, // no ERC-20 module: no token precompiles
		evmChainID,
		cast.ToString(appOpts.Get(srvflags.EVMTracer)),
	)
	// cosmos/evm counts geth's Prague precompiles (ecrecover, sha256, ..., BLS12-381) as always
	// active and looks each one up in this map: without it, any call to 0x01 (ecrecover: every
	// EIP-712 order and signature check of the marketplace) panics "precompiled contract not
	// stored in memory". No stateful (Cosmos) precompile is registered.
	app.EVMKeeper.WithStaticPrecompiles(maps.Clone(gethvm.PrecompiledContractsPrague))

	// The EVM's ante step pays fees to the SDK's configured fee module, a process-wide setting
	// that the SDK's own fee decorator would set; this chain has none, so it is set here.
	authante.FeeRecipientModule = authtypes.FeeCollectorName

	vmModule := vm.NewAppModule(app.EVMKeeper, app.AccountKeeper, app.BankKeeper, app.AccountKeeper.AddressCodec())
	bankModule := bank.NewAppModule(app.appCodec, app.BankKeeper, app.AccountKeeper, nil)
	app.ModuleManager = module.NewManager(
		auth.NewAppModule(app.appCodec, app.AccountKeeper, nil, nil),
		bankModule,
		consensus.NewAppModule(app.appCodec, app.ConsensusKeeper),
		feemarket.NewAppModule(app.FeeMarketKeeper),
		vmModule,
	)
	app.BasicModuleManager = module.NewBasicManagerFromManager(app.ModuleManager, map[string]module.AppModuleBasic{
		evmtypes.ModuleName:  evmGenesisBasic{vmModule.AppModuleBasic},
		banktypes.ModuleName: bankGenesisBasic{bankModule.AppModuleBasic},
	})
	app.BasicModuleManager.RegisterLegacyAminoCodec(app.legacyAmino)
	app.BasicModuleManager.RegisterInterfaces(app.interfaceRegistry)

	app.ModuleManager.SetOrderPreBlockers(authtypes.ModuleName, evmtypes.ModuleName)
	// The EVM's begin blocker reads the base fee the fee market's has just set.
	app.ModuleManager.SetOrderBeginBlockers(feemarkettypes.ModuleName, evmtypes.ModuleName,
		authtypes.ModuleName, banktypes.ModuleName, consensustypes.ModuleName)
	app.ModuleManager.SetOrderEndBlockers(banktypes.ModuleName, authtypes.ModuleName,
		evmtypes.ModuleName, feemarkettypes.ModuleName, consensustypes.ModuleName)
	genesisOrder := []string{authtypes.ModuleName, banktypes.ModuleName, evmtypes.ModuleName,
		feemarkettypes.ModuleName, consensustypes.ModuleName}
	app.ModuleManager.SetOrderInitGenesis(genesisOrder...)
	app.ModuleManager.SetOrderExportGenesis(genesisOrder...)

	configurator := module.NewConfigurator(app.appCodec, app.MsgServiceRouter(), app.GRPCQueryRouter())
	if err := app.ModuleManager.RegisterServices(configurator); err != nil {
		panic(fmt.Sprintf("registering module services: %s", err))
	}

	app.MountKVStores(keys)
	app.MountObjectStores(oKeys)

	app.SetInitChainer(app.initChainer)
	app.SetPreBlocker(func(ctx sdk.Context, _ *abci.RequestFinalizeBlock) (*sdk.ResponsePreBlock, error) {
		return app.ModuleManager.PreBlock(ctx)
	})
	app.SetBeginBlocker(func(ctx sdk.Context) (sdk.BeginBlock, error) { return app.ModuleManager.BeginBlock(ctx) })
	app.SetEndBlocker(func(ctx sdk.Context) (sdk.EndBlock, error) { return app.ModuleManager.EndBlock(ctx) })
	app.SetAnteHandler(newEthereumOnlyAnteHandler(app, cast.ToUint64(appOpts.Get(srvflags.EVMMaxTxGasWanted))))

	if err := app.configureMempool(appOpts, logger); err != nil {
		panic(fmt.Sprintf("configuring the EVM mempool: %s", err))
	}

	if loadLatest {
		if err := app.LoadLatestVersion(); err != nil {
			panic(fmt.Sprintf("loading the latest state: %s", err))
		}
		ctx := app.NewContextLegacy(true, cmtproto.Header{Height: app.LastBlockHeight(), ChainID: app.ChainID()})
		// After a restart the EVM's process-wide settings (coin, chain config) come from state.
		vmModule.HydrateGlobals(ctx)
	}
	return app
}

// initChainer runs the modules' genesis and keeps CometBFT's genesis validators as the
// validator set: membership is fixed in genesis, there is no staking module to derive it from.
func (app *ChainApp) initChainer(ctx sdk.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	var state map[string]json.RawMessage
	if err := json.Unmarshal(req.AppStateBytes, &state); err != nil {
		return nil, fmt.Errorf("decoding the genesis app state: %w", err)
	}
	if len(req.Validators) == 0 {
		return nil, errors.New("genesis names no validators: list the members under consensus.validators")
	}
	for _, name := range app.ModuleManager.OrderInitGenesis {
		mod := app.ModuleManager.Modules[name]
		switch m := mod.(type) {
		case module.HasGenesis:
			m.InitGenesis(ctx, app.appCodec, state[name])
		case module.HasABCIGenesis:
			m.InitGenesis(ctx, app.appCodec, state[name])
		}
	}
	return &abci.ResponseInitChain{Validators: req.Validators}, nil
}

// configureMempool installs cosmos/evm's mempool (an Ethereum txpool: nonce gaps queue,
// replacement by price) and the ABCI handlers that feed proposals from it.
func (app *ChainApp) configureMempool(appOpts servertypes.AppOptions, logger log.Logger) error {
	if evmtypes.GetChainConfig() == nil {
		return nil
	}
	mpConfig := cosmosevmserver.ResolveMempoolConfig(app.AnteHandler(), appOpts, logger)
	if err := cosmosevmserver.ValidateReapBounds(appOpts, mpConfig.BlockGasLimit); err != nil {
		return err
	}
	txEncoder := evmmempool.NewTxEncoder(app.txConfig)
	mp := evmmempool.NewMempool(
		app.CreateQueryContext, logger, app.EVMKeeper, app.FeeMarketKeeper, app.txConfig,
		evmmempool.NewTxRechecker(mpConfig.AnteHandler, txEncoder),
		evmmempool.NewTxRechecker(mpConfig.AnteHandler, txEncoder),
		mpConfig, cosmosevmserver.GetCosmosPoolMaxTx(appOpts, logger),
	)
	app.EVMMempool = mp

	app.SetPrepareProposal(baseapp.NewDefaultProposalHandler(mp, encodeOnlyVerifier{app.BaseApp}).PrepareProposalHandler())
	app.SetInsertTxHandler(mp.NewInsertTxHandler(app.TxDecode))
	app.SetReapTxsHandler(mp.NewReapTxsHandler())
	app.SetCheckTxHandler(mp.NewCheckTxHandler(app.TxDecode, cosmosevmserver.GetMempoolCheckTxTimeout(appOpts, logger)))
	app.SetMempool(mp)
	app.SetPrepareCheckStater(func(_ sdk.Context) {
		if !mp.HasEventBus() {
			mp.NotifyNewBlock()
		}
	})
	return nil
}

// encodeOnlyVerifier lets PrepareProposal take the mempool's transactions as they are: the
// mempool has already run them through the ante handler against the latest state.
type encodeOnlyVerifier struct{ *baseapp.BaseApp }

func (v encodeOnlyVerifier) PrepareProposalVerifyTx(tx sdk.Tx) ([]byte, error) { return v.TxEncode(tx) }

func blockedAddresses() map[string]bool {
	blocked := make(map[string]bool)
	for name := range moduleAccountPermissions {
		blocked[authtypes.NewModuleAddress(name).String()] = true
	}
	return blocked
}

// DefaultGenesis is the modules' default genesis, with the EVM on this chain's coin.
func (app *ChainApp) DefaultGenesis() map[string]json.RawMessage {
	return app.BasicModuleManager.DefaultGenesis(app.appCodec)
}

// evmGenesisBasic: the EVM module's default genesis with this chain's coin as its denom.
type evmGenesisBasic struct{ vm.AppModuleBasic }

func (b evmGenesisBasic) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	gen := evmtypes.DefaultGenesisState()
	gen.Params.EvmDenom = baseDenom
	gen.Params.ExtendedDenomOptions = nil // 18 decimals: no extended denom needed
	return cdc.MustMarshalJSON(gen)
}

// bankGenesisBasic: the bank module's default genesis, describing this chain's coin (the EVM
// reads its decimals from this metadata at genesis).
type bankGenesisBasic struct{ bank.AppModuleBasic }

func (b bankGenesisBasic) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	gen := banktypes.DefaultGenesisState()
	gen.DenomMetadata = []banktypes.Metadata{{
		Description: "The native coin of the Chainright BFT consortium network (18 decimals, like ether)",
		Base:        baseDenom,
		Display:     displayDenom,
		Name:        displayDenom,
		Symbol:      "CRB",
		DenomUnits: []*banktypes.DenomUnit{
			{Denom: baseDenom, Exponent: 0},
			{Denom: displayDenom, Exponent: 18},
		},
	}}
	return cdc.MustMarshalJSON(gen)
}

func (app *ChainApp) onPendingTx(hash common.Hash) {
	for _, listener := range app.pendingTxListeners {
		listener(hash)
	}
}

// RegisterPendingTxListener is called by the JSON-RPC server (eth_subscribe newPendingTransactions).
func (app *ChainApp) RegisterPendingTxListener(listener func(common.Hash)) {
	app.pendingTxListeners = append(app.pendingTxListeners, listener)
}

func (app *ChainApp) GetMempool() sdkmempool.ExtMempool { return app.EVMMempool }

func (app *ChainApp) RegisterAPIRoutes(apiSvr *api.Server, _ config.APIConfig) {
	authtx.RegisterGRPCGatewayRoutes(apiSvr.ClientCtx, apiSvr.GRPCGatewayRouter)
	cmtservice.RegisterGRPCGatewayRoutes(apiSvr.ClientCtx, apiSvr.GRPCGatewayRouter)
	node.RegisterGRPCGatewayRoutes(apiSvr.ClientCtx, apiSvr.GRPCGatewayRouter)
	app.BasicModuleManager.RegisterGRPCGatewayRoutes(apiSvr.ClientCtx, apiSvr.GRPCGatewayRouter)
}

func (app *ChainApp) RegisterTxService(clientCtx client.Context) {
	authtx.RegisterTxService(app.GRPCQueryRouter(), clientCtx, app.Simulate, app.interfaceRegistry)
}

func (app *ChainApp) RegisterTendermintService(clientCtx client.Context) {
	cmtservice.RegisterTendermintService(clientCtx, app.GRPCQueryRouter(), app.interfaceRegistry, app.Query)
}

func (app *ChainApp) RegisterNodeService(clientCtx client.Context, cfg config.Config) {
	node.RegisterNodeService(clientCtx, app.GRPCQueryRouter(), cfg, func() int64 {
		return app.CommitMultiStore().EarliestVersion()
	})
}

func (app *ChainApp) Close() error {
	var err error
	if mp, ok := app.EVMMempool.(*evmmempool.Mempool); ok && mp != nil {
		err = mp.Close()
	}
	return errors.Join(err, app.BaseApp.Close())
}

// ExportAppStateAndValidators is not offered: a consortium restarts from its data directories.
func (app *ChainApp) ExportAppStateAndValidators(bool, []string, []string) (servertypes.ExportedApp, error) {
	return servertypes.ExportedApp{}, errors.New("bftd does not export state")
}

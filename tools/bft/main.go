// Command bftd runs one validator of Chainright's BFT consortium network: CometBFT consensus,
// a Cosmos SDK state machine holding accounts and an EVM (github.com/cosmos/evm), and the
// Ethereum JSON-RPC that our Python side talks to. Built by tools/bft/build.sh into .bin/bftd;
// networks are laid out and started by devnet/bft.py.
//
//	bftd init <moniker> --home DIR --chain-id ID   write keys, config and a default genesis
//	bftd start --home DIR                          run the validator (CometBFT + JSON-RPC)
//	bftd comet show-validator --home DIR           the validator's consensus public key
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cast"
	"github.com/spf13/cobra"

	cmtcfg "github.com/cometbft/cometbft/config"

	"cosmossdk.io/log/v2"
	dbm "github.com/cosmos/cosmos-db"
	cosmosevmserver "github.com/cosmos/evm/server"
	evmserverconfig "github.com/cosmos/evm/server/config"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdkserver "github.com/cosmos/cosmos-sdk/server"
	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	genutilcli "github.com/cosmos/cosmos-sdk/x/genutil/client/cli"
)

const (
	// baseDenom is the smallest unit of the chain's coin; with 18 decimals one baseDenom is one
	// wei, so EVM balances and bank balances are the same numbers.
	baseDenom    = "acrb"
	displayDenom = "crb"

	bech32Prefix = "cr"
)

func main() {
	cfg := sdk.GetConfig()
	cfg.SetBech32PrefixForAccount(bech32Prefix, bech32Prefix+"pub")
	cfg.SetBech32PrefixForValidator(bech32Prefix+"valoper", bech32Prefix+"valoperpub")
	cfg.SetBech32PrefixForConsensusNode(bech32Prefix+"valcons", bech32Prefix+"valconspub")
	cfg.SetCoinType(60)
	cfg.Seal()

	home := defaultHome()
	root := newRootCmd(home)
	if err := svrcmd.Execute(root, "BFTD", home); err != nil {
		fmt.Fprintln(root.OutOrStderr(), err)
		os.Exit(1)
	}
}

func defaultHome() string {
	dir, err := os.UserHomeDir()
	if err != nil {
		return ".bftd"
	}
	return filepath.Join(dir, ".bftd")
}

func newRootCmd(home string) *cobra.Command {
	// A throw-away app supplies the codecs the commands need (as every SDK chain's root does).
	tempApp := NewChainApp(log.NewNopLogger(), dbm.NewMemDB(), true, simtestutil.EmptyAppOptions{})
	clientCtx := client.Context{}.
		WithCodec(tempApp.appCodec).
		WithInterfaceRegistry(tempApp.interfaceRegistry).
		WithTxConfig(tempApp.txConfig).
		WithLegacyAmino(tempApp.legacyAmino).
		WithInput(os.Stdin).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithHomeDir(home).
		WithViper("")

	root := &cobra.Command{
		Use:           appName,
		Short:         "Chainright BFT consortium validator (CometBFT + cosmos/evm)",
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.OutOrStdout())
			cmd.SetErr(cmd.ErrOrStderr())
			ctx, err := client.ReadPersistentCommandFlags(clientCtx.WithCmdContext(cmd.Context()), cmd.Flags())
			if err != nil {
				return err
			}
			if err := client.SetCmdClientContextHandler(ctx, cmd); err != nil {
				return err
			}
			appConfig := evmserverconfig.DefaultConfig()
			appConfig.MinGasPrices = "0" + baseDenom
			cometConfig := cmtcfg.DefaultConfig()
			// cosmos/evm keeps the mempool in the app (an Ethereum txpool); CometBFT asks it.
			cometConfig.Mempool.Type = "app"
			return sdkserver.InterceptConfigsPreRunHandler(cmd, sdkserverConfigTemplate(), appConfig, cometConfig)
		},
	}

	root.AddCommand(genutilcli.InitCmd(tempApp.BasicModuleManager, home))
	cosmosevmserver.AddCommands(root, cosmosevmserver.NewDefaultStartOptions(newApp, home), exportApp,
		func(*cobra.Command) {})
	return root
}

func sdkserverConfigTemplate() string {
	return serverconfig.DefaultConfigTemplate + evmserverconfig.DefaultEVMConfigTemplate
}

func newApp(logger log.Logger, db dbm.DB, appOpts servertypes.AppOptions) cosmosevmserver.Application {
	pruning, err := sdkserver.GetPruningOptionsFromFlags(appOpts)
	if err != nil {
		panic(err)
	}
	chainID := cast.ToString(appOpts.Get(flags.FlagChainID))
	if chainID == "" {
		chainID, err = chainIDFromGenesis(cast.ToString(appOpts.Get(flags.FlagHome)))
		if err != nil {
			panic(err)
		}
	}
	return NewChainApp(logger, db, true, appOpts,
		baseapp.SetPruning(pruning),
		baseapp.SetMinGasPrices(cast.ToString(appOpts.Get(sdkserver.FlagMinGasPrices))),
		baseapp.SetQueryGasLimit(cast.ToUint64(appOpts.Get(sdkserver.FlagQueryGasLimit))),
		baseapp.SetHaltHeight(cast.ToUint64(appOpts.Get(sdkserver.FlagHaltHeight))),
		baseapp.SetMinRetainBlocks(cast.ToUint64(appOpts.Get(sdkserver.FlagMinRetainBlocks))),
		baseapp.SetIAVLCacheSize(cast.ToInt(appOpts.Get(sdkserver.FlagIAVLCacheSize))),
		baseapp.SetIAVLDisableFastNode(cast.ToBool(appOpts.Get(sdkserver.FlagDisableIAVLFastNode))),
		baseapp.SetChainID(chainID),
	)
}

// chainIDFromGenesis reads the chain id from the node's genesis file.
func chainIDFromGenesis(home string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		return "", fmt.Errorf("reading the chain id from genesis: %w", err)
	}
	var doc struct {
		ChainID string `json:"chain_id"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.ChainID == "" {
		return "", fmt.Errorf("genesis.json in %s names no chain_id", home)
	}
	return doc.ChainID, nil
}

func exportApp(log.Logger, dbm.DB, int64, bool, []string, servertypes.AppOptions, []string) (servertypes.ExportedApp, error) {
	return servertypes.ExportedApp{}, errors.New("bftd does not export state")
}

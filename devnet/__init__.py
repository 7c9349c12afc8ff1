"""The local networks Chainright runs for development, tests and the consortium case.

- ``anvil``       start, stop and find the anvil processes we own (PID records, free ports, signals)
- ``consortium``  the geth Clique network of member validators (package)
- ``ipfs``        the local js-ipfs node the console starts beside the API
- ``bft``         a local BFT network of bftd validators (CometBFT + cosmos/evm), tools/bft
"""

__all__ = ["anvil", "bft", "consortium", "ipfs"]

"""Chain side of Toktok: creator-token contracts, devnet, wallet and the async chain client.

Never imports ``storage`` or ``peer``. All errors derive from
:class:`tokens.errors.TokensError` (tree in ``tokens/errors.py``).

Devnet (``tokens.devnet``) — used by ``peer/daemon/app.py`` and ``scripts/run``::

    from tokens.devnet import Devnet, DevnetOptions, find_anvil
    devnet = Devnet(DevnetOptions(
        state_dir=data / "devnet",          # anvil --state file, anvil.log, deployment.json
        anvil=find_anvil(repo_root),        # node_modules/.bin/anvil
        host="127.0.0.1", port=0,           # 0 = anvil picks a free port (loopback only)
        block_time=1.0,
    ))
    info = await devnet.start()             # or: async with Devnet(opts) as info: ...
    info.rpc_url, info.chain_id             # "http://127.0.0.1:PORT", 31337
    info.deployment                         # tokens.deployment.Deployment: tok, factory,
                                            #   blueprint, start_block, treasury, curve params
    info.fresh_deployment                   # False when reused from the state file
    await devnet.stop()                     # SIGTERM; anvil dumps its state; idempotent

First start deploys TOK (a faucet: dev key 0 owns it and mints) + the CreatorToken
blueprint + CreatorTokenFactory from dev key 0, mints 1,000,000 TOK to each of the ten anvil
dev accounts and writes ``<state_dir>/deployment.json``; later starts load the anvil state
and reuse it, unless the contract artifacts changed since (``info.reset_for_new_contracts``:
the old chain is dropped and the contracts deployed again on an empty one).
``tokens.devnet.DEV_PRIVATE_KEYS`` / ``dev_account(i)`` are the well-known anvil keys (devnet
only; account 0 deploys, owns TOK and is the treasury).

Real chain: build a ``Deployment`` from config (``Deployment.from_json`` /
``tokens.deployment.load_deployment(path)``); nothing is minted or deployed.

Client (``tokens.client``)::

    client = ChainClient(ClientOptions(rpc_url=..., deployment=..., spend_limit=None),
                         account=LocalAccount | None)       # reads work without an account
    await client.tok_balance(addr) / approve_tok / mint_tok (devnet: TOK owner only)
    await client.create_token(name, symbol) -> token address
    await client.token_of(creator) -> address | None; creator_of(token); token_info(token)
    await client.quote_buy(token, amount) / quote_sell -> tokens.curve.Quote (with fees)
    await client.buy(token, amount, max_cost=None, deadline=None) -> Trade   # defaults:
    await client.sell(token, amount, min_refund=None, deadline=None) -> Trade  # 1 %, 600 s
    await client.balance_of(token, holder, block) ; holders(token) ; price_history(token)
    await client.is_valid_signature(account, digest, signature, block)  # EIP-1271
    await client.close()

Amounts are base units (18 decimals); ``tokens.curve.to_base_units("1.5")`` parses whole
tokens. Holding rule (``tokens.ownership``)::

    checker = OwnershipChecker(client, lag=2)   # any BalanceSource; tokens.testing.FakeChain
    await checker.holds(token, holder, min_balance) -> bool  # raises ChainError; fail closed

``holds`` raises (never answers True) on any chain failure: ``ChainUnavailableError`` when
the RPC is down, ``StateUnavailableError`` for the first `lag` blocks after a devnet restart
(anvil keeps no state for blocks before it).

Wallet and signatures: ``tokens.wallet`` (keystore create/import/export, passphrase from
``TOKTOK_PASSPHRASE`` or the devnet default) and ``tokens.siwe`` (strict EIP-4361
build/parse/verify; ``verify`` for EOAs, or ``verify_fields`` + ``recover_signer`` +
``eip191_digest`` for the EIP-1271 path).

Contracts: ``contracts/*.vy`` compiled by ``scripts/build-contracts`` into
``contracts/build/*.json`` (``tokens.artifacts.load_artifact``).
"""

from tokens.recursion import settle_recursion_limit

settle_recursion_limit()  # before any eth package raises it (tokens/recursion.py says why)

// The wallet side of the web app: EIP-6963 discovery (mipd), Sign-In with Ethereum (the API's
// message, checked with viem/siwe before signing), EIP-712 listings (signTypedData) and the
// unsigned transactions the API builds (sendTransaction). The platform never holds a key.
import { createStore } from 'mipd';
import { createClient, custom } from 'viem';
import {
  getChainId, readContract, requestAddresses, sendTransaction, signMessage, signTypedData,
  waitForTransactionReceipt,
} from 'viem/actions';
import { parseSiweMessage } from 'viem/siwe';

const TOKEN_KEY = 'chainright.session';
const ADDRESS_KEY = 'chainright.address';

let store = null;
let explainer = () => {};
let unexplain = () => {};

/** Where the page states, in words, what the next wallet prompt is for (``show`` runs before every
 * prompt, ``hide`` once the wallet has answered). */
export function onExplain(show, hide = () => {}) {
  explainer = show;
  unexplain = hide;
}

/** Every prompt goes through here: no words, no prompt. */
async function prompt(words, ask) {
  if (typeof words !== 'string' || !words.trim()) {
    throw new Error('the page did not say what the wallet would sign; nothing was sent to the wallet');
  }
  explainer(words);
  try {
    return await ask();
  } finally {
    unexplain();
  }
}
let chosen = null; // {info, provider}
let client = null;

export function providers() {
  if (!store) store = createStore();
  return store.getProviders();
}

/** Wait briefly for EIP-6963 announcements (wallets answer the request event synchronously or soon). */
export async function discover(timeoutMs = 400) {
  const start = Date.now();
  while (providers().length === 0 && Date.now() - start < timeoutMs) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return providers();
}

const WALLET_KEY = 'chainright.wallet';

/** Use this announced wallet; ``onChange`` runs when its account changes (the session is then dropped:
 * it belongs to the previous account). */
export function use(detail, onChange = () => {}) {
  chosen = detail;
  client = createClient({ transport: custom(detail.provider), pollingInterval: 300 });
  sessionStorage.setItem(WALLET_KEY, detail.info.rdns);
  if (typeof detail.provider.on === 'function') {
    detail.provider.on('accountsChanged', (accounts) => {
      const next = accounts && accounts[0];
      if (next && next.toLowerCase() === (address() || '').toLowerCase()) return;
      const previousToken = token();
      forget();
      if (next) sessionStorage.setItem(ADDRESS_KEY, next); else sessionStorage.removeItem(ADDRESS_KEY);
      onChange(next, previousToken);
    });
  }
}

/** The wallet this tab used before (by its EIP-6963 rdns), if it is still announced. */
export function previous(found) {
  const rdns = sessionStorage.getItem(WALLET_KEY);
  return found.find((d) => d.info.rdns === rdns) || (found.length === 1 ? found[0] : null);
}

export function current() {
  return chosen;
}

export async function connect(words) {
  if (!client) throw new Error('no wallet chosen');
  const [address] = await prompt(words, () => requestAddresses(client));
  sessionStorage.setItem(ADDRESS_KEY, address);
  return address;
}

export function address() {
  return sessionStorage.getItem(ADDRESS_KEY);
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** True when the error (or one it wraps) is the wallet's "user rejected the request" (EIP-1193 4001). */
export function isRejection(err) {
  for (let e = err, depth = 0; e && depth < 10; e = e.cause, depth += 1) {
    if (e.code === 4001 || e.name === 'UserRejectedRequestError') return true;
  }
  return false;
}

export class SiweDomainError extends Error {
  constructor(domain) {
    super(`sign-in message for ${domain}`);
    this.domain = domain;
  }
}

/** Sign in: the API's SIWE message, checked (this site, this address) before the wallet signs it;
 * ``describe(parsed)`` gives the words the page states before the prompt; ``connectWords`` those
 * before the address is asked for, when it has not been yet. */
export async function signIn(api, describe, connectWords) {
  const account = address() || (await connect(connectWords));
  const chainId = await getChainId(client);
  const nonce = await api('POST', '/auth/siwe/nonce', { address: account, chain_id: chainId });
  const parsed = parseSiweMessage(nonce.message);
  if (parsed.domain !== window.location.host) throw new SiweDomainError(parsed.domain);
  if (!parsed.address || parsed.address.toLowerCase() !== account.toLowerCase()) {
    throw new Error('the sign-in message names another address');
  }
  const signature = await prompt(describe(parsed), () => signMessage(client, { account, message: nonce.message }));
  const session = await api('POST', '/auth/siwe/login', { message: nonce.message, signature });
  sessionStorage.setItem(TOKEN_KEY, session.token);
  return session;
}

async function ensureChain(chainId) {
  const now = await getChainId(client);
  if (now !== chainId) {
    await chosen.provider.request({
      method: 'wallet_switchEthereumChain', params: [{ chainId: `0x${chainId.toString(16)}` }],
    });
  }
}

/** Send one unsigned transaction the API returned ({chain_id, from, to, data, value, gas}); wait for it.
 * ``words``: what the transaction does, stated on the page before the wallet opens. */
export async function send(tx, words) {
  const hash = await prompt(words, async () => {
    await ensureChain(tx.chain_id);
    return sendTransaction(client, {
      account: tx.from, to: tx.to, data: tx.data, value: BigInt(tx.value || '0x0'),
      gas: tx.gas ? BigInt(tx.gas) : undefined, chain: null,
    });
  });
  const receipt = await waitForTransactionReceipt(client, { hash });
  if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`);
  return receipt;
}

export async function signListing(typed, words) {
  return prompt(words, async () => {
    await ensureChain(Number(typed.domain.chainId));
    return signTypedData(client, { account: address(), ...typed });
  });
}

export async function read(call) {
  return readContract(client, call);
}

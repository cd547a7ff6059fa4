import { call } from "./api.js";
import { utf8ToHex } from "./format.js";

/** EIP-1193: what the widget needs of a wallet. */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

/** The wallet the page injected (MetaMask and others), if any. */
export function injectedProvider(): Eip1193Provider | undefined {
  return (window as unknown as { ethereum?: Eip1193Provider }).ethereum;
}

/**
 * The demo wallet: an EIP-1193 provider whose signatures are made by the demo site's server
 * with a local node's DEV account. Only a local demo offers it; never on a live network.
 */
export function demoProvider(api: string, account: string): Eip1193Provider {
  return {
    async request({ method, params = [] }) {
      const answer = await call<{ result: unknown }>(api, "/demo-wallet", { account, method, params });
      return answer.result;
    },
  };
}

/** Sign-In with Ethereum: the site writes the EIP-4361 message, the wallet signs it (`personal_sign`). */
export async function signIn(api: string, provider: Eip1193Provider, chainId: number): Promise<string> {
  const accounts = (await provider.request({ method: "eth_requestAccounts" })) as string[];
  const address = accounts[0];
  if (!address) throw new Error("The wallet shared no account.");
  const walletChain = Number(await provider.request({ method: "eth_chainId" }));
  if (walletChain !== chainId) {
    await provider.request({
      method: "wallet_switchEthereumChain",
      params: [{ chainId: `0x${chainId.toString(16)}` }],
    });
  }
  const { message } = await call<{ message: string }>(api, "/siwe/message", { address });
  const signature = await provider.request({ method: "personal_sign", params: [utf8ToHex(message), address] });
  await call(api, "/siwe/verify", { message, signature });
  return address;
}

/**
 * Grants the ledger an allowance: an EIP-2612 permit signed in the wallet, submitted by the site
 * through the relayer. `onSigned` runs once the wallet has signed, while the site submits it.
 */
export async function grantAllowance(
  api: string,
  provider: Eip1193Provider,
  address: string,
  twei: string,
  onSigned: () => void = () => {},
) {
  const { typedData } = await call<{ typedData: { message: { value: string; deadline: string } } }>(
    api,
    "/permit/typed-data",
    { twei },
  );
  const signature = await provider.request({
    method: "eth_signTypedData_v4",
    params: [address, JSON.stringify(typedData)],
  });
  onSigned();
  await call(api, "/permit", { value: typedData.message.value, deadline: typedData.message.deadline, signature });
}

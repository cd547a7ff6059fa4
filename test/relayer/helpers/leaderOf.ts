import { expect } from "chai";

/** The instance whose /metrics says it leads (twei_relayer_leader 1), or undefined. */
export async function leaderOf(urls: readonly string[]): Promise<number | undefined> {
  const leading = await Promise.all(
    urls.map(async (url) => {
      try {
        const text = await (await fetch(`${url}/metrics`)).text();
        return /^twei_relayer_leader\{[^}]*\} 1$/m.test(text);
      } catch {
        return false;
      }
    }),
  );
  const found = leading.flatMap((yes, i) => (yes ? [i] : []));
  expect(found.length).to.be.at.most(1, "two instances lead at once");
  return found[0];
}

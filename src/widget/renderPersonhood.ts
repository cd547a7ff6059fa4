import { html, nothing } from "lit";
import type { PostState } from "./types.js";

export interface PersonhoodView {
  state: PostState;
  busy: boolean;
  /** The last attempt's error, in plain words. */
  error: string | null;
  attest(): void;
}

const short = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`;

/**
 * What earning needs on a site whose policy requires proof of personhood, in plain words, above
 * the boxes that earn: for a signed-in reader who holds no attestation, what is missing, what
 * still works, and how to get one (the site's "Verify I'm a person" when it attests its readers
 * itself, else the attesters it trusts). Once attested, one line says so. Nothing otherwise.
 */
export function renderPersonhood(v: PersonhoodView) {
  const p = v.state.personhood;
  if (!p || !v.state.user || p.attested === null) return nothing;
  if (p.attested)
    return html`<div class="state settled" part="personhood" data-testid="personhood-ok">
      Verified as a person ✓. Your reading, votes and likes earn Twei here.
    </div>`;
  return html`<section class="box notice" part="personhood" aria-labelledby="twei-personhood-title">
    <h2 id="twei-personhood-title">Earning here needs proof that you are a person</h2>
    <p data-testid="personhood-needed">
      This site pays Twei only to accounts it knows belong to a person, so that bots cannot collect the rewards. Your
      account has no such proof yet: reading, votes and likes earn nothing until it does. Your reading time is still
      measured and kept, and your read is paid once you are verified.
    </p>
    ${
      p.siteAttests
        ? html`<div class="row">
            <button data-testid="attest" ?disabled=${v.busy} @click=${v.attest}>Verify I'm a person</button>
            <span class="muted"
              >The site records on the public chain that this account is one of its signed-in readers. Once, free of
              charge.</span
            >
          </div>`
        : html`<p class="muted">
            This site does not verify readers itself. It accepts a proof (an Ethereum Attestation Service attestation)
            from ${p.attesters.map(short).join(", ")}: get one there, then come back.
          </p>`
    }
    ${v.error ? html`<div class="banner" role="alert" data-testid="error">${v.error}</div>` : nothing}
  </section>`;
}

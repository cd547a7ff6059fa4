import { html } from "lit";

/** A round avatar coloured from the address, with the name's initial. */
export function avatar(address: string, name: string) {
  const hue = parseInt(address.slice(2, 6), 16) % 360;
  return html`<span class="avatar" style="background:hsl(${hue} 55% 45%)" aria-hidden="true"
    >${(name.trim()[0] ?? "?").toUpperCase()}</span
  >`;
}

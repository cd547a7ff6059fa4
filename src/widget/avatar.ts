import { html } from "lit";

/**
 * A round avatar coloured from the address, with the name's initial; an account with no name
 * (its name is its short address) gets a neutral person glyph rather than "0".
 */
export function avatar(address: string, name: string) {
  const hue = parseInt(address.slice(2, 6), 16) % 360;
  const initial = /^0x/i.test(name) ? "•" : (name.trim()[0] ?? "•").toUpperCase();
  return html`<span class="avatar" style="background:hsl(${hue} 55% 38%)" aria-hidden="true">${initial}</span>`;
}

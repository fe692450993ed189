/** The most characters of a name or a server reply that a message quotes. */
export const QUOTE_LIMIT = 80;

/**
 * A name or reply as messages quote it: whole up to QUOTE_LIMIT characters
 * (code points), else its first QUOTE_LIMIT and "…". A name can be as long
 * as a request line, and one message must stay one readable line.
 */
export function brief(text: string): string {
  if (text.length <= QUOTE_LIMIT) return text;
  let out = '';
  let n = 0;
  for (const ch of text) {
    if (n++ === QUOTE_LIMIT) return `${out}…`;
    out += ch;
  }
  return out;
}

/**
 * Public header (RFC 2326 §12.28): the methods the server supports, comma-separated.
 *   Public = "Public" ":" 1#method
 */

/** Methods upper-cased and trimmed; empty items (`OPTIONS,,PLAY,`) are skipped. */
export function parsePublic(value: string): Set<string> {
  const out = new Set<string>()
  for (const item of value.split(',')) {
    const method = item.trim().toUpperCase()
    if (method !== '') out.add(method)
  }
  return out
}

export function formatPublic(methods: Iterable<string>): string {
  return [...methods].join(', ')
}

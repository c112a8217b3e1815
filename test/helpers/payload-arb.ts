import fc from 'fast-check'

/**
 * RTP payloads for "random packets never throw" properties: a seed payload (from the
 * vectors) as is, anything up to 64 bytes, a seed with one byte changed, and, when `heads`
 * are given, one of those packet headers (aggregation, fragmentation, …) before random bytes.
 */
export function payloadArb(seeds: readonly Buffer[], heads: readonly number[][] = []): fc.Arbitrary<Buffer> {
  const arbs: fc.Arbitrary<Buffer>[] = [
    fc.constantFrom(...seeds),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(255)).map(([s, i, v]) => {
      const b = Buffer.from(s)
      if (b.length > 0) b[i % b.length] = v
      return b
    }),
  ]
  if (heads.length > 0) arbs.push(fc.tuple(fc.constantFrom(...heads), fc.uint8Array({ maxLength: 40 })).map(([t, b]) => Buffer.concat([Buffer.from(t), b])))
  return fc.oneof(...arbs)
}

import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import net from 'node:net'
import { once } from 'node:events'
import { slabReads } from '../../../src/rtsp/reader.js'

/** Bytes 0..n-1 of a pattern that never repeats at the slab sizes (a prime period). */
function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i / 251) | 0) & 0xff
  return b
}

describe('slabReads (socket onread into slabs)', () => {
  it('every chunk handed out stays intact after later reads, small writes and large', async () => {
    // Writes from 1 byte to 200 KiB, some paced so reads are small and some back to back so
    // reads fill what they are offered: the slab both grows and shrinks on the way.
    const sizes = [1, 7, 100, 1400, 3000, 70_000, 200_000, 10, 5000, 16_384, 65_536, 64, 2, 131_072, 1]
    const total = sizes.reduce((a, b) => a + b, 0)
    const data = pattern(total)
    const server = net.createServer(async (s) => {
      let off = 0
      for (const [i, n] of sizes.entries()) {
        s.write(data.subarray(off, off + n))
        off += n
        if (i % 3 === 0) await new Promise((r) => setTimeout(r, 5))
      }
      s.end()
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const chunks: Buffer[] = []
      const socket = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, onread: slabReads((c) => chunks.push(c)) })
      await once(socket, 'close')
      // Kept as views, not copied: a slab written twice would show here.
      assert.ok(chunks.length > 1)
      assert.ok(Buffer.concat(chunks).equals(data), 'the chunks, kept until the end, are the bytes sent')
      for (const c of chunks) assert.equal(c.byteOffset % 8, 0, 'chunks start 8-byte aligned')
    } finally {
      server.close()
    }
  })
})

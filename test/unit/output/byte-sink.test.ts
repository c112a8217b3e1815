import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openByteSink } from '../../../src/output/byte-sink.js'
import { OutputError } from '../../../src/errors.js'

describe('openByteSink (a file path)', () => {
  it('writes every chunk in order, calls each written callback once, in order, and closes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtspkit-sink-'))
    try {
      const path = join(dir, 'out.bin')
      const sink = await openByteSink(path)
      const expected: Buffer[] = []
      const calls: number[] = []
      const pending: Array<Promise<void>> = []
      for (let i = 0; i < 200; i++) {
        // Small and large chunks, so that some writes wait and some are queued behind a writev in flight.
        const a = Buffer.alloc(i % 7 === 0 ? 100_000 : 10 + i, i & 0xff)
        const b = Buffer.from([i & 0xff, 0, 0, 1])
        expected.push(a, b)
        const p = i % 3 === 0 ? sink.write(Buffer.concat([a, b])) : sink.writev([a, Buffer.alloc(0), b], () => calls.push(i))
        pending.push(p)
        if (i % 5 === 0) await p
      }
      await Promise.all(pending)
      await sink.close()
      const want = Buffer.concat(expected)
      assert.equal(sink.bytesWritten, want.length)
      assert.deepEqual(await readFile(path), want)
      assert.deepEqual(calls, [...Array(200).keys()].filter((i) => i % 3 !== 0))
      await assert.rejects(sink.write(Buffer.from([1])), (err: unknown) => err instanceof OutputError && /already closed/.test(err.message))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('reports a failed write as an OutputError and still calls the written callback', { skip: !existsSync('/dev/full') }, async () => {
    const sink = await openByteSink('/dev/full')
    let called = 0
    await assert.rejects(sink.writev([Buffer.alloc(64 * 1024)], () => called++), (err: unknown) => err instanceof OutputError && /writing to \/dev\/full failed/.test(err.message))
    assert.equal(called, 1)
    await assert.rejects(sink.close(), OutputError)
  })
})

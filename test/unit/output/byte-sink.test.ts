import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openByteSink, type ByteSinkOptions } from '../../../src/output/byte-sink.js'
import { OutputError } from '../../../src/errors.js'

/**
 * `count` frames of a chunk of `sizeOf(i)` bytes and a 4-byte one, every third as one write and
 * the others as a writev with an empty chunk between and a written callback; some awaited, the
 * rest in flight together. Then: the file holds them in order, every callback ran once in order,
 * and a write after close is refused.
 */
async function writesInOrder(opts: ByteSinkOptions, count: number, sizeOf: (i: number) => number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-sink-'))
  try {
    const path = join(dir, 'out.bin')
    const sink = await openByteSink(path, opts)
    const expected: Buffer[] = []
    const calls: number[] = []
    const pending: Array<Promise<void>> = []
    for (let i = 0; i < count; i++) {
      const a = Buffer.alloc(sizeOf(i), i & 0xff)
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
    assert.deepEqual(calls, [...Array(count).keys()].filter((i) => i % 3 !== 0))
    await assert.rejects(sink.write(Buffer.from([1])), (err: unknown) => err instanceof OutputError && /already closed/.test(err.message))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe('openByteSink (a file path)', () => {
  it('writes every chunk in order, calls each written callback once, in order, and closes', async () => {
    // Small and large chunks, so that some writes wait and some are queued behind a writev in flight.
    await writesInOrder({}, 200, (i) => (i % 7 === 0 ? 100_000 : 10 + i))
  })

  it('reports a failed write as an OutputError and still calls the written callback', { skip: !existsSync('/dev/full') }, async () => {
    const sink = await openByteSink('/dev/full')
    let called = 0
    await assert.rejects(sink.writev([Buffer.alloc(64 * 1024)], () => called++), (err: unknown) => err instanceof OutputError && /writing to \/dev\/full failed/.test(err.message))
    assert.equal(called, 1)
    await assert.rejects(sink.close(), OutputError)
  })
})

describe('openByteSink (a file path, coalesce)', () => {
  it('writes every chunk in order, calls each written callback once, in order, and writes what it holds on close', async () => {
    // Small and large chunks (some over the hold size and the high-water mark), empty ones among them.
    await writesInOrder({ coalesce: true }, 300, (i) => (i % 50 === 0 ? 9_000_000 : i % 7 === 0 ? 300_000 : 10 + i))
  })

  it('writes held chunks without close (the hold ends on its own) and calls their callbacks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtspkit-sink-'))
    try {
      const path = join(dir, 'out.bin')
      const sink = await openByteSink(path, { coalesce: true })
      const chunk = Buffer.from('held, not forgotten')
      await new Promise<void>((resolve) => void sink.writev([chunk], resolve))
      assert.deepEqual(await readFile(path), chunk)
      await sink.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a write that reaches the high-water mark waits until everything is written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtspkit-sink-'))
    try {
      const path = join(dir, 'out.bin')
      const sink = await openByteSink(path, { coalesce: true })
      let written = 0
      await sink.writev([Buffer.alloc(100, 1)], () => written++)
      assert.equal(written, 0) // held: below the hold size
      await sink.writev([Buffer.alloc(16 * 1024 * 1024, 2)], () => written++)
      assert.equal(written, 2)
      assert.equal((await readFile(path)).length, 100 + 16 * 1024 * 1024)
      await sink.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a failed write is an OutputError on a later write and on close; every written callback runs', { skip: !existsSync('/dev/full') }, async () => {
    const sink = await openByteSink('/dev/full', { coalesce: true })
    let called = 0
    // Below the high-water mark: accepted, the failure comes later.
    await sink.writev([Buffer.alloc(64 * 1024)], () => called++)
    await assert.rejects(sink.close(), (err: unknown) => err instanceof OutputError && /writing to \/dev\/full failed/.test(err.message))
    assert.equal(called, 1)
    await assert.rejects(sink.write(Buffer.from([1])), OutputError)
  })

  it('a write after a failed one rejects with the failure', { skip: !existsSync('/dev/full') }, async () => {
    const sink = await openByteSink('/dev/full', { coalesce: true })
    // Over the high-water mark: written at once and waited for, so it fails here.
    await assert.rejects(sink.writev([Buffer.alloc(16 * 1024 * 1024)]), (err: unknown) => err instanceof OutputError && /\/dev\/full/.test(err.message))
    await assert.rejects(sink.writev([Buffer.alloc(10)]), (err: unknown) => err instanceof OutputError && /\/dev\/full/.test(err.message))
    await assert.rejects(sink.close(), OutputError)
  })
})

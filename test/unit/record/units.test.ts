import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkPattern, formatName, hasTimeConversion, staticDirectory } from '../../../src/record/strftime.js'
import { parseDuration, parseSize } from '../../../src/record/units.js'
import { segmentsToDelete } from '../../../src/record/retention.js'
import { scanFragmentedMp4 } from '../../../src/record/fmp4-repair.js'
import { InvalidArgumentError } from '../../../src/errors.js'

test('strftime names: %Y %m %d %H %M %S %f %j %s %%, UTC', () => {
  const ms = Date.UTC(2026, 1, 3, 4, 5, 6, 78)
  assert.equal(formatName('rec/%Y-%m-%d_%H-%M-%S.%f.mp4', ms, true), 'rec/2026-02-03_04-05-06.078.mp4')
  assert.equal(formatName('%j %s 100%%', ms, true), `034 ${Math.floor(ms / 1000)} 100%`)
  assert.equal(formatName('%z', ms, true), '+0000')
  assert.throws(() => checkPattern('rec/%Q.mp4'), InvalidArgumentError)
  assert.throws(() => checkPattern('rec/50%'), InvalidArgumentError)
  checkPattern('rec/%Y/%m/%d-%H%M%S-%f.ts')
  assert.equal(hasTimeConversion('a/%%.mp4'), false)
  assert.equal(hasTimeConversion('a/%S.mp4'), true)
})

test('index.jsonl goes in the directory before the first conversion', () => {
  assert.equal(staticDirectory('rec/cam1/%Y-%m-%d.mp4'), 'rec/cam1')
  assert.equal(staticDirectory('rec/%Y/%m/%d.mp4'), 'rec')
  assert.equal(staticDirectory('%Y.mp4'), '.')
  assert.equal(staticDirectory('/var/rec/%Y.mp4'), '/var/rec')
})

test('durations and sizes', () => {
  assert.equal(parseDuration('x', '10m'), 600)
  assert.equal(parseDuration('x', '7d'), 604800)
  assert.equal(parseDuration('x', '1.5h'), 5400)
  assert.equal(parseDuration('x', '500ms'), 0.5)
  assert.equal(parseDuration('x', '30'), 30)
  assert.equal(parseDuration('x', 2), 2)
  for (const bad of ['', '0s', '-1m', '10x', 'm']) assert.throws(() => parseDuration('--segment', bad), /--segment must be a positive duration/)
  assert.equal(parseSize('x', '50GB'), 50e9)
  assert.equal(parseSize('x', '1GiB'), 1024 ** 3)
  assert.equal(parseSize('x', '1.5mb'), 1.5e6)
  assert.equal(parseSize('x', '4096'), 4096)
  for (const bad of ['', '0GB', '5XB', 'GB']) assert.throws(() => parseSize('--max-size', bad), /--max-size must be a positive size/)
})

test('retention: oldest first, by age and by total size; the open segment counts but is never chosen', () => {
  const segs = [
    { file: 'a', bytes: 100, closedAt: 1000 },
    { file: 'b', bytes: 100, closedAt: 2000 },
    { file: 'c', bytes: 100, closedAt: 3000 },
  ]
  assert.deepEqual(segmentsToDelete(segs, { keepS: 1.5 }, 3600).map((s) => s.file), ['a', 'b'])
  assert.deepEqual(segmentsToDelete(segs, { maxBytes: 250 }, 0).map((s) => s.file), ['a'])
  assert.deepEqual(segmentsToDelete(segs, { maxBytes: 250 }, 0, 100).map((s) => s.file), ['a', 'b'])
  assert.deepEqual(segmentsToDelete(segs, { maxBytes: 10 }, 0, 1000).map((s) => s.file), ['a', 'b', 'c'])
  assert.deepEqual(segmentsToDelete(segs, {}, 1e12), [])
})

/** ftyp, moov, then moof+mdat pairs of the given payload sizes. */
function fakeFmp4(fragments: number[]): { bytes: Buffer; ends: number[] } {
  const box = (type: string, n: number): Buffer => {
    const b = Buffer.alloc(8 + n)
    b.writeUInt32BE(8 + n, 0)
    b.write(type, 4, 'latin1')
    return b
  }
  const parts = [box('ftyp', 16), box('moov', 100)]
  const ends: number[] = [116 + 16]
  let len = 132
  for (const n of fragments) {
    parts.push(box('moof', 40), box('mdat', n))
    len += 48 + 8 + n
    ends.push(len)
  }
  return { bytes: Buffer.concat(parts), ends }
}

test('repair keeps the header and every whole fragment, whatever the cut; a header without a fragment is nothing to keep', async () => {
  const { bytes, ends } = fakeFmp4([500, 300, 700])
  for (let cut = 0; cut <= bytes.length; cut += 7) {
    const view = bytes.subarray(0, cut)
    const r = await scanFragmentedMp4(async (pos, len) => view.subarray(pos, pos + len), cut)
    const expected = cut < ends[1]! ? 0 : ends.filter((e) => e <= cut).at(-1)!
    assert.equal(r.end, expected, `cut at ${cut}`)
  }
  const whole = await scanFragmentedMp4(async (pos, len) => bytes.subarray(pos, pos + len), bytes.length)
  assert.deepEqual(whole, { end: bytes.length, fragments: 3 })
})

/**
 * LivePath, the producer behind LiveMedia: frames depacketized once from the server's stream,
 * the GOP cache replayed to a late viewer from its key frame, one timeline for all tracks, and
 * a camera the server pulls on demand, opened by the first viewer and closed after the last.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { RtspServer } from '../../../src/server/index.js'
import type { LiveFrame } from '../../../src/http/live-media.js'

const SAMPLE = new URL('../../../assets/sample.mp4', import.meta.url).pathname
let camera: RtspServer
let server: RtspServer

before(async () => {
  camera = new RtspServer({ port: 0 })
  await camera.addFile('cam', SAMPLE)
  await camera.listen()
  server = new RtspServer({ port: 0 })
  await server.addFile('file', SAMPLE)
  await server.listen()
})
after(async () => {
  await server.close()
  await camera.close()
})

function collect(n: number, subscribe: (v: { frame(f: LiveFrame): void }) => () => void): Promise<LiveFrame[]> {
  return new Promise((resolve) => {
    const frames: LiveFrame[] = []
    let stop: () => void = () => {}
    stop = subscribe({
      frame(f) {
        frames.push(f)
        if (frames.length === n) {
          queueMicrotask(() => stop()) // may come during subscribe (the cache replay)
          resolve(frames)
        }
      },
    })
  })
}

test('frames once per path: a late viewer starts at the cached key frame, on the same timeline', { timeout: 20_000 }, async () => {
  const media = server.httpSide().hub.media('file')!
  assert.deepEqual(media.tracks().map((t) => t.codec), ['H264', 'AAC'])
  const first = await collect(90, (v) => media.subscribe(v))
  const late = await collect(5, (v) => media.subscribe(v))
  assert.equal(late[0]!.track, 0)
  assert.equal(late[0]!.keyFrame, true)
  const video = first.filter((f) => f.track === 0)
  // Shared objects: the late viewer's first frames are the cache, not copies.
  assert.ok(late.every((f) => first.includes(f) || f.pts > video[video.length - 1]!.pts - 1))
  // pts: one timeline, increasing per track, audio within a frame or two of video.
  for (const track of [0, 1]) {
    const pts = first.filter((f) => f.track === track).map((f) => f.pts)
    for (let i = 1; i < pts.length; i++) assert.ok(pts[i]! > pts[i - 1]!, `track ${track} pts increase`)
  }
  const firstAudio = first.find((f) => f.track === 1)!
  const nearVideo = video.reduce((a, b) => (Math.abs(b.pts - firstAudio.pts) < Math.abs(a.pts - firstAudio.pts) ? b : a))
  assert.ok(Math.abs(nearVideo.pts - firstAudio.pts) < 0.1)
  assert.ok(video.slice(1).every((f) => Math.abs((f.duration ?? 0) - 1 / 25) < 0.02 || Math.abs((f.duration ?? 0) - 1 / 30) < 0.02))
})

test('on demand: the first viewer opens the camera, the last one closes it after lingerMs + closeAfterMs, the next reopens', { timeout: 30_000 }, async () => {
  const onDemand = new RtspServer({ port: 0 })
  await onDemand.listen()
  try {
    const hub = onDemand.httpSide({ lingerMs: 300 }).hub
    await onDemand.addPull('door', camera.url('cam'), { transport: 'tcp', onDemand: true, closeAfterMs: 300 })
    assert.equal(onDemand.liveStream('door'), undefined)
    const media = hub.media('door')!
    assert.deepEqual(media.tracks(), [])
    const frames = await collect(10, (v) => media.subscribe(v))
    assert.equal(frames[0]!.keyFrame, true)
    assert.ok(onDemand.liveStream('door'))
    assert.deepEqual(media.tracks().map((t) => t.codec), ['H264', 'AAC'])
    const deadline = Date.now() + 5000
    while (onDemand.liveStream('door') !== undefined) {
      assert.ok(Date.now() < deadline, 'the camera was never closed')
      await new Promise((r) => setTimeout(r, 50))
    }
    const again = await collect(3, (v) => hub.media('door')!.subscribe(v))
    assert.equal(again.length, 3)
  } finally {
    await onDemand.close()
  }
})

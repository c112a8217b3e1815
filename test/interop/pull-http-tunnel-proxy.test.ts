/**
 * RTSP over HTTP through an HTTP proxy and over https (issue #16), against GStreamer's RTSP
 * server (it tunnels on its RTSP port): plain tunnels go to the proxy as absolute-URI GET and
 * POST, https tunnels through CONNECT to a TLS front (self-signed, from openssl) before
 * GStreamer; through a proxy of the test's own (which records what it is asked) and through
 * Debian's tinyproxy. The proxy's password is never in an error, a diagnostics message or the CLI's
 * output; the CLI's recording is checked with ffprobe and ffmpeg.
 */
import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RtspClient } from '../../src/client/client.js'
import type { PullSession } from '../../src/client/pull-session.js'
import { DIAGNOSTICS_CHANNELS } from '../../src/diagnostics.js'
import { ConnectError, InvalidArgumentError } from '../../src/errors.js'
import { runCli } from '../helpers/cli.js'
import { startGstServer, type GstServer } from '../helpers/gst-server.js'
import { decodeErrors, ffprobeFile, streamsOf } from '../helpers/media-check.js'
import { selfSignedCert, startHttpProxy, startTinyproxy, startTlsFront, type SelfSignedCert, type TestProxy, type TlsFront } from '../helpers/tunnel-peers.js'

const PROXY_USER = 'proxy-user'
const PROXY_PASSWORD = 'prx-pw-5519'

let gst: GstServer
let proxy: TestProxy
let cert: SelfSignedCert
let front: TlsFront

before(async () => {
  cert = await selfSignedCert()
  ;[gst, proxy] = await Promise.all([startGstServer(), startHttpProxy({ user: PROXY_USER, password: PROXY_PASSWORD })])
  front = await startTlsFront(cert, gst.port)
})

after(async () => {
  await Promise.all([gst?.stop(), proxy?.stop(), front?.stop()])
  await cert?.dispose()
})

/** The same mount over rtsps:// at the TLS front (GStreamer's credentials kept). */
const rtspsUrl = (path: string): string => gst.url(path).replace(/^rtsp:\/\/(.*)127\.0\.0\.1:\d+/, `rtsps://$1127.0.0.1:${front.port}`)

/** Frames until `video` pictures arrived; checks both tracks came. */
async function expectMedia(session: PullSession, video = 30): Promise<void> {
  let v = 0
  let a = 0
  let firstKey: boolean | undefined
  for await (const f of session.frames()) {
    if (f.track.type === 'video') {
      firstKey ??= f.keyFrame
      if (++v >= video) break
    } else a++
  }
  assert.equal(firstKey, true)
  assert.ok(a > 10, `${a} audio frames`)
}

/** Everything published on the diagnostics channels while `fn` runs, as one string. */
async function diagnosticsDuring(fn: () => Promise<void>): Promise<string> {
  const seen: string[] = []
  const record = (m: unknown): void => {
    seen.push(JSON.stringify(m))
  }
  const names = Object.values(DIAGNOSTICS_CHANNELS)
  for (const n of names) diagnosticsChannel.subscribe(n, record)
  try {
    await fn()
  } finally {
    for (const n of names) diagnosticsChannel.unsubscribe(n, record)
  }
  return seen.join('\n')
}

describe('the HTTP tunnel through an HTTP proxy and over https', { timeout: 60_000 }, () => {
  it('rtsp:// through the proxy: absolute-URI GET and POST with Basic credentials; transport http by default', async () => {
    const from = proxy.requests.length
    let session: PullSession | undefined
    const published = await diagnosticsDuring(async () => {
      session = await new RtspClient().pull(gst.url('/h264aac'), { proxy: proxy.url(PROXY_USER, PROXY_PASSWORD) })
      try {
        assert.deepEqual(session.tracks.map((t) => t.transport.protocol), ['tcp', 'tcp'])
        assert.match(session.transport?.reason ?? '', /HTTP proxy/)
        await expectMedia(session)
      } finally {
        await session.close()
      }
    })
    const seen = proxy.requests.slice(from)
    const target = `http://127.0.0.1:${gst.port}/h264aac`
    assert.deepEqual(seen.map((r) => `${r.method} ${r.target}`), [`GET ${target}`, `POST ${target}`])
    const basic = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')}`
    assert.ok(seen.every((r) => r.authorization === basic))
    assert.ok(published.includes('DESCRIBE'), 'the RTSP requests were published')
    assert.doesNotMatch(published, new RegExp(`${PROXY_PASSWORD}|${basic.slice(6)}`))
  })

  it('rtsps:// (https tunnel): TLS to the camera, certificate checked against the given CA', async () => {
    const session = await new RtspClient().pull(rtspsUrl('/h264aac'), { transport: 'http', tls: { ca: cert.cert } })
    try {
      await expectMedia(session)
    } finally {
      await session.close()
    }
    await assert.rejects(new RtspClient().pull(rtspsUrl('/h264aac'), { transport: 'http', timeoutMs: 5000 }), (err: unknown) => {
      assert.ok(err instanceof ConnectError, String(err))
      assert.match(err.message, /TLS certificate not trusted.*--ca FILE/)
      return true
    })
  })

  it('rtsps:// through the proxy: CONNECT to the camera, TLS inside it', async () => {
    const from = proxy.requests.length
    const session = await new RtspClient({ tls: { ca: cert.cert } }).pull(rtspsUrl('/h264aac'), { transport: 'http', proxy: proxy.url(PROXY_USER, PROXY_PASSWORD) })
    try {
      await expectMedia(session)
    } finally {
      await session.close()
    }
    assert.deepEqual(proxy.requests.slice(from).map((r) => `${r.method} ${r.target}`), [`CONNECT 127.0.0.1:${front.port}`, `CONNECT 127.0.0.1:${front.port}`])
  })

  it('through tinyproxy (a real HTTP proxy): rtsp:// as absolute-URI GET/POST, rtsps:// through CONNECT', async () => {
    const tiny = await startTinyproxy({ user: 'tp-user', password: 'tp-pw-3301' }, [front.port])
    try {
      for (const [url, tlsOptions] of [
        [gst.url('/h264aac'), undefined],
        [rtspsUrl('/h264aac'), { ca: cert.cert }],
      ] as const) {
        const session = await new RtspClient().pull(url, { proxy: tiny.url('tp-user', 'tp-pw-3301'), ...(tlsOptions ? { tls: tlsOptions } : {}) })
        try {
          await expectMedia(session)
        } finally {
          await session.close()
        }
      }
      // tinyproxy answers wrong credentials with 401, not 407: still the proxy's refusal, both ways.
      for (const [url, tlsOptions] of [
        [gst.url('/h264aac'), undefined],
        [rtspsUrl('/h264aac'), { ca: cert.cert }],
      ] as const) {
        await assert.rejects(new RtspClient().pull(url, { proxy: tiny.url('tp-user', 'wrong-pw-77'), timeoutMs: 5000, ...(tlsOptions ? { tls: tlsOptions } : {}) }), (err: unknown) => {
          assert.ok(err instanceof ConnectError, String(err))
          assert.equal(err.port, tiny.port)
          assert.match(err.message, /HTTP proxy refused its credentials.*401 Unauthorized/)
          assert.doesNotMatch(err.message, /wrong-pw-77/)
          return true
        })
      }
    } finally {
      await tiny.stop()
    }
  })

  it('a proxy that refuses the credentials: ConnectError naming the proxy, never the password (both ways)', async () => {
    const wrong = 'not-the-pw-8812'
    for (const [url, tlsOptions] of [
      [gst.url('/h264aac'), undefined],
      [rtspsUrl('/h264aac'), { ca: cert.cert }],
    ] as const) {
      await assert.rejects(new RtspClient().pull(url, { proxy: proxy.url(PROXY_USER, wrong), timeoutMs: 5000, ...(tlsOptions ? { tls: tlsOptions } : {}) }), (err: unknown) => {
        assert.ok(err instanceof ConnectError, String(err))
        assert.equal(err.port, proxy.port)
        assert.match(err.message, /HTTP proxy refused its credentials.*407/)
        assert.doesNotMatch(`${err.message} ${err.stack}`, new RegExp(wrong))
        return true
      })
    }
    await assert.rejects(new RtspClient().pull(gst.url('/h264aac'), { proxy: proxy.url(), timeoutMs: 5000 }), /HTTP proxy wants credentials.*http:\/\/user:pass@host:port/)
  })

  it('options: the proxy is an http:// URL (never quoted back) and goes with transport http', async () => {
    assert.throws(() => new RtspClient({ proxy: 'socks5://u:hidden-pw@127.0.0.1:1080' }), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError)
      assert.match(err.message, /option proxy must be an http:\/\/ URL .*, not a string$/)
      assert.doesNotMatch(err.message, /hidden-pw/)
      return true
    })
    await assert.rejects(new RtspClient().pull(gst.url('/h264aac'), { proxy: proxy.url(), transport: 'udp' }), /option proxy goes with transport 'http'/)
  })

  it('rtspkit pull rtsps://… --proxy …: a playable recording; the proxy password appears nowhere in -v output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtspkit-proxy-'))
    try {
      const out = join(dir, 'out.mp4')
      const r = await runCli(['pull', rtspsUrl('/h264aac'), '-o', out, '--duration', '2', '--ca', cert.certPath, '--proxy', proxy.url(PROXY_USER, PROXY_PASSWORD), '-v'], { timeoutMs: 40_000 })
      assert.equal(r.code, 0, r.stderr)
      assert.doesNotMatch(`${r.stdout}\n${r.stderr}`, new RegExp(PROXY_PASSWORD))
      assert.match(r.stderr, /HTTP proxy/)
      const probe = await ffprobeFile(out)
      assert.equal(streamsOf(probe, 'video')[0]?.codec_name, 'h264')
      assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac')
      assert.equal(await decodeErrors(out), '')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

/**
 * Issue 11: options are validated at the call. Every public entry point (new RtspClient,
 * pull, supervise, push) throws RTSP_ERR_INVALID_ARGUMENT, naming the option and what it
 * must be, before any connection is made (a listener on the port counts connections).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { InvalidArgumentError, RtspClient } from '../../../src/index.js'
import { validateOptions } from '../../../src/client/options.js'

let server: net.Server
let connections = 0
let url: string
before(async () => {
  server = net.createServer((s) => {
    connections++
    s.destroy()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `rtsp://127.0.0.1:${(server.address() as net.AddressInfo).port}/stream`
})
after(() => new Promise<void>((r) => server.close(() => r())))

const video = [{ type: 'video' as const, codec: 'H264', details: { sps: Buffer.from('6742c00dd90141fb0110000003001000000303c0f142a480', 'hex'), pps: Buffer.from('68cb83cb20', 'hex') } }]

/** The error is typed, has the code, and its one-line message matches `pattern`. */
function invalid(pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof InvalidArgumentError, `got ${String(e)}`)
    assert.equal(e.code, 'RTSP_ERR_INVALID_ARGUMENT')
    assert.match(e.message, pattern)
    assert.ok(!e.message.includes('\n'))
    return true
  }
}

describe('options validated at the call, before connecting', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["transport: 'quic'", { transport: 'quic' }, /option transport must be one of 'auto', 'tcp', 'udp', 'http', 'multicast', not 'quic'/],
    ['negative timeoutMs', { timeoutMs: -1 }, /option timeoutMs must be a positive number of milliseconds, not -1/],
    ['NaN readTimeoutMs', { readTimeoutMs: Number.NaN }, /option readTimeoutMs must be a positive number of milliseconds, not NaN/],
    ['Infinity timeoutMs', { timeoutMs: Number.POSITIVE_INFINITY }, /option timeoutMs/],
    ['string timeoutMs', { timeoutMs: '5000' }, /option timeoutMs must be .*, not '5000'/],
    ['negative teardownTimeoutMs', { teardownTimeoutMs: -5 }, /option teardownTimeoutMs must be a number of milliseconds, 0 or more/],
    ['frameQueueSize 0', { frameQueueSize: 0 }, /option frameQueueSize must be a positive integer, not 0/],
    ['reorder.maxPackets 1.5', { reorder: { maxPackets: 1.5 } }, /option reorder.maxPackets must be an integer from 1 to 32766, not 1.5/],
    ['reorder: true', { reorder: true }, /option reorder must be false or an object, not true/],
    ['userAgent with CRLF', { userAgent: 'x\r\nX-Evil: 1' }, /option userAgent must be a string without line breaks/],
    ['signal not an AbortSignal', { signal: {} }, /option signal must be an AbortSignal, not an object/],
    ['credentials.password a number (never echoed)', { credentials: { username: 'u', password: 1234 } }, /option credentials.password must be a string, not a number$/],
    ['maxRedirects -1', { maxRedirects: -1 }, /option maxRedirects must be an integer, 0 or more, not -1/],
  ]
  for (const [name, options, pattern] of cases) {
    it(`pull(): ${name}`, async () => {
      await assert.rejects(new RtspClient().pull(url, options), invalid(new RegExp(`^pull\\(\\): ${pattern.source}`)))
    })
  }
  it('supervise(): the pull options and reconnect', async () => {
    await assert.rejects(new RtspClient().supervise(url, { transport: 'quic' as never }), invalid(/^supervise\(\): option transport must be one of/))
    await assert.rejects(new RtspClient().supervise(url, { reconnect: { initialDelayMs: -1 } }), invalid(/option reconnect.initialDelayMs must be a positive number/))
    await assert.rejects(new RtspClient().supervise(url, { reconnect: { maxAttempts: -2 } }), invalid(/option reconnect.maxAttempts must be an integer, 0 or more, or Infinity/))
  })
  it('push(): its own allowed values', async () => {
    await assert.rejects(new RtspClient().push(url, video, { transport: 'auto' as never }), invalid(/^push\(\): option transport must be one of 'tcp', 'udp', not 'auto'/))
    await assert.rejects(new RtspClient().push(url, video, { overflow: 'block' as never }), invalid(/option overflow must be one of 'drop', 'error', not 'block'/))
    await assert.rejects(new RtspClient().push(url, video, { mtu: 20 }), invalid(/option mtu must be an integer from 100 to 65507, not 20/))
    await assert.rejects(new RtspClient().push(url, video, { timeoutMs: -1 }), invalid(/option timeoutMs/))
    await assert.rejects(new RtspClient().push(url, [], {}), invalid(/tracks must be a non-empty array/))
  })
  it('new RtspClient(): client-wide defaults', () => {
    assert.throws(() => new RtspClient({ transport: 'quic' as never }), invalid(/^new RtspClient\(\): option transport must be one of 'auto', 'tcp', 'udp', 'http', 'multicast', not 'quic'/))
    assert.throws(() => new RtspClient({ timeoutMs: -1 }), invalid(/option timeoutMs/))
    assert.throws(() => new RtspClient({ signal: new AbortController().signal } as never), invalid(/option signal belongs to each call/))
  })
  it('a URL that is not rtsp:// or rtsps://, or not a string, on every entry point', async () => {
    const c = new RtspClient()
    await assert.rejects(c.pull('http://u:secret@cam/x'), (e) => invalid(/^pull\(\): url must be rtsp:\/\/ or rtsps:\/\//)(e) && !(e as Error).message.includes('secret'))
    await assert.rejects(c.supervise('cam/stream'), invalid(/^supervise\(\): url must be rtsp/))
    await assert.rejects(c.push('udp://cam/x', video), invalid(/^push\(\): url must be rtsp/))
    await assert.rejects(c.pull(42 as never), invalid(/url must be a string/))
  })
  it('nothing connected for any of the above', () => {
    assert.equal(connections, 0)
  })
  it('valid options pass; undefined means default; unknown keys are left alone', () => {
    validateOptions('pull', { transport: 'auto', timeoutMs: 1, reorder: false, extra: 'x', readTimeoutMs: undefined })
    validateOptions('push', { transport: 'udp', overflow: 'error', mtu: 1400 })
    validateOptions('supervise', { reconnect: { maxAttempts: Number.POSITIVE_INFINITY } })
    assert.throws(() => validateOptions('pull', 'tcp'), invalid(/options must be an object, not 'tcp'/))
  })
})

// How RtspConnection matches replies whose CSeq names no live request.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startFakeServer, formatResponse } from '../../helpers/fake-rtsp-server.js'
import { RtspConnection } from '../../../src/client/connection.js'
import { TimeoutError } from '../../../src/index.js'

async function connect(port: number, timeoutMs = 2000): Promise<RtspConnection> {
  const conn = new RtspConnection({ host: '127.0.0.1', port, timeoutMs, userAgent: 'test' })
  await conn.connect()
  return conn
}

describe('RtspConnection: replies with a CSeq of no live request', () => {
  it('CSeq 0 (Hisilicon firmware) is taken for the one request outstanding', async () => {
    const server = await startFakeServer((_req, ctx) => ctx.reply(200, { CSeq: '0', 'X-Ok': 'yes' }))
    const conn = await connect(server.port)
    try {
      const res = await conn.request('OPTIONS', server.url())
      assert.equal(res.headers.get('X-Ok'), 'yes')
    } finally {
      conn.close()
      await server.stop()
    }
  })

  it('a late reply to a request that timed out is not taken for the next one', async () => {
    let lateCseq = ''
    const server = await startFakeServer((req, ctx) => {
      if (req.method === 'OPTIONS') {
        lateCseq = req.cseq // no reply now
        return
      }
      ctx.write(formatResponse(200, lateCseq, { 'X-For': 'OPTIONS' }))
      ctx.reply(200, { 'X-For': req.method })
    })
    const conn = await connect(server.port, 300)
    try {
      await assert.rejects(conn.request('OPTIONS', server.url()), TimeoutError)
      const res = await conn.request('DESCRIBE', server.url())
      assert.equal(res.headers.get('X-For'), 'DESCRIBE')
    } finally {
      conn.close()
      await server.stop()
    }
  })
})

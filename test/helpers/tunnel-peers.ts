/**
 * Peers for the RTSP-over-HTTP tests: a small HTTP proxy (node:http: CONNECT, and absolute-URI
 * requests forwarded as a proxy does, re-framed by Node's HTTP parser on both sides) that
 * records what it was asked, Debian's tinyproxy, a TLS front for a plain server (what an
 * https camera is), and a self-signed certificate from openssl. All on 127.0.0.1, stopped by
 * the test.
 */
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tls from 'node:tls'
import { freePort, isListening } from './net.js'

export interface ProxyRequest {
  method: string
  /** CONNECT: host:port; others: the absolute URI. */
  target: string
  /** The Proxy-Authorization the proxy got (undefined when none). */
  authorization: string | undefined
}

export interface TestProxy {
  port: number
  url(user?: string, password?: string): string
  /** Every request the proxy was asked, in order (refused ones too). */
  requests: ProxyRequest[]
  stop(): Promise<void>
}

/** An HTTP proxy that wants Basic `user:password` when given (else lets everyone through). */
export async function startHttpProxy(auth?: { user: string; password: string }): Promise<TestProxy> {
  const expected = auth === undefined ? undefined : `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`
  const requests: ProxyRequest[] = []
  const sockets = new Set<net.Socket>()
  const track = (s: net.Socket): void => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  }
  const allowed = (req: http.IncomingMessage): boolean => {
    const authorization = req.headers['proxy-authorization']
    requests.push({ method: req.method ?? '', target: req.url ?? '', authorization })
    return expected === undefined || authorization === expected
  }
  const server = http.createServer({ requestTimeout: 0 }, (req, res) => {
    if (!allowed(req)) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test"', Connection: 'close' }).end()
      return
    }
    const target = new URL(req.url ?? '')
    const headers = { ...req.headers }
    delete headers['proxy-authorization']
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: `${target.pathname}${target.search}`, headers })
    upstream.on('socket', (s) => {
      track(s)
      s.setNoDelay(true)
    })
    upstream.on('response', (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      res.flushHeaders()
      r.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    res.on('close', () => upstream.destroy())
    req.pipe(upstream)
  })
  server.on('connection', (s: net.Socket) => {
    track(s)
    s.setNoDelay(true)
  })
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    if (!allowed(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const [host, port] = splitHostPort(req.url ?? '')
    const upstream = net.connect({ host, port, noDelay: true }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    track(upstream)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    client.on('close', () => upstream.destroy())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    url: (user, password) => `http://${user !== undefined ? `${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@` : ''}127.0.0.1:${port}`,
    requests,
    async stop() {
      for (const s of sockets) s.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function splitHostPort(authority: string): [string, number] {
  const i = authority.lastIndexOf(':')
  return [authority.slice(0, i).replace(/^\[|\]$/g, ''), Number(authority.slice(i + 1))]
}

export interface SelfSignedCert {
  key: Buffer
  cert: Buffer
  /** The certificate's file, for `--ca`. */
  certPath: string
  dispose(): Promise<void>
}

/** A key and a self-signed certificate for 127.0.0.1 (subjectAltName IP), made by openssl. */
export async function selfSignedCert(): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-tls-'))
  const keyPath = join(dir, 'key.pem')
  const certPath = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' })
  return { key: readFileSync(keyPath), cert: readFileSync(certPath), certPath, dispose: () => rm(dir, { recursive: true, force: true }) }
}

export interface TlsFront {
  port: number
  stop(): Promise<void>
}

/** TLS on a port of its own, each connection piped in plain to `targetPort` (an https camera). */
export async function startTlsFront(cert: SelfSignedCert, targetPort: number): Promise<TlsFront> {
  const sockets = new Set<net.Socket>()
  const server = tls.createServer({ key: cert.key, cert: cert.cert }, (client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort, noDelay: true })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
    }
    client.setNoDelay(true)
    client.pipe(upstream).pipe(client)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  server.on('connection', (s: net.Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  // A handshake that fails (an untrusting client) is not the test's error.
  server.on('tlsClientError', () => {})
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as net.AddressInfo).port,
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export interface Tinyproxy {
  port: number
  url(user?: string, password?: string): string
  stop(): Promise<void>
}

/**
 * Debian's tinyproxy (a real HTTP proxy: absolute-URI requests, and CONNECT to `connectPorts`
 * only), wanting Basic `user:password`. Its config lives in a temp folder removed on stop.
 */
export async function startTinyproxy(auth: { user: string; password: string }, connectPorts: readonly number[]): Promise<Tinyproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-tinyproxy-'))
  const port = await freePort()
  const conf = join(dir, 'tinyproxy.conf')
  const root = process.getuid?.() === 0
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 600',
      'MaxClients 50',
      // As root it drops to an unprivileged user; it logs to stderr (-d, no LogFile).
      ...(root ? ['User nobody', 'Group nogroup'] : []),
      `BasicAuth ${auth.user} ${auth.password}`,
      ...connectPorts.map((p) => `ConnectPort ${p}`),
      'LogLevel Warning',
      '',
    ].join('\n'),
  )
  chmodSync(dir, 0o755)
  const child = spawn('tinyproxy', ['-d', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = once(child, 'exit')
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
    await rm(dir, { recursive: true, force: true })
  }
  for (let i = 0; !isListening(port); i++) {
    if (child.exitCode !== null || i > 200) {
      await stop()
      throw new Error(`tinyproxy did not listen on ${port}: ${stderr.trim()}`)
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  return {
    port,
    url: (user, password) => `http://${user !== undefined ? `${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@` : ''}127.0.0.1:${port}`,
    stop,
  }
}

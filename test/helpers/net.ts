/** Loopback ports for tests: a free one to hand a peer, and whether something listens on one. */
import { readFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'

/** A TCP port on 127.0.0.1 that was free a moment ago (opened on port 0 and closed). */
export async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as AddressInfo).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

/**
 * Whether a socket is in LISTEN on `port`, from /proc/net/tcp: never probe a listener such as
 * ffmpeg's with a connection (it takes the first connection as its publisher).
 */
export function isListening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0')
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').some((l) => {
    const f = l.trim().split(/\s+/)
    return f[1]?.endsWith(`:${hex}`) && f[3] === '0A'
  })
}

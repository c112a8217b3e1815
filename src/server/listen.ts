/** Binding the embedded server's sockets, with errors that say which option to change. */
import type * as net from 'node:net'
import { BindError } from '../errors.js'
import { bindRtpPortPair } from '../transport/udp.js'
import type { UdpPortPair } from '../transport/udp.js'

/** `server.listen(port, host)`: the port bound, or a BindError whose hint names `option`. */
export function listenTcp(server: net.Server, host: string, port: number, option: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new BindError({ protocol: 'tcp', host, port, reason: err.code ?? err.message, hint: `choose another ${option}`, cause: err }))
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve((server.address() as net.AddressInfo).port)
    })
  })
}

/** The server's UDP RTP/RTCP pair (shared by every UDP session): `rtpPort`, or a free even pair. */
export async function bindServerUdp(host: string, rtpPort: number | undefined): Promise<UdpPortPair> {
  try {
    return await bindRtpPortPair({
      host,
      filterSource: false,
      recvBufferSize: 4 * 1024 * 1024,
      ...(rtpPort !== undefined ? { minPort: rtpPort, maxPort: rtpPort + 1, attempts: 1 } : {}),
    })
  } catch (err) {
    // The client's advice (--transport tcp) means nothing to a server.
    if (!(err instanceof BindError)) throw err
    throw new BindError({
      protocol: 'udp',
      host: err.host,
      ...(err.port !== undefined ? { port: err.port } : err.range !== undefined ? { range: [err.range[0], err.range[1]], attempts: rtpPort !== undefined ? 1 : 64 } : {}),
      reason: err.reason,
      hint: rtpPort !== undefined ? 'choose another rtpPort' : 'check the host address',
      cause: err.cause,
    })
  }
}
